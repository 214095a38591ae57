"""Fast prediction for many texts and many models: ``fast_predict_proba`` gives the numbers of a
fitted TF-IDF + calibrated logistic regression pipeline's ``predict_proba``, computed directly,
with each text analysed once per analyser configuration for all the models that ask (``TextBatch``)."""

from __future__ import annotations

import os
import threading
from typing import Any, Sequence

from .cascade import Cascade
from .fastlinear import _decisions, _fast_parts, _indptr, _probabilities, _tfidf_counts  # noqa: F401

# ---- fast prediction for many texts and many models --------------------------------------------
#
# The models of ``features.make_pipeline`` all share one analyser configuration (word 1-2-grams,
# char_wb 2-5-grams, lower case). Scoring a call asks several of them about the same turns, so each text is analysed
# once per configuration (not once per model), the char_wb n-grams of a whitespace-separated word
# are remembered per word (they never cross whitespace), and the per-model work is a handful of
# array operations over the whole batch (``qa.learning.fastlinear``: the same numbers as sklearn's
# sparse matrix chain, bit for bit).

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
        """joint id -> ``vec``'s column (-1: not in its vocabulary), and whether the columns follow
        the joint order (sklearn numbers a fitted vocabulary in sorted order, as the joint one)."""
        got = self._maps.get(id(vec))
        if got is not None:
            return got[1], got[2]
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
        terms = vec.vocabulary_
        m[np.fromiter(map(self.vocab.__getitem__, terms), np.int64, len(terms))] = \
            np.fromiter(terms.values(), np.int64, len(terms))
        cols = m[m >= 0]
        got = self._maps[id(vec)] = (vec, m, bool(np.all(cols[1:] > cols[:-1])))
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

    def _joint(self, sa):
        """(vocab, (row, joint id, count) of every text, texts counted) for ``sa``,
        brought up to date: texts added since the last question are analysed, and only they."""
        import numpy as np

        got = self._counts.get(id(sa))
        n = len(self.texts)
        if got is None or got[0] is not sa.vocab or got[2] != n:
            if got is None or got[0] is not sa.vocab:
                r, g, c = sa.count(self.texts)
            else:  # texts added since: only those are analysed (a text's counts are its own)
                done = got[2]
                r, g, c = sa.count(self.texts[done:])
                r0, g0, c0 = got[1]
                r, g, c = np.concatenate((r0, r + done)), np.concatenate((g0, g)), np.concatenate((c0, c))
            got = self._counts[id(sa)] = (sa.vocab, (r, g, c), n)
        return got

    def entries(self, vec, rows):
        """(row, column, count) of ``vec``'s vocabulary in the texts ``rows`` (sorted, unique
        indices; rows renumbered 0..len(rows)-1), sorted by row then column, as the CSR matrix of
        ``counts`` holds them; None when ``vec``'s analyser cannot be shared."""
        import numpy as np

        sa = _shared(vec)
        if sa is None:
            return None
        cmap, in_order = sa.column_map(vec)
        r, g, c = self._joint(sa)[1]
        if len(rows) != len(self.texts):
            keep = np.zeros(len(self.texts), dtype=bool)
            keep[np.asarray(rows, dtype=np.int64)] = True
            newrow = np.cumsum(keep) - 1
            sel = keep[r]
            r, g, c = newrow[r[sel]], g[sel], c[sel]
        col = cmap[g]
        ok = col >= 0
        r, col, c = r[ok], col[ok], c[ok]
        if not in_order:
            order = np.lexsort((col, r))
            r, col, c = r[order], col[order], c[order]
        return r, col, c

    def counts(self, vec, rows):
        """Term counts of ``vec``'s vocabulary for the texts ``rows`` (sorted, unique indices):
        the CSR matrix ``vec._count_vocab`` builds, without its per-call overhead."""
        import numpy as np
        import scipy.sparse as sp

        got = self.entries(vec, rows)
        if got is None:
            return vec._count_vocab([self.texts[i] for i in rows], fixed_vocab=True)[1]
        r, col, c = got
        return sp.csr_matrix((c, col, _indptr(r, len(rows))), shape=(len(rows), len(vec.vocabulary_)))


def register(model) -> None:
    """Make ready the fast path of a loaded model: its analysers' joint vocabulary is extended by
    its n-grams now (a fixed cost of loading it) rather than at its first question, which would
    also empty the n-grams remembered per word for every model."""
    if isinstance(model, Cascade):
        model = model.screen
    with _LOCK:
        parts = _fast_parts(model)
        for vec in parts[0] if parts else ():
            sa = _shared(vec)
            if sa is not None:
                sa.column_map(vec)


def fast_predict_proba(model, texts: Sequence[str] | TextBatch, rows: Sequence[int] | None = None):
    """``model.predict_proba`` (an array, one row per text, columns ``model.classes_``) for this
    module's pipeline (TF-IDF union + sigmoid-calibrated logistic regression), computed directly:
    sklearn's per-call validation and dispatch cost far more than the arithmetic for a few turns.
    Same numbers (checked in tests). ``texts`` may be a :class:`TextBatch` shared by several models,
    and ``rows`` the indices of the texts wanted (default all). One question at a time per process
    (the joint vocabularies and per-word caches are shared, and a model being loaded extends them)."""
    with _LOCK:
        return _predict(model, texts, rows)


_LOCK = threading.RLock()


def _predict(model, texts, rows):
    import numpy as np
    import scipy.sparse as sp

    batch = texts if isinstance(texts, TextBatch) else TextBatch(texts)
    rows = list(range(len(batch.texts))) if rows is None else list(rows)
    if not rows:
        return np.zeros((0, len(model.classes_)))
    if isinstance(model, Cascade):
        screen = _predict(model.screen, batch, rows)
        return model.combine(screen, [batch.texts[i] for i in rows])
    parts = _fast_parts(model) if os.environ.get("QA_FAST_MODELS", "1") != "0" else None
    if parts is None:
        return model.predict_proba([batch.texts[i] for i in rows])
    vecs, ccs, k, joint = parts
    if rows != sorted(set(rows)):
        uniq = sorted(set(rows))
        where = {r: i for i, r in enumerate(uniq)}
        return _predict(model, batch, uniq)[[where[r] for r in rows]]
    n = len(rows)
    got = [batch.entries(v, rows) for v in vecs]
    if joint[5] is None or any(e is None for e in got):
        x = sp.hstack([_tfidf_counts(v, batch.counts(v, rows)) for v in vecs]).tocsr()
        d = np.hstack([np.asarray(x @ coef) for coef, _, _ in ccs])
    else:
        d = _decisions(joint, got, n)
    return _probabilities(d + joint[3], joint[4], len(ccs), k)
