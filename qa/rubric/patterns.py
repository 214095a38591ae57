"""``LangMatcher``: every phrase set of one rubric in one language, matched in one pass per call:
plain phrases by spaCy's PhraseMatcher (on normal forms), token patterns by the
``AnchoredMatcher`` (``qa.rubric.anchored``). Phrases are parsed and compiled by ``qa.rubric.phrase``.

``QA_PLAIN_MATCHER=1`` matches the token patterns with spaCy's own Matcher instead (same matches,
slower): the reference path, measured against the anchored one by bench/throughput_calls.py."""

from __future__ import annotations

import os

import numpy as np
from spacy.matcher import Matcher, PhraseMatcher

from .anchored import AnchoredMatcher
from .nlp import LangNLP
from .phrase import CompiledPhrase


class LangMatcher:
    """All phrase sets of one rubric in one language: one Matcher + one PhraseMatcher pass per doc."""

    def __init__(self, nlp: LangNLP):
        self.nlp = nlp
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self.slot_keys: dict[str, list] = {}  # key -> [(match key, [slots to verify])]
        self._keys: dict[int, str] = {}
        self.slots: dict[str, int | None] = {}

        self._array_keys: set[str] = set()  # slot keys: their spans may be an array (see AnchoredMatcher)
        self._token_patterns: list[tuple[str, list]] = []  # (match key, specs): what self.matcher holds
        self._fast: AnchoredMatcher | None = None  # built on first use, from _token_patterns
        self.plain = os.environ.get("QA_PLAIN_MATCHER") == "1"  # spaCy's Matcher instead of the anchored one

    def _add_token_patterns(self, key: str, patterns: list) -> None:
        self.matcher.add(key, patterns)  # validates the patterns (spaCy's schema)
        self._token_patterns.extend((key, p) for p in patterns)
        self._fast = None

    def add_separately(self, key: str, phrases: list[CompiledPhrase]) -> None:
        """One match key per phrase (``key#name#i``), remembering where its <NAME> slot is."""
        for i, p in enumerate(phrases):
            k = f"{key}#name#{i}"
            self._keys[self.nlp.vocab.strings.add(k)] = k
            self._add_token_patterns(k, [p.specs])
            self.slots[k] = p.name_index

    def add(self, key: str, phrases: list[CompiledPhrase]) -> None:
        """The phrases of one set under one match key: plain ones to the PhraseMatcher, the others as
        token patterns (those with slots under ``key#SLOT+...``, checked per call)."""
        plain_docs = []
        pats = []
        slot_pats: dict[str, list] = {}
        for p in phrases:
            if p.plain:
                from spacy.tokens import Doc

                doc = Doc(self.nlp.vocab, words=list(p.norms))
                for t, n in zip(doc, p.norms):
                    t.norm_ = n  # token-level norm: the phrase is already normalised
                plain_docs.append(doc)
            elif p.slots:
                slot_pats.setdefault("+".join(p.slots), []).append(p.specs)
            else:
                pats.append(p.specs)
        h = self.nlp.vocab.strings.add(key)
        self._keys[h] = key
        if plain_docs:
            self.phrase_matcher.add(key, plain_docs)
        if pats:
            self._add_token_patterns(key, pats)
        for sig, sp in slot_pats.items():
            skey = f"{key}#{sig}"
            self._keys[self.nlp.vocab.strings.add(skey)] = skey
            self._add_token_patterns(skey, sp)
            self.slot_keys.setdefault(key, []).append((skey, sig.split("+")))
            self._array_keys.add(skey)

    def __call__(self, doc) -> dict[str, list[tuple[int, int]]]:
        """{key: [(start, end), ...]}; the spans of a slot key (``key#SLOT``, tested per call by
        ``CallContext.hits``) may be an (n, 2) array, in any order, possibly twice."""
        out: dict[str, list[tuple[int, int]]] = {}
        keys = self._keys
        if len(self.phrase_matcher):
            for mid, s, e in self.phrase_matcher(doc):
                out.setdefault(keys[mid], []).append((s, e))
        if not len(self.matcher):
            return out
        if self.plain:
            for mid, s, e in self.matcher(doc):
                out.setdefault(keys[mid], []).append((s, e))
            return out
        fast = self._fast
        if fast is None:
            from .nlp import _lock

            with _lock:  # adds strings and lexeme flags to the shared vocabulary
                fast = self._fast
                if fast is None:
                    fast = self._fast = AnchoredMatcher(self.nlp.vocab, self._token_patterns, self.nlp.stops)
        for k, spans in fast(doc, self._array_keys).items():
            if k not in out:
                out[k] = spans
            elif isinstance(spans, np.ndarray):
                out[k] = np.concatenate((np.asarray(out[k], dtype=np.int64).reshape(-1, 2), spans))
            else:
                out[k].extend(spans)
        return out
