"""Validate a (merged) rubric document and build the Rubric object; every error has file + line.

The shape of every mapping of the rule language (which keys, which types and ranges, the
defaults) is declared once, as pydantic models (``qa.rubric.spec``); the keys the loader and the
editor know (``SAID_KEYS`` ..., ``RULE_KEYS``) are read from them and from ``RULES``
(``qa.rubric.ruleparse``, which builds the rule trees). What a schema cannot say is checked by
hand: phrase lists and their ``@collection`` references, references between conditions and
criteria (and their cycles), models present in modelli/, patterns that compile.

Every error is a ``RubricError`` with the file and line of the offending key (pydantic's error
locations are mapped back to the YAML through ``yamlsrc``'s line-keeping values). Nothing is
half-valid: ``build_rubric`` collects every error it finds and the loader refuses the rubric if
there is even one.

To add a key to a rule (say ``said``): one field in its model in ``qa.rubric.spec`` (with its
default) and its use in the rule's builder in ``qa.rubric.ruleparse``. To add a rule: its model,
a builder, and one line in ``RULES``.
"""

from __future__ import annotations


from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..constants import LANGS as LANGUAGES
from ..errors import RubricError
from . import rules as R
from .ruleparse import RULE_KEYS, RULES, _phrase_key, _phrase_spec, _resolve_collection, parse_rule
from .spec import (COMPETENCE_RE, CRITERION_KEYS, FEEDBACK_KEYS, ID_RE, MODEL_KEYS, NAME_SAID_KEYS, NEAR_KEYS,
                   OVERTALK_KEYS, ROLES, SAID_KEYS, SILENCE_KEYS, TOP_KEYS, WINDOW_KEYS, CriterionSpec, FeedbackSpec,
                   LangTextsSpec, NamesSpec, RubricSpec, _check_keys, _Ctx, check)
from .yamlsrc import LDict, LList

__all__ = ["Criterion", "Rubric", "build_rubric", "parse_rule", "check", "RULES", "RULE_KEYS", "TOP_KEYS",
           "CRITERION_KEYS", "FEEDBACK_KEYS", "SAID_KEYS", "NEAR_KEYS", "MODEL_KEYS", "NAME_SAID_KEYS",
           "OVERTALK_KEYS", "SILENCE_KEYS", "WINDOW_KEYS", "ROLES", "COMPETENCE_RE", "ID_RE"]


@dataclass
class Criterion:
    """One criterion of a rubric, validated: ``id`` and ``title``, its ``competences`` codes, ``weight``,
    ``critical`` (a fail flags the call for compliance), ``when`` (the rule that makes it applicable,
    ``Always`` without one) and ``rule`` (what makes it pass), ``feedback`` texts per result and
    language, and an optional ``description``."""

    id: str
    title: str
    competences: list[str]
    weight: float
    critical: bool
    when: R.Node
    rule: R.Node
    feedback: dict[str, dict[str, str]]
    description: str = ""

    @property
    def competence(self) -> str:
        """The competence codes, comma-separated ("2.1, 3.5")."""
        return ", ".join(self.competences)


@dataclass
class Rubric:
    """A validated, compiled rubric: its criteria in order, phrase sets per language, conditions,
    negation words (and the window in tokens they reach), name phrases, the models its rules use, and
    the files it was merged from through ``extends`` (``sources``, bases first); ``_compiled`` holds the
    matchers built once."""

    name: str
    version: str
    path: str
    title: str
    call_type: str | None
    criteria: list[Criterion]
    phrase_sets: dict[str, dict[str, list[str]]]  # key -> lang -> phrases
    conditions: dict[str, R.Node]
    negation: dict[str, list[str]]
    negation_window: int
    names: dict[str, str]  # introduction/address -> phrase-set key
    models: set[str]
    abstract: bool = False
    sources: list[str] = field(default_factory=list)
    # fixed phrases in which a negation word negates nothing ("nessun problema", "keine Sorge",
    # "pas de souci", "no problem"): lang -> phrases, each holding one of the negation words
    negation_idioms: dict[str, list[str]] = field(default_factory=dict)
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False)

    def criterion(self, cid: str) -> Criterion | None:
        """The criterion with id ``cid``, or None."""
        return next((c for c in self.criteria if c.id == cid), None)


def _phrase_lists(c: _Ctx, doc: dict, key: str, bad) -> dict[str, list[str]]:
    """The per-language phrases of top-level ``key`` (a collection or inline lists; empty lists when
    absent); ``bad(lang, phrase)`` is why a phrase does not belong there, or None."""
    out: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    spec = _phrase_spec(c, doc[key], f"'{key}'") if key in doc else None
    if spec:
        out = {lang: [str(p) for p in spec[lang]] for lang in LANGUAGES}
        for lang in LANGUAGES:
            for p in spec[lang]:
                why = bad(lang, str(p))
                if why:
                    c.err(f"'{key}': {p!r} {why}", p)
    return out


