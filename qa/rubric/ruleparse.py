"""The rule language parsed into rule nodes (``qa.rubric.rules``): phrase lists with their
``@collection`` references, and one builder per rule, each mapping validated against its model in
``qa.rubric.spec``. ``RULES`` lists the rules; to add one: its model, its builder, one line there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..constants import CALL_TYPES, LANGS as LANGUAGES
from . import rules as R
from .spec import (CriterionRefSpec, ModelSpec, NameSaidSpec, NearSpec, OvertalkSpec, SaidSpec, SilenceSpec,
                   WindowSpec, _Ctx, check)
from .yamlsrc import LDict, LList


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

def _window(c: _Ctx, d: LDict) -> R.Window:
    v = d.get("within")
    if v is None:
        return R.Window()
    if not isinstance(v, LDict) or not v:
        c.err("'within' must be a mapping such as {first_turns: 2} or {last_percent: 30}", d, "within")
        return R.Window()
    spec = check(c, WindowSpec, v, "'within'")
    return R.Window(**spec.model_dump()) if spec is not None else R.Window()


def _said(c: _Ctx, v: Any, where: Any, key: str) -> R.Said | None:
    if not isinstance(v, LDict):
        c.err(f"'{key}' needs a mapping with at least 'any_of'", where, key)
        return None
    blocker = v.get("not_near")
    if "not_near" in v:  # checked here, not by SaidSpec: the rest of the mapping is a plain said
        rest = LDict({k: x for k, x in v.items() if k != "not_near"})
        rest.line, rest.source, rest.lines = v.line, v.source, getattr(v, "lines", {})
        v = rest
    spec = check(c, SaidSpec, v, f"'{key}'")
    if spec is None:
        return None
    phrases = _phrase_spec(c, spec.any_of, f"'{key}'")
    node = R.Said(key="")
    node.by = spec.by
    node.window = _window(c, v)
    node.min_count = spec.min_count
    node.max_count = spec.max_count
    node.negation = spec.negation
    if spec.near is not None:
        node.near = _near(c, spec.near, v, "near")
    if blocker is not None:
        node.not_near = _near(c, blocker, v, "not_near")
    if phrases is None:
        return None
    node.key = _phrase_key(c, phrases)
    return node


def _near(c: _Ctx, n: Any, where: Any, key: str) -> R.Near | None:
    """A ``near`` / ``not_near`` mapping as a ``rules.Near`` (None, with the error recorded, when invalid)."""
    if not isinstance(n, LDict):
        c.err(f"'{key}' must be a mapping with 'any_of' and 'within_words' or 'within_turns'", where, key)
        return None
    near = check(c, NearSpec, n, f"'{key}'")
    if near is None:
        return None
    nspec = _phrase_spec(c, near.any_of, f"'{key}'")
    if nspec is None:
        return None
    return R.Near(_phrase_key(c, nspec), near.by, near.within_words, near.within_turns, near.position)


def _all_or_any(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    if not isinstance(body, LList) or not body:
        c.err(f"'{k}' needs a non-empty list of rules", v, k)
        return None
    items = [parse_rule(c, item, body, i) for i, item in enumerate(body)]
    if any(i is None for i in items):
        return None
    return R.All(items) if k == "all" else R.Any_(items)


def _not(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    inner = parse_rule(c, body, v, k)
    return None if inner is None else R.Not(inner)


def _not_said(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    s = _said(c, body, v, k)
    return None if s is None else R.NotSaid(s)


def _model(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    if not isinstance(body, LDict):
        c.err("'model' needs a mapping with 'name'", v, k)
        return None
    spec = check(c, ModelSpec, body, "'model'")
    if spec is None or "name" not in body or spec.name != body["name"]:
        return None
    from ..config import models_dir

    try:
        mdir = models_dir()
    except RuntimeError:
        mdir = None
    if mdir is None or not (Path(mdir) / f"{spec.name}.joblib").exists():
        c.err(f"unknown model {spec.name!r}: {spec.name}.joblib not found in modelli/", body, "name")
    c.models.add(spec.name)
    return R.Model(spec.name, spec.label, spec.threshold, spec.by, _window(c, body), spec.min_count)


def _meta(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    if not isinstance(body, LDict) or not body:
        c.err("'meta' needs a mapping such as {call_type: assistenza, direction: inbound}", v, k)
        return None
    known = {"call_type": CALL_TYPES, "language": LANGUAGES, "direction": ("inbound", "outbound")}
    conds: dict[str, list[str]] = {}
    for mk, mv in body.items():
        vals = mv if isinstance(mv, LList) else [mv]
        if not vals or not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in vals):
            c.err(f"meta {mk!r} must be a value or a list of values", body, mk)
            continue
        vals = [str(x).strip().lower() for x in vals]
        bad = [x for x in vals if x not in known.get(mk, vals)]
        if bad and mk == "direction":
            c.err(f"meta direction {bad[0]!r} unknown (inbound or outbound)", body, mk)
        elif bad:
            c.err(f"meta {mk} {bad[0]!r} unknown (one of {', '.join(known[mk])})", body, mk)
        conds[str(mk)] = vals
    return R.Meta(conds)


def _name_known(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    if not isinstance(body, bool):
        c.err("'name_known' must be true or false", v, k)
        return None
    return R.NameKnown(body)


def _name_said(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    if body is None:
        body = LDict()
    if not isinstance(body, LDict):
        c.err("'name_said' needs a mapping such as {by: agent, min_count: 2}", v, k)
        return None
    spec = check(c, NameSaidSpec, body, "'name_said'") or NameSaidSpec()
    return R.NameSaid(spec.by, _window(c, body), spec.min_count)


def _condition(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    if not isinstance(body, str):
        c.err("'condition' needs the name of a condition", v, k)
        return None
    if body not in c.condition_names:
        c.err(f"unknown condition {body!r}", v, k)
        return None
    return R.ConditionRef(str(body))


def _criterion_ref(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    cid, res = body, "pass"
    if isinstance(body, LDict):
        spec = check(c, CriterionRefSpec, body, "'criterion'")
        if spec is None or ("result" in body and spec.result != body["result"]):
            return None
        cid, res = spec.id, spec.result
    if not isinstance(cid, str):
        c.err("'criterion' needs a criterion id", v, k)
        return None
    if cid not in c.criterion_ids:
        c.err(f"unknown criterion {cid!r}", v, k)
        return None
    return R.CriterionRef(str(cid), str(res))


def _overtalk(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    if not isinstance(body, LDict):
        c.err("'overtalk' needs a mapping such as {by: agent, min_seconds: 1}", v, k)
        return None
    spec = check(c, OvertalkSpec, body, "'overtalk'") or OvertalkSpec()
    return R.Overtalk(spec.by, spec.min_seconds, spec.min_count)


def _silence(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    if not isinstance(body, LDict):
        c.err("'silence' needs a mapping such as {min_seconds: 10}", v, k)
        return None
    spec = check(c, SilenceSpec, body, "'silence'") or SilenceSpec()
    return R.Silence(spec.min_seconds, spec.min_count)


def _restates(c: _Ctx, k: str, body: Any, v: LDict) -> R.Node | None:
    from .restate import build

    return build(c, k, body, v, _phrase_spec, _phrase_key)


# The rules of the language, in the order the messages list them: name -> builder(ctx, name,
# body, the rule's mapping). To add a rule: its Spec model, its builder, one line here.
RULES: dict[str, Callable[[_Ctx, str, Any, LDict], "R.Node | None"]] = {
    "all": _all_or_any,
    "any": _all_or_any,
    "not": _not,
    "said": lambda c, k, body, v: _said(c, body, v, k),
    "not_said": _not_said,
    "model": _model,
    "meta": _meta,
    "name_known": _name_known,
    "name_said": _name_said,
    "condition": _condition,
    "criterion": _criterion_ref,
    "overtalk": _overtalk,
    "silence": _silence,
    "restates": _restates,
}
RULE_KEYS = tuple(RULES)


def parse_rule(c: _Ctx, v: Any, where: Any = None, key: Any = None, allow_always: bool = False) -> R.Node | None:
    """The rule tree of ``v`` (a mapping with exactly one rule), or None after reporting errors."""
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
    if k not in RULES:
        c.err(f"unknown rule {k!r} (known: {', '.join(RULE_KEYS)})", v, k)
        return None
    return RULES[k](c, k, v[k], v)
