"""Language data as data: the words and phrases the code needs per language, outside the rubrics.

One YAML file per language in ``rubriche/lingue/<lang>.yaml`` (``it``, ``de``, ``fr``, ``en``; see
``qa.constants.LANGS``), validated with pydantic on first use and cached for the process::

    language: it
    greetings: [buongiorno, ...]          # qa.analysis.metrics: time_to_greeting
    fairness:                             # qa.learning.fairness: perturbations that must not matter
      honorifics: [signor, ...]           #   a name after one of these is matched more loosely
      title_swaps: [[signor, signora]]    #   the customer's title, swapped both ways
      greeting_swaps: [[buongiorno, salve]]
    names:                                # qa.rubric.context / names (every language's words on every call)
      honorifics: [signor, ...]           #   titles; vocatives, articles, fillers, name_answer_words,
      ...                                 #   confirmations, interjections, not_surnames,
                                          #   speaking_with: see NamesData
    redaction:                            # qa.redact.words: the redactor's words (required)
      digits: {zero: 0, uno: 1, ...}      #   spoken digits, months, separators, e-mail words, date of
      ...                                 #   birth context, number multipliers ...: see RedactionData
    roles:                                # qa.analysis.roles_text / turns: agent and customer cues,
      agent_cues: ['signora', ...]        #   turn words: see RolesData

To add a language: add its code to ``qa.constants.LANGS`` and write ``rubriche/lingue/<code>.yaml``
(with its ``redaction`` words: without them the redactor would leave its spoken numbers in clear;
and its ``roles`` words: without them mono role assignment has no cue of that language).
To add a kind of data: add a field to ``LanguageData`` (or a section model) and fill it in every file;
an unknown key is an error, so a typo never goes unnoticed, and so is a key written twice. A broken
file is one ``QAError`` line with the file and line (``rubriche/lingue/it.yaml:7: greetings.2: ...``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints,
                      ValidationError, ValidationInfo, field_validator, model_validator)

from .constants import LANGS
from .errors import QAError

Phrase = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]

# libyaml's parser where PyYAML was built with it (the wheels are): the same nodes, marks and
# errors as the pure-Python one, parsed about ten times faster (every process reads these files).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ONE_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def _one_word(w: str) -> str:
    # the redactor compares one lower-cased token at a time, and joins some lists into regular
    # expressions as they are: a phrase, a capital or a regex character would never match
    if not _ONE_WORD.fullmatch(w) or w != w.lower():
        raise ValueError(f"{w!r} is not one lower-case word (letters and digits, - or ' inside)")
    return w


def _compiles(p: str) -> str:
    try:
        re.compile(p)
    except re.error as e:
        raise ValueError(f"{p!r} is not a regular expression ({e})") from None
    return p


def _a_regex(p: str) -> str:
    _compiles(p)
    if p != p.lower():
        raise ValueError(f"{p!r} is not lower case")
    return p


def _one_token(w: str) -> str:
    # turn words are compared one lower-cased, space-split token at a time ("l'", "d'" included)
    if not w or any(c.isspace() for c in w) or w != w.lower():
        raise ValueError(f"{w!r} is not one lower-case token (no spaces)")
    return w


Word = Annotated[Phrase, AfterValidator(_one_word)]
Words = tuple[Word, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FairnessData(_Strict):
    """What ``qa.learning.fairness`` rewrites in one language."""

    honorifics: tuple[Phrase, ...] = ()
    title_swaps: tuple[tuple[Phrase, Phrase], ...] = ()
    greeting_swaps: tuple[tuple[Phrase, Phrase], ...] = ()


class NamesData(_Strict):
    """What the rubric engine (``qa.rubric.context``, ``qa.rubric.names``) needs to find and judge
    names in one language: folded, lower-case words."""

    honorifics: tuple[Phrase, ...] = ()
    vocatives: tuple[Phrase, ...] = ()
    articles: tuple[Phrase, ...] = ()
    fillers: tuple[Phrase, ...] = ()
    name_answer_words: tuple[Phrase, ...] = ()
    confirmations: tuple[Phrase, ...] = ()
    here_words: tuple[Phrase, ...] = ()  # between a vocative and a masked name ("eccomi qua <PER>")
    interjections: tuple[Phrase, ...] = ()  # never a company name in a lower-case opening ("ähm", "buonasera")
    not_surnames: tuple[Phrase, ...] = ()  # after an honorific, no surname ("signora buona giornata")
    speaking_with: tuple[Phrase, ...] = ()  # "parlo con" + article + title + <PER>: said to the caller


def _no_repeats(words: tuple[str, ...]) -> tuple[str, ...]:
    seen = set()
    for w in words:
        if w in seen:
            raise ValueError(f"{w!r} is written twice")
        seen.add(w)
    return words


UniqueWords = Annotated[Words, AfterValidator(_no_repeats)]
Regexes = tuple[Annotated[Phrase, AfterValidator(_a_regex)], ...]
# a cue keeps its spaces ("apro (?:una|un) ") and its capitals ("Frau"): it is matched ignoring case
Cues = Annotated[tuple[Annotated[StrictStr, StringConstraints(min_length=1), AfterValidator(_compiles)], ...],
                 AfterValidator(_no_repeats)]
Tokens = Annotated[tuple[Annotated[StrictStr, AfterValidator(_one_token)], ...], AfterValidator(_no_repeats)]


class RedactionData(_Strict):
    """What the redactor (``qa.redact.words``, used by ``qa.redact.detectors``) needs in one
    language: lower-case single words. ``digits`` and ``months`` count in calls of this language;
    every other field counts on every call, the languages' words together (Italian first, then
    de, fr, en; each file's words in the order written), and a word in two files must mean the same
    in both (``redaction_union``)."""

    digits: Annotated[dict[Word, Annotated[StrictInt, Field(ge=0, le=9)]], Field(min_length=1)]
    weak_digits: UniqueWords = ()
    separators: Annotated[dict[Word, Literal[".", " ", "-", "/"]], Field(min_length=1)]
    joiners: UniqueWords = ()
    plus: UniqueWords = ()
    repeats: dict[Word, Annotated[StrictInt, Field(ge=2, le=3)]] = {}
    email_at: Annotated[UniqueWords, Field(min_length=1)]
    email_dot: Annotated[UniqueWords, Field(min_length=1)]
    not_a_mailbox: UniqueWords = ()
    months: Annotated[dict[Word, Annotated[StrictInt, Field(ge=1, le=12)]], Field(min_length=1)]
    day_ordinals: dict[Word, Annotated[StrictInt, Field(ge=1, le=31)]] = {}
    iban_context: UniqueWords = ()
    dob_context: Annotated[Regexes, Field(min_length=1)]
    # a date right after one of these is no birth date ("scade il", "gültig bis"): regexes, whole words
    not_dob_before: Regexes = ()
    # qa.redact.normalise: words that make spoken numbers one number ("due mila", "two hundred")
    # when a word starts or ends with one, and tens said apart from their unit ("twenty one")
    multipliers: UniqueWords = ()
    compound_tens: UniqueWords = ()

    @field_validator("weak_digits")
    @classmethod
    def _weak_are_digits(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        digits = info.data.get("digits") or {}
        missing = [w for w in v if w not in digits]
        if missing:
            raise ValueError(f"{', '.join(map(repr, missing))} not in digits")
        return v


class RolesData(_Strict):
    """What mono role assignment needs in one language: ``agent_cues`` and ``customer_cues``
    (``qa.analysis.roles_text``: regular expressions, one alternation in the order written, matched
    as whole words ignoring case) and the turn words of ``qa.analysis.turns``: ``open_ended`` (no
    utterance ends on them) and ``answer_openers`` (an answer or backchannel opens with them)."""

    agent_cues: Cues = ()
    customer_cues: Cues = ()
    open_ended: Tokens = ()
    answer_openers: Tokens = ()


class LanguageData(_Strict):
    """One ``rubriche/lingue/<lang>.yaml`` file, validated."""

    language: StrictStr
    greetings: Annotated[tuple[Phrase, ...], Field(min_length=1)]
    fairness: FairnessData = FairnessData()
    names: NamesData = NamesData()
    redaction: RedactionData
    roles: RolesData = RolesData()

    @model_validator(mode="after")
    def _known_language(self) -> "LanguageData":
        if self.language not in LANGS:
            raise ValueError(f"language {self.language!r} is not one of {', '.join(LANGS)}")
        return self


def data_dir() -> Path:
    """The folder of the language files: ``QA_LANGDATA_DIR`` or the bundled ``rubriche/lingue``."""
    d = os.environ.get("QA_LANGDATA_DIR")
    if d:
        return Path(d).expanduser().resolve()
    from .config import bundled_rubrics_dir

    return bundled_rubrics_dir() / "lingue"


def _line_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the value at ``loc`` (a pydantic error location) in a composed YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if k.value == part), None)
            if hit is None:
                break
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _repeated_key(node: yaml.Node | None) -> tuple[str, int] | None:
    """The first key written twice in one mapping (YAML keeps the last one silently), with its line."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for k, v in node.value:
            if k.value in seen:
                return k.value, k.start_mark.line + 1
            seen.add(k.value)
            hit = _repeated_key(v)
            if hit:
                return hit
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            hit = _repeated_key(v)
            if hit:
                return hit
    return None