def _lang_texts(c: _Ctx, v: Any, what: str, where: Any, key: str) -> dict[str, str] | None:
    if not isinstance(v, LDict):
        c.err(f"{what} must be a mapping with texts for {', '.join(LANGUAGES)}", where, key)
        return None
    n = len(c.errors)
    spec = check(c, LangTextsSpec, v, what)
    if spec is None or len(c.errors) > n:
        return None
    return {lang: " ".join(str(getattr(spec, lang)).split()) for lang in LANGUAGES}


def _criterion(c: _Ctx, cid: str, d: Any, where: LDict) -> Criterion | None:
    if not ID_RE.match(cid):
        c.err(f"criterion id {cid!r} must be lower case letters, digits and '_'", where, cid)
    if not isinstance(d, LDict):
        c.err(f"criterion {cid!r} must be a mapping", where, cid)
        return None
    n_before = len(c.errors)
    what = f"criterion {cid!r}"
    spec = check(c, CriterionSpec, d, what)
    comps: list[str] = []
    comp = d.get("competence")
    if comp is not None:
        for x in (comp if isinstance(comp, LList) else [comp]):
            xs = str(x) if isinstance(x, (str, float)) else None
            if xs is None or not COMPETENCE_RE.match(xs):
                c.err(f"{what}: competence codes look like '2.1' (from the competence profile), got {x!r}",
                      d, "competence")
            else:
                comps.append(xs)
    when = parse_rule(c, d["when"], d, "when", allow_always=True) if "when" in d else R.Always()
    rule = parse_rule(c, d["rule"], d, "rule") if "rule" in d else None
    if rule is not None and not R.gives_evidence(rule):
        c.err(f"{what}: the rule can pass without evidence; it needs a 'said', 'model', 'restates' or "
              "'name_said' outside 'not'", d, "rule")
    feedback: dict[str, dict[str, str]] = {}
    fb = d.get("feedback")
    if fb is not None:
        if not isinstance(fb, LDict):
            c.err(f"{what}: 'feedback' needs 'pass' and 'fail' texts", d, "feedback")
        else:
            check(c, FeedbackSpec, fb, what, subject=repr(cid))
            for kind in ("pass", "fail", "na", "applies"):
                if kind in fb:
                    t = _lang_texts(c, fb[kind], f"feedback {kind!r} of {cid!r}", fb, kind)
                    if t:
                        feedback[kind] = t
    if len(c.errors) > n_before or spec is None or rule is None or when is None:
        return None
    return Criterion(str(cid), " ".join(spec.title.split()), comps, spec.weight, spec.critical, when, rule,
                     feedback, str(d.get("description", "")))


