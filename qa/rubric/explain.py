"""Why did a criterion come out as it did? Lists every phrase match of its rules (for rubric authors)."""

from __future__ import annotations

from . import rules as R
from .context import CallContext
from .engine import _joined, _prepare
from .names import find_customer_name
from .nlp import get_nlp


def _walk_all(node):
    for n in R.walk(node):
        yield n
        if isinstance(n, R.ConditionRef) and n.node is not None:
            yield from _walk_all(n.node)
        if isinstance(n, R.NotSaid):
            yield n.said


def explain(transcript, criterion_id: str, rubric=None) -> list[str]:
    t, rub, info = _prepare(transcript, rubric)
    text, starts = _joined(t)
    nlp = get_nlp(info["language"])
    doc = nlp.make_doc(text)
    name = find_customer_name(t, rub, info["language"])
    ctx = CallContext(t, rub, info["language"], info["call_type"], nlp, doc, text, starts, name)
    crit = rub.criterion(criterion_id)
    out = [f"{t.call_id} {criterion_id}: lang={info['language']} type={info['call_type']} name={name!r}"]
    for part, node in (("when", crit.when), ("rule", crit.rule)):
        out.append(f"  {part}: {node.evaluate(ctx).ok}")
        for n in _walk_all(node):
            if isinstance(n, R.Said):
                keys = [n.key] + ([n.near.key] if n.near else [])
                for k in keys:
                    for h in ctx.hits(k):
                        sp = t.segments[h.seg].speaker
                        out.append(f"    [{k[:9]}] seg{h.seg} {sp:8s} neg={h.negated} «{doc[h.start:h.end].text}»"
                                   f" in {t.segments[h.seg].text[:70]!r}")
            if isinstance(n, R.NameSaid):
                out.append(f"    name mentions (agent): {ctx.name_mentions('agent', R.Window())}")
    return out
