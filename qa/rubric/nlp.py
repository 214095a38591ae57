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
import unicodedata
from functools import lru_cache

import numpy as np
import spacy
from spacy.attrs import IDX, ORTH

LANGS = ("it", "de", "fr", "en")
# Punctuation is blanked out (same length, so offsets stay valid) before tokenising: ASR
# punctuation is unreliable, and phrases must match across it. Decimal points stay.
_PUNCT = re.compile(r"(?<!\d)[.,](?!\d)|[;:!?¡¿…\"«»“”„()\[\]{}/\\|–—]|(?<!\w)-|-(?!\w)")
CLAUSE_PUNCT = re.compile(r"[.,;:!?…]")
FUZZY_MIN_LEN = 5
FUZZY_CUTOFF = 86.0

_lock = threading.RLock()


def fold(s: str) -> str:
    """Lower case, accents removed, ß -> ss, typographic apostrophe -> '."""
    s = s.lower().replace("ß", "ss").replace("’", "'").replace("`", "'")
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def clean_text(text: str) -> str:
    return _PUNCT.sub(" ", text)


class LangNLP:
    """Tokenizer + lemma normalisation for one language; shared by every rubric."""

    def __init__(self, lang: str):
        from spacy.lookups import load_lookups

        self.lang = lang
        self.nlp = spacy.blank(lang)
        self.vocab = self.nlp.vocab
        tables = load_lookups(lang, ["lemma_lookup"])
        self.lemmas = tables.get_table("lemma_lookup")
        self.stops = frozenset(w.lower() for w in self.nlp.Defaults.stop_words)
        for special in ("<NUM>", "<PER>", "<PHONE>", "<EMAIL>"):
            self.nlp.tokenizer.add_special_case(special, [{ORTH: special}])
        self.vocab["<NUM>"].like_num = True
        self._done: set[int] = set()  # orth ids whose norm is set
        self._fuzzy_vocab: dict[str, str] = {}  # folded word form -> norm, from the rubrics' phrases
        self._fuzzy_keys: list[str] = []

    # ---- normalisation -----------------------------------------------------------------
    def lemma(self, word: str) -> str:
        """The matching form: function words keep their own form ("sono" is not "siamo"), other
        words are lemmatised; accents folded."""
        low = word.lower()
        if low in self.stops:
            return low.replace("’", "'")
        res = self.lemmas.get(low)
        if res is None and low != word:
            res = self.lemmas.get(word)
        if isinstance(res, list):
            res = res[0] if res else None
        return fold(res if res else low)

    def known(self, word: str) -> bool:
        low = word.lower()
        return low in self.lemmas or word in self.lemmas

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
        done = self._done
        orths = np.unique(doc.to_array(ORTH))
        new = [int(o) for o in orths if int(o) not in done]
        if not new:
            return
        with _lock:
            strings = self.vocab.strings
            for o in new:
                text = strings[o]
                self.vocab[o].norm_ = self._norm_for(text)
                done.add(o)

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
                self._done.clear()  # re-normalise word types lazily against the new vocabulary

    # ---- documents ---------------------------------------------------------------------
    def make_doc(self, text: str):
        doc = self.nlp.make_doc(clean_text(text))
        self.ensure_norms(doc)
        return doc

    def pipe(self, texts, batch_size: int = 256):
        for doc in self.nlp.tokenizer.pipe((clean_text(t) for t in texts), batch_size=batch_size):
            self.ensure_norms(doc)
            yield doc

    def token_offsets(self, doc) -> np.ndarray:
        return doc.to_array(IDX)


@lru_cache(maxsize=None)
def get_nlp(lang: str) -> LangNLP:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    with _lock:
        return LangNLP(lang)