def build_rubric(doc: dict[str, Any], path: str, sources: list[str]) -> tuple[Rubric | None, list[RubricError]]:
    """``doc`` is the merged document (after ``extends``): top-level keys, plus ``criteria``,
    ``collections`` and ``conditions`` as dicts of LDict values that carry their own source."""
    c = _Ctx(path)
    top: LDict = doc["_top"]
    _check_keys(c, top, TOP_KEYS, "the rubric")  # the loader checks each file's keys; this, the merged top
    abstract = bool(top.get("abstract", False))
    name = top.get("rubric")
    if not abstract and (not isinstance(name, str) or not ID_RE.match(name)):
        c.err("'rubric' (the rubric's name: lower case letters, digits, '_') is missing or invalid", top,
              "rubric" if "rubric" in top else None)
    version = doc.get("version")
    if not isinstance(version, (str, int, float)) or isinstance(version, bool) or not str(version).strip():
        c.err("'version' is missing (e.g. version: 2026-11-29.1)", top, "version" if "version" in top else None)
    settings = check(c, RubricSpec, {k: v for k, v in (("call_type", top.get("call_type")),
                                                       ("negation_window", doc.get("negation_window", 3)))},
                     "the rubric", where=top) or RubricSpec()
    call_type, nw = settings.call_type, settings.negation_window

    c.collections = {}
    for cname, (cval, cwhere) in doc["collections"].items():
        if not ID_RE.match(cname):
            c.err(f"collection name {cname!r} must be lower case letters, digits and '_'", cwhere, cname)
        c.collections[cname] = cval
    c.condition_names = set(doc["conditions"])
    c.criterion_ids = set(doc["criteria"])

    # every collection must resolve (even unused ones: a typo in one is still a typo)
    for cname, cval in c.collections.items():
        _resolve_collection(c, cname, cval)

    negation = _phrase_lists(c, doc, "negation", lambda lang, p: None if len(p.split()) == 1 else "must be a single word")

    def no_negation_word(lang: str, p: str) -> str | None:
        toks, low = p.lower().split(), p.lower()
        if any(w.lower() in toks or ("'" in w and w.lower() in low) for w in negation[lang]):
            return None
        return f"holds none of the negation words of {lang!r}"

    negation_idioms = _phrase_lists(c, doc, "negation_idioms", no_negation_word)

    names: dict[str, str] = {}
    if "names" in doc:
        nd = doc["names"]
        if not isinstance(nd, LDict):
            c.err("'names' needs 'introduction', 'mention' and/or 'address' phrase lists", top, "names")
        else:
            check(c, NamesSpec, nd, "'names'")
            for k in NamesSpec.model_fields:
                if k in nd:
                    spec = _phrase_spec(c, nd[k], f"names {k!r}")
                    if spec:
                        for lang in LANGUAGES:
                            for p in spec[lang]:
                                if "<NAME>" not in str(p).split():
                                    c.err(f"names {k!r}: phrase {str(p)!r} needs the <NAME> slot", p)
                        names[k] = _phrase_key(c, spec)

    conditions: dict[str, R.Node] = {}
    for cname, (cval, cwhere) in doc["conditions"].items():
        node = parse_rule(c, cval, cwhere, cname)
        if node is not None:
            conditions[cname] = node
    # resolve condition references and refuse cycles
    for node in list(conditions.values()):
        for n in R.walk(node):
            if isinstance(n, R.ConditionRef):
                n.node = conditions.get(n.name)

    def cond_cycle(name: str, stack: list[str]) -> list[str] | None:
        if name in stack:
            return stack + [name]
        node = conditions.get(name)
        if node is None:
            return None
        for n in R.walk(node):
            if isinstance(n, R.ConditionRef):
                cyc = cond_cycle(n.name, stack + [name])
                if cyc:
                    return cyc
        return None

    for cname, (cval, cwhere) in doc["conditions"].items():
        cyc = cond_cycle(cname, [])
        if cyc and cyc[0] == cname:
            c.err(f"condition {cname!r} refers to itself ({' -> '.join(cyc)})", cwhere, cname)

    criteria: list[Criterion] = []
    for cid, (cval, cwhere) in doc["criteria"].items():
        crit = _criterion(c, cid, cval, cwhere)
        if crit is not None:
            for node in (crit.when, crit.rule):
                for n in R.walk(node):
                    if isinstance(n, R.ConditionRef):
                        n.node = conditions.get(n.name)
            criteria.append(crit)
    if not abstract and not doc["criteria"]:
        c.err("the rubric has no criteria", top)

    # criterion references must not loop
    deps = {}
    for crit in criteria:
        deps[crit.id] = {n.criterion for node in (crit.when, crit.rule) for n in _walk_deep(node)
                         if isinstance(n, R.CriterionRef)}

    def crit_cycle(cid: str, stack: list[str]) -> list[str] | None:
        if cid in stack:
            return stack + [cid]
        for d in deps.get(cid, ()):
            cyc = crit_cycle(d, stack + [cid])
            if cyc:
                return cyc
        return None

    for cid, (cval, cwhere) in doc["criteria"].items():
        cyc = crit_cycle(cid, [])
        if cyc and cyc[0] == cid:
            c.err(f"criterion {cid!r} depends on itself ({' -> '.join(cyc)})", cwhere, cid)

    # compile every phrase in every language now: an invalid pattern is a load error, not a runtime one
    from .compiled import compile_phrase_sets

    compiled = compile_phrase_sets(c, c.phrase_sets, names, path)

    if c.errors:
        return None, c.errors
    rub = Rubric(
        name=str(name) if name else Path(path).stem,
        version=str(version),
        path=str(path),
        title=str(top.get("title", name or "")),
        call_type=call_type,
        criteria=criteria,
        phrase_sets={k: {lang: [str(p) for p in v[lang]] for lang in LANGUAGES} for k, v in c.phrase_sets.items()},
        conditions=conditions,
        negation=negation,
        negation_idioms=negation_idioms,
        negation_window=nw,
        names=names,
        models=set(c.models),
        abstract=abstract,
        sources=sources,
    )
    rub._compiled.update(compiled)
    return rub, []


def _walk_deep(node: R.Node):
    for n in R.walk(node):
        yield n
        if isinstance(n, R.ConditionRef) and n.node is not None:
            yield from _walk_deep(n.node)
