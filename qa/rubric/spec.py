"""The shape of the rubric language, declared once as pydantic models (one ``*Spec`` per mapping).

Each model lists the keys a mapping of the rule language allows (any other key is an error),
their types, ranges and defaults; the validators raise the one-line messages people read
("'min_count' must be a whole number >= 1, got 0"). ``qa.rubric.schema`` validates every mapping
of a rubric against its model (``check``), maps each error back to the file and line, and builds
the rule tree. The ``*_KEYS`` sets the loader and the editor use are read from the models.

To add a key to a mapping: one field in its model, with its default (then use it in the builder
in ``qa.rubric.schema``). To add a rule: a model here, a builder and one ``RULES`` line there.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, create_model, \
    model_validator
from pydantic_core import PydanticCustomError

from ..constants import CALL_TYPES, LANGS as LANGUAGES
from ..errors import RubricError
from .yamlsrc import LDict, LList

ROLES = ("agent", "customer", "any", "agent_known")  # agent_known: the agent for sure, never an unknown turn
COMPETENCE_RE = re.compile(r"^[1-7]\.[1-9]$")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


# ---- value checks (pydantic validators with the messages people read) -----------------------

def _fail(message: str):
    raise PydanticCustomError("rubric", "{message}", {"message": message})


def _what(info: ValidationInfo) -> str:
    return (info.context or {}).get("what", "")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def whole(minimum: int, allow_none: bool = False) -> BeforeValidator:
    """A whole number >= ``minimum`` (``None`` too when ``allow_none``)."""
    def check(v: Any, info: ValidationInfo) -> Any:
        if v is None and allow_none:
            return None
        if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
            _fail(f"{info.field_name!r} must be a whole number >= {minimum}, got {v!r}")
        return v
    return BeforeValidator(check)


def number(lo: float = 0.0, hi: float | None = None, lo_open: bool = False, allow_none: bool = False) -> BeforeValidator:
    """A number in [lo, hi] (``lo_open``: > lo), as a float."""
    def check(v: Any, info: ValidationInfo) -> Any:
        if v is None and allow_none:
            return None
        if not _is_num(v) or v < lo or (lo_open and v == lo) or (hi is not None and v > hi):
            rng = f"> {lo}" if lo_open else f">= {lo}"
            if hi is not None:
                rng += f" and <= {hi}"
            _fail(f"{info.field_name!r} must be a number {rng}, got {v!r}")
        return float(v)
    return BeforeValidator(check)


def one_of(options: tuple[str, ...], message: str) -> BeforeValidator:
    """One of ``options``; ``message`` may use {v} (the value, repr) and {field}."""
    def check(v: Any, info: ValidationInfo) -> Any:
        if v not in options:
            _fail(message.format(v=repr(v), field=info.field_name, options=", ".join(options)))
        return str(v)
    return BeforeValidator(check)


Role = Annotated[str, one_of(ROLES, "'by' must be one of {options}, got {v}")]
Count = Annotated[int, whole(1)]
Seconds = Annotated[float, number(0.0, lo_open=True)]
MaybeSeconds = Annotated["float | None", number(0.0, lo_open=True, allow_none=True)]
MaybePercent = Annotated["float | None", number(0.0, 100.0, lo_open=True, allow_none=True)]
MaybeTurns = Annotated["int | None", whole(1, allow_none=True)]


class Spec(BaseModel):
    """A mapping of the rubric language: its keys are the fields (any other key is an error)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    # messages for a key that is missing / not allowed; {what} names the mapping, {key} the key
    missing: ClassVar[str] = "{what} lacks {key!r}"
    unknown: ClassVar[str] = "unknown key {key!r} in {what} (allowed: {allowed})"

    @classmethod
    def keys(cls) -> set[str]:
        """The keys this mapping allows."""
        return {f.alias or name for name, f in cls.model_fields.items()}


class WindowSpec(Spec):
    """``within``: where in the call (every key given must hold)."""

    first_seconds: MaybeSeconds = None
    last_seconds: MaybeSeconds = None
    first_percent: MaybePercent = None
    last_percent: MaybePercent = None
    first_turns: MaybeTurns = None
    last_turns: MaybeTurns = None