def parse(text: str, source: str) -> LanguageData:
    """Validate the text of one language file; ``QAError`` (file:line: reason) when it is not valid."""
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
        raw = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise QAError(f"YAML syntax error: {getattr(e, 'problem', None) or e}", where) from None
    if not isinstance(raw, dict):
        raise QAError("a language file is a mapping with 'language' and 'greetings'", f"{source}:1")
    repeated = _repeated_key(node)
    if repeated:
        raise QAError(f"{repeated[0]!r} is written twice", f"{source}:{repeated[1]}")
    try:
        return LanguageData.model_validate(raw)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        loc = tuple(err["loc"])
        line = _line_at(node, loc)
        path = ".".join(str(p) for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        raise QAError(f"{path + ': ' if path else ''}{msg}", f"{source}:{line}") from None


@functools.lru_cache(maxsize=None)
def language_data(lang: str) -> LanguageData:
    """The validated data of ``lang`` (one of ``LANGS``), read once per process."""
    if lang not in LANGS:
        raise QAError(f"no language data for {lang!r}: one of {', '.join(LANGS)}")
    path = data_dir() / f"{lang}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise QAError(f"cannot read the language data ({e.strerror or e})", str(path)) from None
    data = parse(text, str(path))
    if data.language != lang:
        raise QAError(f"language {data.language!r} in the file of {lang!r}", f"{path}:1")
    return data


def all_languages() -> dict[str, LanguageData]:
    """Every language's data, in the order of ``LANGS`` (Italian first)."""
    return {lang: language_data(lang) for lang in LANGS}


def names_words(kind: str) -> frozenset[str]:
    """The words of ``names.<kind>`` (a field of ``NamesData``) of every language together: a call
    mixes languages and ASR mishears them, so the engine uses them all on every call."""
    return frozenset(w for lang in LANGS for w in getattr(language_data(lang).names, kind))


def redaction_words(field: str) -> tuple[str, ...]:
    """The words of ``redaction.<field>`` (a list field of ``RedactionData``) of every language,
    Italian first, each file's words in the order written, each word once."""
    return tuple(dict.fromkeys(w for lang in LANGS for w in getattr(language_data(lang).redaction, field)))


def redaction_union(field: str) -> dict[str, Any]:
    """The mapping ``redaction.<field>`` (``separators``, ``repeats``, ``day_ordinals``) of every
    language in one (Italian first, each file's words in the order written); ``QAError`` (file:line) when two files
    give one word different values."""
    out: dict[str, Any] = {}
    first: dict[str, str] = {}
    for lang in LANGS:
        for w, v in getattr(language_data(lang).redaction, field).items():
            if w in out and out[w] != v:
                path = data_dir() / f"{lang}.yaml"
                node = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
                line = _line_at(node, ("redaction", field, w))
                raise QAError(f"redaction.{field}.{w}: {v!r} here but {out[w]!r} in {first[w]}.yaml",
                              f"{path}:{line}")
            out.setdefault(w, v)
            first.setdefault(w, lang)
    return out
