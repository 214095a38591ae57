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
      ...                                 #   confirmations: see NamesData

To add a language: add its code to ``qa.constants.LANGS`` and write ``rubriche/lingue/<code>.yaml``.
To add a kind of data: add a field to ``LanguageData`` (or a section model) and fill it in every file;
an unknown key is an error, so a typo never goes unnoticed. A broken file is one ``QAError`` line
with the file and line (``rubriche/lingue/it.yaml:7: greetings.2: ...``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictStr, StringConstraints, ValidationError, model_validator

from .constants import LANGS
from .errors import QAError

Phrase = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]


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


class LanguageData(_Strict):
    """One ``rubriche/lingue/<lang>.yaml`` file, validated."""

    language: StrictStr
    greetings: Annotated[tuple[Phrase, ...], Field(min_length=1)]
    fairness: FairnessData = FairnessData()
    names: NamesData = NamesData()

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


def parse(text: str, source: str) -> LanguageData:
    """Validate the text of one language file; ``QAError`` (file:line: reason) when it is not valid."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise QAError(f"YAML syntax error: {getattr(e, 'problem', None) or e}", where) from None
    if not isinstance(raw, dict):
        raise QAError("a language file is a mapping with 'language' and 'greetings'", f"{source}:1")
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