class NearSpec(Spec):
    """``near`` of a ``said``: other phrases close by, in words or turns."""

    missing: ClassVar[str] = "'near' needs 'any_of'"
    any_of: Any
    by: Role = "any"
    within_words: Annotated["int | None", whole(1, allow_none=True)] = None
    within_turns: Annotated["int | None", whole(0, allow_none=True)] = None
    position: Annotated[str, one_of(("before", "after", "any"), "'position' must be before, after or any, got {v}")] = "any"

    @model_validator(mode="after")
    def _one_distance(self) -> "NearSpec":
        if (self.within_words is None) == (self.within_turns is None):
            _fail("'near' needs exactly one of 'within_words' or 'within_turns'")
        return self


class SaidSpec(Spec):
    """``said`` / ``not_said``: phrases said by a speaker, in a window, a number of times."""

    missing: ClassVar[str] = "{what} needs 'any_of' (the phrases)"
    by: Role = "agent"
    any_of: Any
    within: Any = None  # a WindowSpec, checked on its own
    min_count: Count = 1
    max_count: Annotated["int | None", whole(0, allow_none=True)] = None
    negation: Annotated[str, one_of(("exclude", "include", "only"),
                                    "'negation' must be exclude, include or only, got {v}")] = "exclude"
    near: Any = None  # a NearSpec, checked on its own


def _model_name(v: Any, info: ValidationInfo) -> Any:
    if not isinstance(v, str) or not ID_RE.match(v):
        _fail(f"'model' needs 'name' (a model in modelli/), got {v!r}")
    return str(v)


def _label(v: Any, info: ValidationInfo) -> Any:
    if not isinstance(v, (str, int)) or isinstance(v, bool):
        _fail(f"'label' must be a label name, got {v!r}")
    return str(v)


class ModelSpec(Spec):
    """``model``: a trained classifier's probability over the speaker's turns."""

    missing: ClassVar[str] = "'model' needs 'name' (a model in modelli/), got None"
    name: Annotated[str, BeforeValidator(_model_name)]
    label: Annotated[str, BeforeValidator(_label)] = "1"
    threshold: Annotated[float, number(0.0, 1.0)] = 0.5
    by: Role = "agent"
    within: Any = None
    min_count: Count = 1


class NameSaidSpec(Spec):
    """``name_said``: the customer's name said by a speaker."""

    by: Role = "agent"
    within: Any = None
    min_count: Count = 1


class OvertalkSpec(Spec):
    """``overtalk``: a speaker talking over the other."""

    by: Role = "agent"
    min_seconds: Seconds = 1.0
    min_count: Count = 1


class SilenceSpec(Spec):
    """``silence``: pauses nobody talks in."""

    min_seconds: Seconds = 10.0
    min_count: Count = 1


class CriterionRefSpec(Spec):
    """``criterion: {id, result}``: another criterion's result."""

    id: Any = None
    result: Annotated[str, one_of(("pass", "fail", "na"), "'result' must be pass, fail or na, got {v}")] = "pass"


def _criterion_text(v: Any, info: ValidationInfo) -> Any:
    if not isinstance(v, str) or not v.strip():
        _fail(f"{_what(info)}: 'title' must be text")
    return v


def _weight(v: Any, info: ValidationInfo) -> Any:
    if not _is_num(v) or v <= 0:
        _fail(f"{_what(info)}: weight must be a number > 0, got {v!r}")
    return float(v)


def _critical(v: Any, info: ValidationInfo) -> Any:
    if not isinstance(v, bool):
        _fail(f"{_what(info)}: 'critical' must be true or false")
    return v


class CriterionSpec(Spec):
    """One criterion of ``criteria``."""

    title: Annotated[str, BeforeValidator(_criterion_text)]
    competence: Any  # codes like "2.1", checked one by one
    weight: Annotated[float, BeforeValidator(_weight)]
    critical: Annotated[bool, BeforeValidator(_critical)] = False
    when: Any = "always"
    rule: Any
    feedback: Any
    description: Any = ""


class FeedbackSpec(Spec):
    """A criterion's ``feedback``: texts per result, each in every language."""

    missing: ClassVar[str] = "{what}: feedback lacks {key!r}"
    unknown: ClassVar[str] = "unknown key {key!r} in feedback of {subject} (allowed: {allowed})"
    pass_: Any = Field(alias="pass")
    fail: Any
    na: Any = None
    applies: Any = None  # why a conditional criterion applies, shown with a ``fail`` (its trigger quoted)


def _text(v: Any, info: ValidationInfo) -> Any:
    if not isinstance(v, str) or not v.strip():
        _fail(f"{_what(info)}: text for language {info.field_name!r} is missing")
    return v


# one text per language: {it: ..., de: ..., fr: ..., en: ...}
LangTextsSpec = create_model("LangTextsSpec", __base__=Spec,
                             **{lang: (Annotated[str, BeforeValidator(_text)], ...) for lang in LANGUAGES})
