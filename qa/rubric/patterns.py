"""Phrase patterns -> spaCy Matcher / PhraseMatcher rules (one compiled set per rubric and language).

Phrase syntax (see docs/RUBRIC_LANGUAGE.md):
  word        matches any form with the same lemma (lower case, accents ignored)
  =word       matches this exact form only
  pre*        any word form that starts with ``pre`` (case ignored)
  [a|b|c]     one word, any of the alternatives (each by lemma)
  (word)      optional word; also ``([a|b])``
  *           exactly one word, any
  ...         a gap of 0 to 4 words
  <NUM>       a number (digits or number word)
  <NAME>      a name: the customer's name in criteria; the captured name in ``names`` patterns
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.matcher import Matcher, PhraseMatcher

from .nlp import LangNLP, fold

GAP = "{0,4}"
_SPECIAL = set("[]()<>*=|")
_SLOTS = ("NUM", "NAME", "PROPN", "AGENT")
WORD_OR_HYPHENATED = r"^[^\W\d_]+(?:-[^\W\d_]+)*$"  # a word of letters, or letters joined by hyphens
CHECKED_SLOTS = ("NAME", "PROPN", "AGENT")  # verified after matching, per call


class PatternError(ValueError):
    pass


@dataclass
class CompiledPhrase:
    text: str
    plain: bool
    specs: list  # Matcher token specs
    norms: list  # for plain phrases
    has_name: bool = False
    words: list = field(default_factory=list)  # literal words (vocabulary for fuzzy matching)
    name_index: int | None = None  # token offset of <NAME> in a match (None: not fixed)
    slots: tuple = ()  # slots checked after matching (NAME, PROPN, AGENT)


def _word_tokens(nlp: LangNLP, word: str) -> list[str]:
    doc = nlp.make_doc(word)
    return [t.text for t in doc if not (t.is_punct or t.is_space)]


def parse_phrase(phrase: str) -> list[tuple[str, str, bool]]:
    """Syntax check without any language model: [(kind, body, optional)]; raises PatternError."""
    if not isinstance(phrase, str) or not phrase.strip():
        raise PatternError("empty phrase")
    items: list[tuple[str, str, bool]] = []
    content = 0
    names = 0
    for raw in phrase.split():
        item = raw
        optional = False
        if item.startswith("(") or item.endswith(")"):
            if not (item.startswith("(") and item.endswith(")")) or len(item) < 3:
                raise PatternError(f"unbalanced parentheses in {raw!r}")
            optional, item = True, item[1:-1]
        if item == "*":
            items.append(("any", "", optional))
            continue
        if item == "...":
            if optional:
                raise PatternError("'...' cannot be optional")
            items.append(("gap", "", False))
            continue
        if item.startswith("<") or item.endswith(">"):
            if not (item.startswith("<") and item.endswith(">")):
                raise PatternError(f"unbalanced slot brackets in {raw!r}")
            slot = item[1:-1]
            if slot not in _SLOTS:
                raise PatternError(f"unknown slot <{slot}> (known: <NUM>, <NAME>, <PROPN>, <AGENT>)")
            if slot == "NAME":
                names += 1
                if names > 1:
                    raise PatternError("only one <NAME> slot per phrase")
            items.append(("slot", slot, optional))
            content += 1
            continue
        if item.startswith("[") or item.endswith("]"):
            if not (item.startswith("[") and item.endswith("]")) or len(item) < 3:
                raise PatternError(f"unbalanced brackets in {raw!r}")
            for alt in item[1:-1].split("|"):
                if not alt or _SPECIAL & set(alt) or " " in alt:
                    raise PatternError(f"bad alternative {alt!r} in {raw!r}")
            items.append(("alts", item[1:-1], optional))
            content += 1
            continue
        if item.startswith("="):
            body = item[1:]
            if not body or _SPECIAL & set(body):
                raise PatternError(f"bad exact word {raw!r}")
            items.append(("exact", body, optional))
            content += 1
            continue
        if item.endswith("*"):
            body = item[:-1]
            if len(body) < 2 or _SPECIAL & set(body) or not body.replace("'", "").replace("-", "").isalnum():
                raise PatternError(f"bad prefix wildcard {raw!r} (needs at least 2 letters before '*')")
            items.append(("prefix", body, optional))
            content += 1
            continue
        if _SPECIAL & set(item):
            raise PatternError(f"invalid pattern item {raw!r}")
        if not any(ch.isalnum() for ch in item):
            continue  # punctuation only
        items.append(("word", item, optional))
        content += 1
    if content == 0:
        raise PatternError(f"phrase {phrase!r} has no word to match")
    if items and (items[0][0] == "gap" or items[-1][0] == "gap"):
        raise PatternError("a phrase cannot start or end with '...'")
    return items


def compile_phrase(nlp: LangNLP, phrase: str) -> CompiledPhrase:
    specs: list[dict] = []
    words: list[str] = []
    plain = True
    has_name = False
    name_index = None
    slots: list[str] = []
    for kind, body, optional in parse_phrase(phrase):
        if kind == "any":
            spec_list = [{}]
            plain = False
        elif kind == "gap":
            spec_list = [{"OP": GAP}]
            plain = False
        elif kind == "slot":
            if body == "NUM":
                spec_list = [{"LIKE_NUM": True}]
            elif body == "NAME":
                spec_list = [{"IS_PUNCT": False, "IS_SPACE": False, "LIKE_NUM": False}]
                has_name = True
                slots.append(body)
                fixed = all("OP" not in s for s in specs)
                name_index = len(specs) if fixed and not optional else None
            elif body == "PROPN":
                # proper nouns are capitalised words, hyphenated ones too ("Jean-Luc")
                spec_list = [{"IS_TITLE": True, "TEXT": {"REGEX": WORD_OR_HYPHENATED}}]
                slots.append(body)
            else:
                spec_list = [{"TEXT": {"REGEX": WORD_OR_HYPHENATED}}]
                slots.append(body)
            plain = False
        elif kind == "alts":
            norms = []
            for alt in body.split("|"):
                toks = _word_tokens(nlp, alt)
                if len(toks) != 1:
                    raise PatternError(f"alternative {alt!r} must be one word in {nlp.lang!r}")
                words.append(toks[0])
                norms.append(nlp.lemma(toks[0]))
            spec_list = [{"NORM": {"IN": sorted(set(norms))}}]
            plain = False
        elif kind == "exact":
            toks = _word_tokens(nlp, body)
            if not toks:
                raise PatternError(f"bad exact word {body!r}")
            spec_list = [{"LOWER": t.lower()} for t in toks]
            plain = False
        elif kind == "prefix":
            spec_list = [{"LOWER": {"REGEX": "^" + re.escape(body.lower())}}]
            plain = False
        else:
            toks = _word_tokens(nlp, body)
            if not toks:
                continue
            words.extend(toks)
            spec_list = [{"NORM": nlp.lemma(t)} for t in toks]
        if optional:
            plain = False
            if len(spec_list) != 1:
                raise PatternError(f"optional item {body!r} must be one word in {nlp.lang!r}")
            spec_list = [dict(spec_list[0], OP="?")]
        specs.extend(spec_list)
    norms = [s["NORM"] for s in specs] if plain else []
    return CompiledPhrase(phrase, plain, specs, norms, has_name, words, name_index, tuple(sorted(set(slots))))


class LangMatcher:
    """All phrase sets of one rubric in one language: one Matcher + one PhraseMatcher pass per doc."""

    def __init__(self, nlp: LangNLP):
        self.nlp = nlp
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self.slot_keys: dict[str, list] = {}  # key -> [(match key, [slots to verify])]
        self._keys: dict[int, str] = {}
        self.slots: dict[str, int | None] = {}

    def add_separately(self, key: str, phrases: list[CompiledPhrase]) -> None:
        """One match key per phrase (``key#name#i``), remembering where its <NAME> slot is."""
        for i, p in enumerate(phrases):
            k = f"{key}#name#{i}"
            self._keys[self.nlp.vocab.strings.add(k)] = k
            self.matcher.add(k, [p.specs])
            self.slots[k] = p.name_index

    def add(self, key: str, phrases: list[CompiledPhrase]) -> None:
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
            self.matcher.add(key, pats)
        for sig, sp in slot_pats.items():
            skey = f"{key}#{sig}"
            self._keys[self.nlp.vocab.strings.add(skey)] = skey
            self.matcher.add(skey, sp)
            self.slot_keys.setdefault(key, []).append((skey, sig.split("+")))

    def __call__(self, doc) -> dict[str, list[tuple[int, int]]]:
        out: dict[str, list[tuple[int, int]]] = {}
        keys = self._keys
        if len(self.phrase_matcher):
            for mid, s, e in self.phrase_matcher(doc):
                out.setdefault(keys[mid], []).append((s, e))
        if not len(self.matcher):
            return out
        for mid, s, e in self.matcher(doc):
            out.setdefault(keys[mid], []).append((s, e))
        return out
