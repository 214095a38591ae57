"""The two-stage model of the ``tfidf+e5`` feature set: a fast TF-IDF screen answers for every text,
the TF-IDF + e5 model again for the texts the screen finds likely (``Cascade``); ``make_model``
gives an unfitted model of the recipe, cascade or plain pipeline."""

from __future__ import annotations

from typing import Sequence

from .features import DEFAULT_FEATURES, BaseEstimator, ClassifierMixin, make_pipeline


class Cascade(ClassifierMixin, BaseEstimator):
    """Two fitted models of this module over the same labels: ``screen`` (TF-IDF, fast) answers for
    every text; ``full`` (TF-IDF + e5) answers again for the texts whose screen probability of
    ``positive`` is at least ``gate``, and its answer replaces the screen's. A text the screen puts
    below ``gate`` keeps the screen's probabilities (then below ``gate`` too), so with a rubric
    threshold above ``gate`` only the full model can make a turn pass. Each text's answer depends
    on that text alone (never on the other texts asked with it)."""

    def __init__(self, screen=None, full=None, gate: float = 0.2, positive: str = "yes"):
        self.screen = screen
        self.full = full
        self.gate = gate
        self.positive = positive

    @property
    def classes_(self):
        """The labels, in the order of the probability columns (the full model's)."""
        return self.full.classes_

    def fit(self, X, y):
        """Fit both the screen and the full model on all of the texts."""
        self.screen.fit(X, y)
        self.full.fit(X, y)
        return self

    def _pos(self, model) -> int:
        return [str(c) for c in model.classes_].index(self.positive)

    def combine(self, screen_probs, texts: Sequence[str]):
        """The cascade's probabilities, given the screen's for ``texts``."""
        import numpy as np

        out = np.array(screen_probs, dtype=float, copy=True)
        keep = np.flatnonzero(out[:, self._pos(self.screen)] >= self.gate)
        if len(keep):
            out[keep] = self.full.predict_proba([texts[i] for i in keep])
        return out

    def predict_proba(self, X):
        """Per text, the probability of each label (columns ``classes_``), as the class docstring says."""
        texts = list(X)
        return self.combine(self.screen.predict_proba(texts), texts)

    def predict(self, X):
        """Per text, the most probable label."""
        import numpy as np

        return np.asarray(self.classes_)[self.predict_proba(X).argmax(axis=1)]


def make_model(features: str = DEFAULT_FEATURES, gate: float | None = None, positive: str = "yes"):
    """An unfitted model of the recipe: a pipeline (``make_pipeline``), or with ``features`` ``tfidf+e5``
    and a ``gate``, a :class:`Cascade` whose TF-IDF screen spares the embedding of most turns."""
    if features == "tfidf+e5" and gate is not None:
        return Cascade(make_pipeline(features="tfidf"), make_pipeline(features="tfidf+e5"), gate=gate,
                       positive=positive)
    return make_pipeline(features=features)
