"""spaCy, offline, for it/de/fr/en: a blank tokenizer plus the lookup lemmas of spacy-lookups-data.

Speed matters (hundreds of calls a second on one core), so nothing runs per token in Python:
the normal form used for matching (lower case, lemma, accents folded) is written once per
*word type* into the vocabulary (``Lexeme.norm``), and spaCy's Matcher / PhraseMatcher match on
``NORM``. A word type the lemma table does not know (often an ASR misspelling) is mapped onto
the closest word of the rubrics' vocabulary when rapidfuzz finds one close enough.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import numpy as np
import spacy
from spacy.attrs import IDX, ORTH

from ..constants import LANGS  # noqa: E402,F401
from ..text import fold as _text_fold
# Punctuation is blanked out (same length, so offsets stay valid) before tokenising: ASR
# punctuation is unreliable, and phrases must match across it. Decimal points stay.
# (?<!\d)[.,](?!\d) | [;:!?¡¿…"«»“”„()[]{}/\|–—] | (?<!\w)- | -(?!\w), written with the character first:
# the regex engine then skips ahead to the next such character (ten times faster on a call)
_PUNCT = re.compile(r"[.,;:!?¡¿…\"«»“”„()\[\]{}/\\|–—-]"
                    r"(?:(?<=[;:!?¡¿…\"«»“”„()\[\]{}/\\|–—])|(?<=[.,])(?<!\d.)(?!\d)|(?<=-)(?:(?<!\w-)|(?!\w)))")
CLAUSE_PUNCT = re.compile(r"[.,;:!?…]")
FUZZY_MIN_LEN = 5
FUZZY_CUTOFF = 86.0

_lock = threading.RLock()
# the one text fold of the project (lower case, accents removed, ß -> ss, apostrophes unified)
fold = _text_fold


def clean_text(text: str) -> str:
    """``text`` with punctuation dropped (a space where it separated two words), as phrases are matched;
    ``clean_with_offsets`` without the offsets."""
    return clean_with_offsets(text)[0]


def clean_with_offsets(text: str) -> tuple[str, np.ndarray]:
    """Drop punctuation (a space where it separated two words) so that phrases match across it;
    return the clean text and, for each of its characters, the offset in the original text."""
    pieces: list[str] = []
    dropped: list[int] = []  # offsets of the characters left out (each match is one character)
    pos = 0
    last = ""
    for m in _PUNCT.finditer(text):
        s = m.start()
        if s > pos:
            pieces.append(text[pos:s])
            last = text[s - 1]
        nxt = text[s + 1] if s + 1 < len(text) else " "
        if last and not last.isspace() and not nxt.isspace() and not _PUNCT.match(nxt):
            pieces.append(" ")  # in place of the punctuation: its offset is kept
            last = " "
        else:
            dropped.append(s)
        pos = s + 1
    if pos == 0:
        return text, np.arange(len(text) + 1)
    pieces.append(text[pos:])
    keep = np.ones(len(text) + 1, dtype=bool)
    keep[dropped] = False
    return "".join(pieces), np.flatnonzero(keep)


class LangNLP:
    """Tokenizer + lemma normalisation for one language; shared by every rubric."""

    def __init__(self, lang: str):
        from .lemmas import lemma_table

        self.lang = lang
        self.nlp = spacy.blank(lang)
        self.vocab = self.nlp.vocab
        self.lemmas = lemma_table(lang)
        self.stops = frozenset(w.lower() for w in self.nlp.Defaults.stop_words)
        for special in ("<NUM>", "<PER>", "<PHONE>", "<EMAIL>"):
            self.nlp.tokenizer.add_special_case(special, [{ORTH: special}])
        self.vocab["<NUM>"].like_num = True
        self._values = None  # lemma forms, computed on first use
        self._done: set[int] = set()  # orth ids whose norm is set
        self._fuzzy_vocab: dict[str, str] = {}  # folded word form -> norm, from the rubrics' phrases
        self._fuzzy_keys: list[str] = []
        self._chunks: set[str] = set()  # whitespace-separated chunks the tokenizer has cached

    # ---- normalisation -----------------------------------------------------------------
    def lemma(self, word: str) -> str:
        """The matching form: function words keep their own form ("sono" is not "siamo"), other
        words are lemmatised; accents folded."""
        low = word.lower()
        if low in self.stops:
            return low.replace("’", "'")
        res = self.lemmas.get(low)
        if res is None:  # German nouns are keyed capitalised; ASR writes them in lower case
            cap = low[:1].upper() + low[1:]
            res = self.lemmas.get(cap)
            if res is None and word not in (low, cap):
                res = self.lemmas.get(word)
        return fold(res if res else low)

    def rubric_word(self, word: str) -> bool:
        """Is this word (folded) one the rubrics' phrases use (``register_vocabulary``)?"""
        return fold(word) in self._fuzzy_vocab

    def known(self, word: str) -> bool:
        """Is this a word of the language (a form or a lemma of the lookup table), in any case?"""
        low = word.lower()
        if low in self.lemmas or word in self.lemmas:
            return True
        vocab = self._lemma_values()
        return low in vocab or word in vocab or low.capitalize() in vocab or low.capitalize() in self.lemmas

    def _lemma_values(self) -> frozenset:
        if self._values is None:
            vals = set()
            for _, v in self.lemmas.items():
                vals.add(v)
            self._values = frozenset(vals)
        return self._values

    def _norm_for(self, text: str) -> str:
        norm = self.lemma(text)
        if (self._fuzzy_keys and len(text) >= FUZZY_MIN_LEN and text.isalpha() and not self.known(text)):
            f = fold(text)
            if f not in self._fuzzy_vocab:
                from rapidfuzz import fuzz, process

                hit = process.extractOne(f, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
                if hit is not None:
                    return self._fuzzy_vocab[hit[0]]
        return norm

    def ensure_norms(self, doc) -> None:
        """Write the matching norm of every new word type of ``doc`` into the vocabulary."""
        if not len(doc):
            return
        new = sorted(set(doc.to_array(ORTH).tolist()).difference(self._done))
        if not new:
            return
        with _lock:
            strings = self.vocab.strings
            for o in new:
                text = strings[o]
                lex = self.vocab[o]
                lex.norm_ = self._norm_for(text)
                if not lex.like_num and text.isalpha() and len(text) >= 2 and _is_number_word(text, self.lang):
                    lex.like_num = True  # "cinque", "septante": the <NUM> slot takes number words too
                self._done.add(o)

    def register_vocabulary(self, words) -> None:
        """Words the rubrics' phrases use: targets for fuzzy matching of unknown (misspelt) words."""
        with _lock:
            added = False
            for w in words:
                if len(w) >= FUZZY_MIN_LEN and w.isalpha():
                    f = fold(w)
                    if f not in self._fuzzy_vocab:
                        self._fuzzy_vocab[f] = self.lemma(w)
                        added = True
            if added:
                self._fuzzy_keys = list(self._fuzzy_vocab)
                # Re-normalise, now, every word type already seen: a token reads its norm from the
                # shared lexeme, so documents tokenised before a rubric's phrases were compiled (the
                # first batch of calls of a process) match like those tokenised after. Done lazily,
                # the same call scored differently in a fresh process and in a warm one.
                strings = self.vocab.strings
                for o in self._done:
                    text = strings[o]
                    self.vocab[o].norm_ = self._norm_for(text)

    # ---- documents ---------------------------------------------------------------------
    def _warm_cache(self, texts) -> None:
        """spaCy's tokenizer remembers the tokens of each whitespace-separated chunk, but stops
        saving them for the rest of a text once a special case occurred in it (see spaCy #1250), so
        most of a call was tokenised afresh every time. Tokenising each new chunk once on its own
        fills that cache with exactly what the tokenizer computes for the chunk: same tokens."""
        tok = self.nlp.tokenizer
        seen = self._chunks
        if len(seen) >= (getattr(tok, "max_cache_size", 0) or 0):
            return  # spaCy's cache is full: it saves nothing more
        new = {w for t in texts for w in t.split()}
        new.difference_update(seen)
        if new:
            with _lock:
                for w in sorted(new):
                    tok(w)
                seen.update(new)

    def make_doc(self, text: str):
        """Tokenise one text after ``clean_with_offsets``: a spaCy Doc with the offsets into the original
        text in ``user_data['offsets']`` and the norms of its words set in the shared vocabulary (under
        the module lock)."""
        clean, offs = clean_with_offsets(text)
        with _lock:  # spaCy's vocabulary (string store) and tokenizer cache are not thread-safe
            self._warm_cache([clean])
            doc = self.nlp.make_doc(clean)
            doc.user_data["offsets"] = offs
            self.ensure_norms(doc)
        return doc

    def pipe(self, texts, batch_size: int = 256):
        """``make_doc`` for many texts, tokenised in batches of ``batch_size``; yields the Docs in order."""
        cleaned = [clean_with_offsets(t) for t in texts]
        with _lock:  # as make_doc: calls scored in several threads (a dask worker) share the vocabulary
            self._warm_cache([c for c, _ in cleaned])
            docs = list(self.nlp.tokenizer.pipe((c for c, _ in cleaned), batch_size=batch_size))
            for doc, (_, offs) in zip(docs, cleaned):
                doc.user_data["offsets"] = offs
                self.ensure_norms(doc)
        yield from docs

    @staticmethod
    def token_offsets(doc) -> np.ndarray:
        """Start of each token in the ORIGINAL text (before punctuation was dropped)."""
        idx = doc.to_array(IDX)
        offs = doc.user_data.get("offsets")
        return offs[idx] if offs is not None and len(idx) else idx

    @staticmethod
    def sentence_initial(doc, j: int, original: str, offsets=None) -> bool:
        """Is token j the first of its sentence (nothing before it, or . ! ? before it)?"""
        offs = doc.user_data.get("offsets") if offsets is None else offsets
        k = j - 1
        while k >= 0 and doc[k].is_space and "\n" not in doc[k].text:
            k -= 1
        if k < 0 or "\n" in doc[k].text:
            return True
        a = doc[k].idx + len(doc[k].text)
        b = doc[j].idx
        if offs is not None:
            a, b = int(offs[a - 1]) + 1, int(offs[b])
        return bool(re.search(r"[.!?…]", original[a:b]))


def _is_number_word(word: str, lang: str) -> bool:
    try:
        from text_to_num import text2num
    except ImportError:  # pragma: no cover - text2num is a dependency
        return False
    try:
        text2num(word.lower(), lang)
        return True
    except (ValueError, KeyError, IndexError, AssertionError, NotImplementedError):
        return False


@lru_cache(maxsize=None)
def get_nlp(lang: str) -> LangNLP:
    """The shared ``LangNLP`` of ``lang`` (one per language and process, made on first use); ValueError for
    a language the project does not support."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    with _lock:
        return LangNLP(lang)
