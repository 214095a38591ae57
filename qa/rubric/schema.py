"""Validate a (merged) rubric document and build the Rubric object; every error has file + line.

Nothing is half-valid: ``build_rubric`` collects every error it finds and the loader refuses
the rubric if there is even one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import CALL_TYPES, LANGUAGES
from ..errors import RubricError
from . import rules as R
from .yamlsrc import LDict, LList

TOP_KEYS = {"rubric", "version", "title", "description", "extends", "abstract", "call_type", "negation",
            "negation_window", "names", "collections", "conditions", "criteria"}
CRITERION_KEYS = {"title", "competence", "weight", "critical", "when", "rule", "feedback", "description"}
FEEDBACK_KEYS = {"pass", "fail", "na"}
SAID_KEYS = {"by", "any_of", "within", "min_count", "max_count", "negation", "near"}
NEAR_KEYS = {"any_of", "by", "within_words", "within_turns", "position"}
MODEL_KEYS = {"name", "label", "threshold", "by", "within", "min_count"}
NAME_SAID_KEYS = {"by", "within", "min_count"}
OVERTALK_KEYS = {"by", "min_seconds", "min_count"}
SILENCE_KEYS = {"min_seconds", "min_count"}
WINDOW_KEYS = {"first_seconds", "last_seconds", "first_percent", "last_percent", "first_turns", "last_turns"}
RULE_KEYS = ("all", "any", "not", "said", "not_said", "model", "meta", "name_known", "name_said", "condition",
             "criterion", "overtalk", "silence")
ROLES = ("agent", "customer", "any")
COMPETENCE_RE = re.compile(r"^[1-7]\.[1-9]$")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Criterion:
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
        return ", ".join(self.competences)


@dataclass
class Rubric:
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
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False)

    def criterion(self, cid: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == cid), None)


class _Ctx:
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
        line = None
        src = getattr(where, "source", None) or self.default_source
        if isinstance(where, LDict) and key is not None:
            line = where.line_of(key)
        elif isinstance(where, LList) and isinstance(key, int):
            line = where.line_of(key)
        else:
            line = getattr(where, "line", None)
        self.errors.append(RubricError(msg, src, line))


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_keys(c: _Ctx, d: LDict, allowed: set[str], what: str) -> None:
    for k in d:
        if k not in allowed:
            c.err(f"unknown key {k!r} in {what} (allowed: {', '.join(sorted(allowed))})", d, k)


# ---- phrase lists --------------------------------------------------------------------------

def _resolve_collection(c: _Ctx, name: str, where: Any) -> dict[str, list] | None:
    if name in c._coll_cache:
        return c._coll_cache[name]
    if name not in c.collections:
        c.err(f"unknown collection '@{name}'", where)
        return None
    if name in c._resolving:
        c.err(f"collection '@{name}' includes itself ({' -> '.join(c._resolving + [name])})", where)
        return None
    c._resolving.append(name)
    try:
        res = _phrase_spec(c, c.collections[name], f"collection {name!r}")
    finally:
        c._resolving.pop()
    c._coll_cache[name] = res
    return res


def _phrase_spec(c: _Ctx, v: Any, what: str) -> dict[str, list] | None:
    """any_of value -> {lang: [LStr phrase, ...]} or None (after reporting errors)."""
    out: dict[str, list] = {lang: [] for lang in LANGUAGES}
    ok = True
    if isinstance(v, str):
        if not v.startswith("@"):
            c.err(f"{what}: a phrase list is '@collection', a list of '@collection's, or a mapping "
                  f"with phrases for {', '.join(LANGUAGES)}", v)
            return None
        res = _resolve_collection(c, v[1:], v)
        return res
    if isinstance(v, LList):
        if not v:
            c.err(f"{what}: empty phrase list", v)
            return None
        for i, item in enumerate(v):
            if isinstance(item, (str, LDict)):
                res = _phrase_spec(c, item, what)
                if res is None:
                    ok = False
                    continue
                for lang in LANGUAGES:
                    out[lang].extend(res[lang])
            else:
                c.err(f"{what}: list items must be '@collection' names", v, i)
                ok = False
        return out if ok else None
    if isinstance(v, LDict):
        for k in v:
            if k not in LANGUAGES:
                c.err(f"{what}: unknown language {k!r} (languages: {', '.join(LANGUAGES)})", v, k)
                ok = False
        for lang in LANGUAGES:
            if lang not in v:
                c.err(f"{what}: phrases for language {lang!r} are missing", v)
                ok = False
                continue
            items = v[lang]
            if isinstance(items, str):
                items = LList([items])
                items.line, items.lines, items.source = v.line_of(lang), [v.line_of(lang)], v.source
            if not isinstance(items, LList) or not items:
                c.err(f"{what}: phrases for {lang!r} must be a non-empty list", v, lang)
                ok = False
                continue
            for i, p in enumerate(items):
                if not isinstance(p, str) or not p.strip():
                    c.err(f"{what}: phrase {i + 1} for {lang!r} must be non-empty text", items, i)
                    ok = False
                elif p.startswith("@"):
                    res = _resolve_collection(c, p[1:], p)
                    if res is None:
                        ok = False
                    else:
                        out[lang].extend(res[lang])
                else:
                    out[lang].append(p)
        return out if ok else None
    c.err(f"{what}: expected a phrase list", v)
    return None


def _phrase_key(c: _Ctx, spec: dict[str, list]) -> str:
    canon = "\x1e".join(lang + "\x1f" + "\x1f".join(dict.fromkeys(str(p) for p in spec[lang])) for lang in LANGUAGES)
    key = "ps_" + hashlib.sha1(canon.encode()).hexdigest()[:12]
    if key not in c.phrase_sets:
        c.phrase_sets[key] = {lang: list({str(p): p for p in spec[lang]}.values()) for lang in LANGUAGES}
    return key


# ---- rule nodes ----------------------------------------------------------------------------

def _role(c: _Ctx, d: LDict, default: str) -> str:
    v = d.get("by", default)
    if v not in ROLES:
        c.err(f"'by' must be one of {', '.join(ROLES)}, got {v!r}", d, "by")
        return default
    return str(v)


def _int(c: _Ctx, d: LDict, key: str, default, minimum: int = 1):
    v = d.get(key, default)
    if v is default:
        return v
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        c.err(f"{key!r} must be a whole number >= {minimum}, got {v!r}", d, key)
        return default
    return v


def _num(c: _Ctx, d: LDict, key: str, default, lo: float = 0.0, hi: float | None = None, lo_open=False):
    v = d.get(key, default)
    if v is default:
        return v
    if not _is_num(v) or v < lo or (lo_open and v == lo) or (hi is not None and v > hi):
        rng = f"> {lo}" if lo_open else f">= {lo}"
        if hi is not None:
            rng += f" and <= {hi}"
        c.err(f"{key!r} must be a number {rng}, got {v!r}", d, key)
        return default
    return float(v)


def _window(c: _Ctx, d: LDict) -> R.Window:
    w = R.Window()
    v = d.get("within")
    if v is None:
        return w
    if not isinstance(v, LDict) or not v:
        c.err("'within' must be a mapping such as {first_turns: 2} or {last_percent: 30}", d, "within")
        return w
    _check_keys(c, v, WINDOW_KEYS, "'within'")
    for k in ("first_seconds", "last_seconds"):
        setattr(w, k, _num(c, v, k, None, 0.0, lo_open=True))
    for k in ("first_percent", "last_percent"):
        setattr(w, k, _num(c, v, k, None, 0.0, 100.0, lo_open=True))
    for k in ("first_turns", "last_turns"):
        setattr(w, k, _int(c, v, k, None, 1))
    return w


def _said(c: _Ctx, v: Any, where: Any, key: str) -> R.Said | None:
    if not isinstance(v, LDict):
        c.err(f"'{key}' needs a mapping with at least 'any_of'", where, key)
        return None
    _check_keys(c, v, SAID_KEYS, f"'{key}'")
    if "any_of" not in v:
        c.err(f"'{key}' needs 'any_of' (the phrases)", v)
        return None
    spec = _phrase_spec(c, v["any_of"], f"'{key}'")
    node = R.Said(key="")
    node.by = _role(c, v, "agent")
    node.window = _window(c, v)
    node.min_count = _int(c, v, "min_count", 1, 1)
    node.max_count = _int(c, v, "max_count", None, 0)
    neg = v.get("negation", "exclude")
    if neg not in ("exclude", "include", "only"):
        c.err(f"'negation' must be exclude, include or only, got {neg!r}", v, "negation")
    else:
        node.negation = str(neg)
    if "near" in v:
        n = v["near"]
        if not isinstance(n, LDict):
            c.err("'near' must be a mapping with 'any_of' and 'within_words' or 'within_turns'", v, "near")
        else:
            _check_keys(c, n, NEAR_KEYS, "'near'")
            if "any_of" not in n:
                c.err("'near' needs 'any_of'", n)
            else:
                nspec = _phrase_spec(c, n["any_of"], "'near'")
                ww = _int(c, n, "within_words", None, 1)
                wt = _int(c, n, "within_turns", None, 0)
                if (ww is None) == (wt is None):
                    c.err("'near' needs exactly one of 'within_words' or 'within_turns'", n)
                pos = n.get("position", "any")
                if pos not in ("before", "after", "any"):
                    c.err(f"'position' must be before, after or any, got {pos!r}", n, "position")
                    pos = "any"
                if nspec is not None:
                    node.near = R.Near(_phrase_key(c, nspec), _role(c, n, "any"), ww, wt, str(pos))
    if spec is None:
        return None
    node.key = _phrase_key(c, spec)
    return node


def parse_rule(c: _Ctx, v: Any, where: Any = None, key: Any = None, allow_always: bool = False) -> R.Node | None:
    if isinstance(v, str) and allow_always and v == "always":
        return R.Always()
    if not isinstance(v, LDict):
        hint = "'always' or a rule" if allow_always else "a rule"
        c.err(f"expected {hint} (a mapping with one of: {', '.join(RULE_KEYS)}), got {v!r}",
              v if hasattr(v, "line") else where, None if hasattr(v, "line") else key)
        return None
    keys = [k for k in v]
    if len(keys) != 1:
        c.err(f"a rule has exactly one of {', '.join(RULE_KEYS)}; got {', '.join(keys) or 'nothing'} "
              "(combine with 'all' / 'any')", v)
        return None
    k = keys[0]
    body = v[k]
    if k not in RULE_KEYS:
        c.err(f"unknown rule {k!r} (known: {', '.join(RULE_KEYS)})", v, k)
        return None
    if k in ("all", "any"):
        if not isinstance(body, LList) or not body:
            c.err(f"'{k}' needs a non-empty list of rules", v, k)
            return None
        items = [parse_rule(c, item, body, i) for i, item in enumerate(body)]
        if any(i is None for i in items):
            return None
        return R.All(items) if k == "all" else R.Any_(items)
    if k == "not":
        inner = parse_rule(c, body, v, k)
        return None if inner is None else R.Not(inner)
    if k == "said":
        return _said(c, body, v, k)
    if k == "not_said":
        s = _said(c, body, v, k)
        return None if s is None else R.NotSaid(s)
    if k == "model":
        if not isinstance(body, LDict):
            c.err("'model' needs a mapping with 'name'", v, k)
            return None
        _check_keys(c, body, MODEL_KEYS, "'model'")
        name = body.get("name")
        if not isinstance(name, str) or not ID_RE.match(name):
            c.err(f"'model' needs 'name' (a model in modelli/), got {name!r}", body, "name" if "name" in body else None)
            return None
        from ..config import models_dir

        try:
            mdir = models_dir()
        except RuntimeError:
            mdir = None
        if mdir is None or not (Path(mdir) / f"{name}.joblib").exists():
            c.err(f"unknown model {name!r}: {name}.joblib not found in modelli/", body, "name")
        c.models.add(str(name))
        label = body.get("label", "1")
        if not isinstance(label, (str, int)) or isinstance(label, bool):
            c.err(f"'label' must be a label name, got {label!r}", body, "label")
            label = "1"
        return R.Model(str(name), str(label), _num(c, body, "threshold", 0.5, 0.0, 1.0), _role(c, body, "agent"),
                       _window(c, body), _int(c, body, "min_count", 1, 1))
    if k == "meta":
        if not isinstance(body, LDict) or not body:
            c.err("'meta' needs a mapping such as {call_type: assistenza, direction: inbound}", v, k)
            return None
        conds: dict[str, list[str]] = {}
        for mk, mv in body.items():
            vals = mv if isinstance(mv, LList) else [mv]
            if not vals or not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in vals):
                c.err(f"meta {mk!r} must be a value or a list of values", body, mk)
                continue
            vals = [str(x).strip().lower() for x in vals]
            if mk == "call_type":
                bad = [x for x in vals if x not in CALL_TYPES]
                if bad:
                    c.err(f"meta call_type {bad[0]!r} unknown (one of {', '.join(CALL_TYPES)})", body, mk)
            if mk == "language":
                bad = [x for x in vals if x not in LANGUAGES]
                if bad:
                    c.err(f"meta language {bad[0]!r} unknown (one of {', '.join(LANGUAGES)})", body, mk)
            if mk == "direction":
                bad = [x for x in vals if x not in ("inbound", "outbound")]
                if bad:
                    c.err(f"meta direction {bad[0]!r} unknown (inbound or outbound)", body, mk)
            conds[str(mk)] = vals
        return R.Meta(conds)
    if k == "name_known":
        if not isinstance(body, bool):
            c.err("'name_known' must be true or false", v, k)
            return None
        return R.NameKnown(body)
    if k == "name_said":
        if body is None:
            body = LDict()
        if not isinstance(body, LDict):
            c.err("'name_said' needs a mapping such as {by: agent, min_count: 2}", v, k)
            return None
        _check_keys(c, body, NAME_SAID_KEYS, "'name_said'")
        return R.NameSaid(_role(c, body, "agent"), _window(c, body), _int(c, body, "min_count", 1, 1))
    if k == "condition":
        if not isinstance(body, str):
            c.err("'condition' needs the name of a condition", v, k)
            return None
        if body not in c.condition_names:
            c.err(f"unknown condition {body!r}", v, k)
            return None
        return R.ConditionRef(str(body))
    if k == "criterion":
        cid, res = body, "pass"
        if isinstance(body, LDict):
            _check_keys(c, body, {"id", "result"}, "'criterion'")
            cid, res = body.get("id"), body.get("result", "pass")
        if not isinstance(cid, str):
            c.err("'criterion' needs a criterion id", v, k)
            return None
        if cid not in c.criterion_ids:
            c.err(f"unknown criterion {cid!r}", v, k)
            return None
        if res not in ("pass", "fail", "na"):
            c.err(f"'result' must be pass, fail or na, got {res!r}", body, "result")
            return None
        return R.CriterionRef(str(cid), str(res))
    if k == "overtalk":
        body = body if isinstance(body, LDict) else None
        if body is None:
            c.err("'overtalk' needs a mapping such as {by: agent, min_seconds: 1}", v, k)
            return None
        _check_keys(c, body, OVERTALK_KEYS, "'overtalk'")
        return R.Overtalk(_role(c, body, "agent"), _num(c, body, "min_seconds", 1.0, 0.0, lo_open=True),
                          _int(c, body, "min_count", 1, 1))
    if k == "silence":
        if not isinstance(body, LDict):
            c.err("'silence' needs a mapping such as {min_seconds: 10}", v, k)
            return None
        _check_keys(c, body, SILENCE_KEYS, "'silence'")
        return R.Silence(_num(c, body, "min_seconds", 10.0, 0.0, lo_open=True), _int(c, body, "min_count", 1, 1))
    raise AssertionError(k)


def _lang_texts(c: _Ctx, v: Any, what: str, where: Any, key: str) -> dict[str, str] | None:
    if not isinstance(v, LDict):
        c.err(f"{what} must be a mapping with texts for {', '.join(LANGUAGES)}", where, key)
        return None
    ok = True
    for k in v:
        if k not in LANGUAGES:
            c.err(f"{what}: unknown language {k!r}", v, k)
            ok = False
    for lang in LANGUAGES:
        t = v.get(lang)
        if not isinstance(t, str) or not t.strip():
            c.err(f"{what}: text for language {lang!r} is missing", v, lang if lang in v else None)
            ok = False
    return {lang: " ".join(str(v[lang]).split()) for lang in LANGUAGES} if ok else None


def _criterion(c: _Ctx, cid: str, d: Any, where: LDict) -> Criterion | None:
    if not ID_RE.match(cid):
        c.err(f"criterion id {cid!r} must be lower case letters, digits and '_'", where, cid)
    if not isinstance(d, LDict):
        c.err(f"criterion {cid!r} must be a mapping", where, cid)
        return None
    n_before = len(c.errors)
    _check_keys(c, d, CRITERION_KEYS, f"criterion {cid!r}")
    for req in ("title", "competence", "weight", "rule", "feedback"):
        if req not in d:
            c.err(f"criterion {cid!r} lacks {req!r}", d)
    title = d.get("title")
    if "title" in d and (not isinstance(title, str) or not title.strip()):
        c.err(f"criterion {cid!r}: 'title' must be text", d, "title")
    comp = d.get("competence")
    comps: list[str] = []
    if comp is not None:
        items = comp if isinstance(comp, LList) else [comp]
        for x in items:
            xs = str(x) if isinstance(x, (str, float)) else None
            if xs is None or not COMPETENCE_RE.match(xs):
                c.err(f"criterion {cid!r}: competence codes look like '2.1' (from the competence profile), "
                      f"got {x!r}", d, "competence")
            else:
                comps.append(xs)
    weight = d.get("weight")
    if "weight" in d and (not _is_num(weight) or weight <= 0):
        c.err(f"criterion {cid!r}: weight must be a number > 0, got {weight!r}", d, "weight")
    critical = d.get("critical", False)
    if not isinstance(critical, bool):
        c.err(f"criterion {cid!r}: 'critical' must be true or false", d, "critical")
    when = parse_rule(c, d.get("when", "always"), d, "when", allow_always=True) if "when" in d else R.Always()
    rule = parse_rule(c, d["rule"], d, "rule") if "rule" in d else None
    if rule is not None and not R.gives_evidence(rule):
        c.err(f"criterion {cid!r}: the rule can pass without evidence; it needs a 'said', 'model' or "
              "'name_said' outside 'not'", d, "rule")
    feedback: dict[str, dict[str, str]] = {}
    fb = d.get("feedback")
    if fb is not None:
        if not isinstance(fb, LDict):
            c.err(f"criterion {cid!r}: 'feedback' needs 'pass' and 'fail' texts", d, "feedback")
        else:
            _check_keys(c, fb, FEEDBACK_KEYS, f"feedback of {cid!r}")
            for kind in ("pass", "fail"):
                if kind not in fb:
                    c.err(f"criterion {cid!r}: feedback lacks {kind!r}", fb)
            for kind in FEEDBACK_KEYS:
                if kind in fb:
                    t = _lang_texts(c, fb[kind], f"feedback {kind!r} of {cid!r}", fb, kind)
                    if t:
                        feedback[kind] = t
    if len(c.errors) > n_before or rule is None or when is None:
        return None
    return Criterion(str(cid), " ".join(str(title).split()), comps, float(weight), bool(critical), when, rule,
                     feedback, str(d.get("description", "")))


def build_rubric(doc: dict[str, Any], path: str, sources: list[str]) -> tuple[Rubric | None, list[RubricError]]:
    """``doc`` is the merged document (after ``extends``): top-level keys, plus ``criteria``,
    ``collections`` and ``conditions`` as dicts of LDict values that carry their own source."""
    c = _Ctx(path)
    top: LDict = doc["_top"]
    _check_keys(c, top, TOP_KEYS, "the rubric")
    abstract = bool(top.get("abstract", False))
    name = top.get("rubric")
    if not abstract and (not isinstance(name, str) or not ID_RE.match(name)):
        c.err("'rubric' (the rubric's name: lower case letters, digits, '_') is missing or invalid", top,
              "rubric" if "rubric" in top else None)
    version = doc.get("version")
    if not isinstance(version, (str, int, float)) or isinstance(version, bool) or not str(version).strip():
        c.err("'version' is missing (e.g. version: 2026-11-29.1)", top, "version" if "version" in top else None)
    call_type = top.get("call_type")
    if call_type is not None and call_type not in CALL_TYPES:
        c.err(f"'call_type' must be one of {', '.join(CALL_TYPES)}", top, "call_type")
    nw = doc.get("negation_window", 3)
    if not isinstance(nw, int) or isinstance(nw, bool) or not 0 <= nw <= 10:
        c.err("'negation_window' must be a whole number from 0 to 10", top, "negation_window")
        nw = 3

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

    negation: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    if "negation" in doc:
        spec = _phrase_spec(c, doc["negation"], "'negation'")
        if spec:
            negation = {lang: [str(p) for p in spec[lang]] for lang in LANGUAGES}
            for lang in LANGUAGES:
                for p in spec[lang]:
                    if len(str(p).split()) != 1:
                        c.err(f"'negation': {p!r} must be a single word", p)

    names: dict[str, str] = {}
    if "names" in doc:
        nd = doc["names"]
        if not isinstance(nd, LDict):
            c.err("'names' needs 'introduction', 'mention' and/or 'address' phrase lists", top, "names")
        else:
            _check_keys(c, nd, {"introduction", "mention", "address"}, "'names'")
            for k in ("introduction", "mention", "address"):
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
