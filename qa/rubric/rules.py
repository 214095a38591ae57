"""The rule tree of a criterion, after validation: nodes that evaluate against one call.

Every node returns an ``Outcome``: whether it holds, the segments that show it (evidence) and,
when a model took part, its probability. See docs/RUBRIC_LANGUAGE.md for the YAML form.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    ok: bool
    segs: list[int] = field(default_factory=list)
    conf: float | None = None


TRUE = Outcome(True)
FALSE = Outcome(False)


@dataclass
class Window:
    """Where in the call: every key given must hold (intersection)."""

    first_seconds: float | None = None
    last_seconds: float | None = None
    first_percent: float | None = None
    last_percent: float | None = None
    first_turns: int | None = None
    last_turns: int | None = None

    def empty(self) -> bool:
        return all(v is None for v in self.__dict__.values())


class Node:
    def evaluate(self, ctx) -> Outcome:  # pragma: no cover - interface
        raise NotImplementedError

    def children(self) -> list["Node"]:
        return []


@dataclass
class All(Node):
    items: list[Node]

    def evaluate(self, ctx) -> Outcome:
        segs: list[int] = []
        conf = None
        for it in self.items:
            o = it.evaluate(ctx)
            if not o.ok:
                return FALSE if o.conf is None else Outcome(False, [], o.conf)
            segs.extend(o.segs)
            if o.conf is not None:
                conf = o.conf if conf is None else min(conf, o.conf)
        return Outcome(True, _uniq(segs), conf)

    def children(self):
        return list(self.items)


@dataclass
class Any_(Node):
    items: list[Node]

    def evaluate(self, ctx) -> Outcome:
        conf = None
        for it in self.items:
            o = it.evaluate(ctx)
            if o.ok:
                return o
            if o.conf is not None:
                conf = o.conf if conf is None else max(conf, o.conf)
        return Outcome(False, [], conf)

    def children(self):
        return list(self.items)


@dataclass
class Not(Node):
    item: Node

    def evaluate(self, ctx) -> Outcome:
        o = self.item.evaluate(ctx)
        return Outcome(not o.ok, [], None if o.conf is None else 1.0 - o.conf)

    def children(self):
        return [self.item]


@dataclass
class Near:
    key: str  # phrase-set key of the other expression
    by: str = "any"
    within_words: int | None = None
    within_turns: int | None = None
    position: str = "any"  # before | after | any  (where the other expression is)


@dataclass
class Said(Node):
    key: str
    by: str = "agent"
    window: Window = field(default_factory=Window)
    min_count: int = 1
    max_count: int | None = None
    negation: str = "exclude"  # exclude | include | only
    near: Near | None = None

    def evaluate(self, ctx) -> Outcome:
        hits = ctx.said_hits(self)
        n = len(hits)
        ok = n >= self.min_count and (self.max_count is None or n <= self.max_count)
        if not ok:
            return FALSE
        segs = []
        for h in hits:
            segs.append(h[0])
            if len(h) > 1 and h[1] is not None:
                segs.append(h[1])
        return Outcome(True, _uniq(segs))


@dataclass
class NotSaid(Node):
    said: Said

    def evaluate(self, ctx) -> Outcome:
        return Outcome(not self.said.evaluate(ctx).ok)

    def children(self):
        return [self.said]


@dataclass
class Model(Node):
    name: str
    label: str = "1"
    threshold: float = 0.5
    by: str = "agent"
    window: Window = field(default_factory=Window)
    min_count: int = 1

    def evaluate(self, ctx) -> Outcome:
        segs = ctx.candidate_segments(self.by, self.window)
        if not segs:
            return FALSE
        probs = ctx.model_probs(self.name, self.label, segs)
        hits = [(p, s) for s, p in zip(segs, probs) if p >= self.threshold]
        best = max(probs) if probs else None
        if len(hits) >= self.min_count:
            hits.sort(key=lambda x: -x[0])
            return Outcome(True, sorted(s for _, s in hits[:3]), best)
        return Outcome(False, [], best)


@dataclass
class Meta(Node):
    conditions: dict[str, list[str]]

    def evaluate(self, ctx) -> Outcome:
        for key, allowed in self.conditions.items():
            value = ctx.meta_value(key)
            if value is None or str(value).strip().lower() not in allowed:
                return FALSE
        return TRUE


@dataclass
class NameKnown(Node):
    value: bool = True

    def evaluate(self, ctx) -> Outcome:
        return Outcome((ctx.customer_name is not None) == self.value)


@dataclass
class NameSaid(Node):
    by: str = "agent"
    window: Window = field(default_factory=Window)
    min_count: int = 1

    def evaluate(self, ctx) -> Outcome:
        mentions = ctx.name_mentions(self.by, self.window)
        if len(mentions) >= self.min_count:
            return Outcome(True, _uniq([m[0] for m in mentions]))
        return FALSE


@dataclass
class ConditionRef(Node):
    name: str
    node: Node | None = None  # resolved after parsing

    def evaluate(self, ctx) -> Outcome:
        return ctx.eval_condition(self.name, self.node)


@dataclass
class CriterionRef(Node):
    criterion: str
    result: str = "pass"

    def evaluate(self, ctx) -> Outcome:
        res, segs = ctx.eval_criterion(self.criterion)
        return Outcome(res == self.result, segs if res == self.result else [])


@dataclass
class Overtalk(Node):
    """Someone (``by``) starts speaking while the other party is still speaking."""

    by: str = "agent"
    min_seconds: float = 1.0
    min_count: int = 1

    def evaluate(self, ctx) -> Outcome:
        segs = ctx.overtalk(self.by, self.min_seconds)
        return Outcome(len(segs) >= self.min_count, segs[:3]) if len(segs) >= self.min_count else FALSE


@dataclass
class Silence(Node):
    """Gaps with nobody speaking of at least ``min_seconds``."""

    min_seconds: float = 10.0
    min_count: int = 1

    def evaluate(self, ctx) -> Outcome:
        segs = ctx.silences(self.min_seconds)
        return Outcome(True, segs[:3]) if len(segs) >= self.min_count else FALSE


@dataclass
class Always(Node):
    def evaluate(self, ctx) -> Outcome:
        return TRUE


def _uniq(xs: list[int]) -> list[int]:
    return sorted(set(xs))


def walk(node: Node):
    yield node
    for c in node.children():
        yield from walk(c)


def gives_evidence(node: Node) -> bool:
    """Can this rule pass with at least one piece of evidence? (``not`` gives none.)"""
    if isinstance(node, (Said, Model, NameSaid, Overtalk, Silence)):
        return True
    if isinstance(node, All):
        return any(gives_evidence(c) for c in node.items)
    if isinstance(node, Any_):
        return all(gives_evidence(c) for c in node.items)
    if isinstance(node, ConditionRef):
        return node.node is not None and gives_evidence(node.node)
    if isinstance(node, CriterionRef):
        return node.result == "pass"
    return False