LangTextsSpec.missing = "{what}: text for language {key!r} is missing"
LangTextsSpec.unknown = "{what}: unknown language {key!r}"


class NamesSpec(Spec):
    """``names``: the phrases that introduce, mention or address a person (with the <NAME> slot)."""

    introduction: Any = None
    mention: Any = None
    address: Any = None


def _negation_window(v: Any, info: ValidationInfo) -> Any:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 10:
        _fail("'negation_window' must be a whole number from 0 to 10")
    return v


def _call_type(v: Any, info: ValidationInfo) -> Any:
    if v is not None and v not in CALL_TYPES:
        _fail(f"'call_type' must be one of {', '.join(CALL_TYPES)}")
    return v


class RubricSpec(Spec):
    """The top level of a rubric file."""

    rubric: Any = None
    version: Any = None
    title: Any = None
    description: Any = None
    extends: Any = None
    abstract: Any = False
    call_type: Annotated[Any, BeforeValidator(_call_type)] = None
    negation: Any = None
    negation_idioms: Any = None
    negation_window: Annotated[int, BeforeValidator(_negation_window)] = 3
    names: Any = None
    collections: Any = None
    conditions: Any = None
    criteria: Any = None


TOP_KEYS = RubricSpec.keys()
CRITERION_KEYS = CriterionSpec.keys()
FEEDBACK_KEYS = FeedbackSpec.keys()
SAID_KEYS = SaidSpec.keys()
NEAR_KEYS = NearSpec.keys()
MODEL_KEYS = ModelSpec.keys()
NAME_SAID_KEYS = NameSaidSpec.keys()
OVERTALK_KEYS = OvertalkSpec.keys()
SILENCE_KEYS = SilenceSpec.keys()
WINDOW_KEYS = WindowSpec.keys()


# ---- validation context ----------------------------------------------------------------------

class _Ctx:
    """What validation collects: the errors, and the names and phrase sets seen so far."""

    def __init__(self, default_source: str):
        self.errors: list[RubricError] = []
        self.default_source = default_source
        self.phrase_sets: dict[str, dict[str, list]] = {}
        self.collections: dict[str, Any] = {}
        self.condition_names: set[str] = set()
        self.criterion_ids: set[str] = set()
        self.models: set[str] = set()
        self._resolving: list[str] = []
        self._coll_cache: dict[str, dict[str, list]] = {}

    def err(self, msg: str, where: Any = None, key: Any = None) -> None:
        """Record an error at ``where`` (a located value) or at its ``key``."""
        line = None
        src = getattr(where, "source", None) or self.default_source
        if isinstance(where, LDict) and key is not None:
            line = where.line_of(key)
        elif isinstance(where, LList) and isinstance(key, int):
            line = where.line_of(key)
        else:
            line = getattr(where, "line", None)
        self.errors.append(RubricError(msg, src, line))


def _check_keys(c: _Ctx, d: LDict, allowed: set[str], what: str) -> None:
    for k in d:
        if k not in allowed:
            c.err(f"unknown key {k!r} in {what} (allowed: {', '.join(sorted(allowed))})", d, k)


def check(c: _Ctx, spec: type[Spec], d: Any, what: str, where: Any = None, subject: str = ""):
    """Validate the mapping ``d`` against ``spec``; every error goes to ``c`` with its line (at
    ``where``, default ``d``). Returns the validated model, with the default in place of each
    value that was wrong (so that the rest can still be checked), or None when a required key is
    missing."""
    where = d if where is None else where
    allowed = ", ".join(sorted(spec.keys()))
    try:
        return spec.model_validate(d, context={"what": what})
    except ValidationError as e:
        bad, missing = set(), False
        for err in e.errors(include_url=False):
            key = err["loc"][0] if err["loc"] else None  # the YAML key (an alias where there is one)
            if err["type"] == "extra_forbidden":
                c.err(spec.unknown.format(key=key, what=what, allowed=allowed, subject=subject), where, key)
            elif err["type"] == "missing":
                missing = True
                c.err(spec.missing.format(key=key, what=what), where)
            else:
                msg = err["msg"].removeprefix("Value error, ")
                c.err(msg, where, key if isinstance(where, LDict) and key in where else None)
            bad.add(key)
        if missing:
            return None
        try:
            return spec.model_validate({k: v for k, v in d.items() if k not in bad}, context={"what": what})
        except ValidationError:
            return None
