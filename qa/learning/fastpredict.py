"""Fast prediction for many texts and many models: ``fast_predict_proba`` gives the numbers of a
fitted TF-IDF + calibrated logistic regression pipeline's ``predict_proba``, computed directly,
with each text analysed once per analyser configuration for all the models that ask (``TextBatch``)."""

from __future__ import annotations

import os
from typing import Any, Sequence

from .cascade import Cascade

# ---- fast prediction for many texts and many models --------------------------------------------
#
# The models of ``features.make_pipeline`` all share one analyser configuration (word 1-2-grams,
# char_wb 2-5-grams, lower case). Scoring a call asks several of them about the same turns, so each text is analysed
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
        """The analyser configuration of a TfidfVectorizer, as a hashable key; None when it cannot be
        shared (a callable analyser, preprocessor or tokenizer, another analyser or input)."""
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
_SHARED_BY_VEC: dict[int, tuple] = {}  # id(vec) -> (vec, its SharedAnalyser or None)


def _shared(vec) -> SharedAnalyser | None:
    # a fitted vectoriser's parameters do not change: its analyser is looked up once (get_params
    # costs more than counting a call's turns); the vectoriser is kept so that its id stays unique
    got = _SHARED_BY_VEC.get(id(vec))
    if got is not None and got[0] is vec:
        return got[1]
    k = SharedAnalyser.key(vec)
    sa = None
    if k is not None and hasattr(vec, "vocabulary_"):
        sa = _SHARED.get(k)
        if sa is None:
            sa = _SHARED[k] = SharedAnalyser(vec)
    _SHARED_BY_VEC[id(vec)] = (vec, sa)
    return sa


class TextBatch:
    """Texts to be classified by several models: each is analysed once per analyser configuration.
    Texts may be added later (``extend``): only those are analysed then."""

    def __init__(self, texts: Sequence[str] = ()):
        self.texts = list(texts)
        self._counts: dict[int, tuple] = {}

    def extend(self, texts: Sequence[str]) -> None:
        """Add texts to the batch; they are analysed when a model next asks for counts."""
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
