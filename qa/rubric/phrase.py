"""Phrase patterns: their syntax checked (``parse_phrase``) and compiled to spaCy Matcher token specs
(``compile_phrase``), one language at a time; ``qa.rubric.patterns.LangMatcher`` matches them.

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
  <PER>       a masked name, as transcripts with names removed write it ("signora <PER>")
  <FUT>       the word that carries the future tense (it/fr: a future verb form, "manderò", "enverrai";
              de/en: the auxiliary, "wird", "will"/"'ll"); see ``qa.rubric.tense``
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field

from .nlp import LangNLP
from .tense import future_spec

GAP = "{0,4}"
_SPECIAL = set("[]()<>*=|")
_SLOTS = ("NUM", "NAME", "PROPN", "AGENT", "PER", "FUT")
WORD_OR_HYPHENATED = r"^[^\W\d_]+(?:-[^\W\d_]+)*$"  # a word of letters, or letters joined by hyphens
CHECKED_SLOTS = ("NAME", "PROPN", "AGENT")  # verified after matching, per call


class PatternError(ValueError):
    """A phrase that breaks the phrase syntax (docs/RUBRIC_LANGUAGE.md), or cannot be compiled in a language."""


@dataclass
class CompiledPhrase:
    """One phrase compiled for one language: its token specs, or its normal forms when it is plain
    (words only, matched by the PhraseMatcher), and the slots checked after matching."""

    text: str
    plain: bool
    specs: list  # Matcher token specs
    norms: list  # for plain phrases
    has_name: bool = False
    words: list = field(default_factory=list)  # literal words (vocabulary for fuzzy matching)
    name_index: int | None = None  # token offset of <NAME> in a match (None: not fixed)
    slots: tuple = ()  # slots checked after matching (NAME, PROPN, AGENT)


def _word_tokens(nlp: LangNLP, word: str) -> list[str]:
    return [text for text, _ in _word_norms(nlp, word)]


def _word_norms(nlp: LangNLP, word: str, keep_hyphens: bool = False) -> list[tuple[str, str]]:
    """(text, matching norm) of each word of ``word`` as a call's text is tokenised. A contraction
    piece keeps the norm spaCy's tokenizer exceptions give it in a call ("I'll" -> "i" + "will",
    "don't" -> "do" + "not"), since a token's own norm overrides the vocabulary's: lemmatising
    "'ll" instead, as before, gave a phrase that no call could match. Full forms are function
    words that keep their form, so "I will" and "I'll" match each other both ways."""
    doc = nlp.make_doc(word)
    return [(t.text, t.norm_ if t.norm_ != t.lex.norm_ else nlp.lemma(t.text))
            for t in doc if not (t.is_punct or t.is_space) or (keep_hyphens and t.text == "-")]


def _alt_norms(nlp: LangNLP, alt: str) -> list[tuple[str, str]]:
    """``_word_norms`` of one alternative. An elided word ("l'", "j'", "dell'") is one token only before
    the word it leans on: alone, the tokenizer splits off its apostrophe and "[l'|lo]" would look for a
    bare "l" that no call holds. It is tokenised before a placeholder word, then taken alone."""
    if alt.endswith(("'", "\u2019")):
        doc = nlp.make_doc(alt + "abc")
        if len(doc) == 2 and doc[1].text == "abc":
            t = doc[0]
            return [(t.text, t.norm_ if t.norm_ != t.lex.norm_ else nlp.lemma(t.text))]
    return _word_norms(nlp, alt)


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
                raise PatternError(f"unknown slot <{slot}> (known: <NUM>, <NAME>, <PROPN>, <AGENT>, <PER>, <FUT>)")
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


# Compiled phrases per language pipeline: the rubrics share most of their phrases (comune.yaml is in
# every call type's rubric), so a process compiling five rubrics compiled each phrase five times.
# A CompiledPhrase is only read after it is made (matchers copy its specs).
_COMPILED: "weakref.WeakKeyDictionary[LangNLP, dict[str, CompiledPhrase]]" = weakref.WeakKeyDictionary()


def compile_phrase(nlp: LangNLP, phrase: str) -> CompiledPhrase:
    """The phrase as spaCy Matcher token specs in ``nlp``'s language (words by lemma, exact forms,
    alternatives, prefixes, slots, gaps, optional words); PatternError when it cannot be. Compiled
    once per language pipeline and phrase text."""
    cache = _COMPILED.setdefault(nlp, {})
    cp = cache.get(phrase)
    if cp is None:
        cp = cache[phrase] = _compile_phrase(nlp, phrase)
    return cp


def _compile_phrase(nlp: LangNLP, phrase: str) -> CompiledPhrase:
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
            elif body == "PER":
                spec_list = [{"LOWER": "<per>"}]  # the masked name token (one token: qa.rubric.nlp)
            elif body == "FUT":
                spec_list = [future_spec(nlp.lang)]  # a future form / auxiliary (qa.rubric.tense)
            elif body == "NAME":
                spec_list = [{"IS_PUNCT": False, "IS_SPACE": False, "LIKE_NUM": False}]
                has_name = True
                slots.append(body)
                fixed = all("OP" not in s for s in specs)
                name_index = len(specs) if fixed and not optional else None
            elif body == "PROPN":
                # proper nouns: a word (hyphenated too, "Jean-Luc"); whether it is one is decided per
                # call (``CallNames._propn``: capitalised, or unknown in a lower-case ASR transcript)
                spec_list = [{"TEXT": {"REGEX": WORD_OR_HYPHENATED}}]
                slots.append(body)
            else:
                spec_list = [{"TEXT": {"REGEX": WORD_OR_HYPHENATED}}]
                slots.append(body)
            plain = False
        elif kind == "alts":
            norms = []
            for alt in body.split("|"):
                toks = _alt_norms(nlp, alt)
                if len(toks) != 1:
                    raise PatternError(f"alternative {alt!r} must be one word in {nlp.lang!r}")
                words.append(toks[0][0])
                norms.append(toks[0][1])
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
            toks = _word_norms(nlp, body, keep_hyphens=True)
            if not [t for t, _ in toks if t != "-"]:
                continue
            words.extend(t for t, _ in toks if t != "-")
            # a hyphen inside a word ("pre-existing", "rip-off") is a token of its own in a call's
            # text (spaCy splits it off): optional, so that ASR's "pre existing" matches too
            spec_list = [{"NORM": "-", "OP": "?"} if t == "-" else {"NORM": norm} for t, norm in toks]
            plain = plain and "-" not in (t for t, _ in toks)
        if optional:
            plain = False
            if len(spec_list) != 1:
                raise PatternError(f"optional item {body!r} must be one word in {nlp.lang!r}")
            spec_list = [dict(spec_list[0], OP="?")]
        specs.extend(spec_list)
    norms = [s["NORM"] for s in specs] if plain else []
    return CompiledPhrase(phrase, plain, specs, norms, has_name, words, name_index, tuple(sorted(set(slots))))
