"""The rule tree of a criterion, after validation: nodes that evaluate against one call.

Every node returns an ``Outcome``: whether it holds, the segments that show it (evidence) and,
when a model took part, its probability. See docs/RUBRIC_LANGUAGE.md for the YAML form.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """What a rule found in one call: ``ok`` whether it holds, ``segs`` the indices of the segments that
    show it (the evidence, sorted), ``conf`` a model's probability when a ``model`` rule took part, else
    None."""

    ok: bool
    segs: list[int] = field(default_factory=list)
    conf: float | None = None
    why: str | None = None  # what the rule found, in a few words (``restates``: the words said again)


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
        """True when no key is set: the window is the whole call."""
        return all(v is None for v in self.__dict__.values())


class Node:
    """Base of the rule nodes: ``evaluate`` against one call's ``qa.rubric.context.CallContext``,
    ``children`` for walking the tree. ``evidence``: a leaf that can pass with evidence (a rule added
    in a module of its own sets it, and ``gives_evidence`` knows)."""

    evidence = False

    def evaluate(self, ctx) -> Outcome:  # pragma: no cover - interface
        """The ``Outcome`` of this rule on the call that ``ctx`` (a ``CallContext``) describes."""
        raise NotImplementedError

    def children(self) -> list["Node"]:
        """The nodes directly under this one (none for a leaf)."""
        return []


@dataclass
class All(Node):
    """``all:``: holds when every item holds; evidence is the union of the items' segments, confidence the
    lowest of their model probabilities."""

    items: list[Node]

    def evaluate(self, ctx) -> Outcome:
        """Evaluate the items in order and stop at the first that fails (failing with its confidence, if it
        had one); otherwise pass with every item's segments and the lowest confidence."""
        segs: list[int] = []
        conf = None
        whys: list[str] = []
        for it in self.items:
            o = it.evaluate(ctx)
            if not o.ok:
                return FALSE if o.conf is None else Outcome(False, [], o.conf)
            segs.extend(o.segs)
            if o.conf is not None:
                conf = o.conf if conf is None else min(conf, o.conf)
            if o.why:
                whys.append(o.why)
        return Outcome(True, _uniq(segs), conf, "; ".join(whys) or None)

    def children(self):
        """The items."""
        return list(self.items)


@dataclass
class Any_(Node):
    """``any:``: holds when at least one item holds."""

    items: list[Node]

    def evaluate(self, ctx) -> Outcome:
        """The outcome of the first item that holds (its evidence and confidence); when none holds, a
        failure carrying the highest model probability seen."""
        conf = None
        for it in self.items:
            o = it.evaluate(ctx)
            if o.ok:
                return o
            if o.conf is not None:
                conf = o.conf if conf is None else max(conf, o.conf)
        return Outcome(False, [], conf)

    def children(self):
        """The items."""
        return list(self.items)


@dataclass
class Not(Node):
    """``not:``: holds when its item does not; gives no evidence, and a model probability p becomes 1 - p."""

    item: Node

    def evaluate(self, ctx) -> Outcome:
        """The item's outcome inverted, without segments; confidence ``1 - conf`` when the item had one."""
        o = self.item.evaluate(ctx)
        return Outcome(not o.ok, [], None if o.conf is None else 1.0 - o.conf)

    def children(self):
        """The negated item."""
        return [self.item]


@dataclass
class Near:
    """The ``near:`` part of a ``said`` rule (not a node): another expression, phrase set ``key``, said by
    ``by`` within ``within_words`` words in the same segment or, without that, within ``within_turns``
    turns, ``position`` before, after or on either side of the hit. Checked by
    ``CallContext.said_hits``."""

    key: str  # phrase-set key of the other expression
    by: str = "any"
    within_words: int | None = None
    within_turns: int | None = None
    position: str = "any"  # before | after | any  (where the other expression is)


@dataclass
class Said(Node):
    """``said:``: an expression of the phrase set ``key`` (the rubric's phrases, compiled per language)
    spoken by ``by`` (agent, customer or any; a segment of unknown speaker counts for either) inside
    ``window``, from ``min_count`` to ``max_count`` times. ``negation``: ``exclude`` skips negated hits,
    ``include`` counts them, ``only`` counts only them; ``near`` also asks for a second expression close
    by."""

    key: str
    by: str = "agent"
    window: Window = field(default_factory=Window)
    min_count: int = 1
    max_count: int | None = None
    negation: str = "exclude"  # exclude | include | only
    near: Near | None = None
    not_near: Near | None = None

    def evaluate(self, ctx) -> Outcome:
        """Holds when the number of hits ``ctx.said_hits`` finds is within [min_count, max_count]; evidence
        is the hits' segments and, with ``near``, the segments of the expressions found near them. With
        ``not_near``, a hit with the blocking expression close by does not count."""
        hits = ctx.said_hits(self)
        if self.not_near is not None and hits:
            hits = _unblocked(ctx, self, hits)
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
    """``not_said:``: holds when the wrapped ``said`` rule does not; gives no evidence."""

    said: Said

    def evaluate(self, ctx) -> Outcome:
        """True when ``said`` fails, with no segments and no confidence."""
        return Outcome(not self.said.evaluate(ctx).ok)

    def children(self):
        """The wrapped ``said`` node."""
        return [self.said]


@dataclass
class Model(Node):
    """``model:``: the trained turn model ``name`` gives ``label`` a probability of at least ``threshold``
    on at least ``min_count`` non-empty segments of ``by`` inside ``window``."""

    name: str
    label: str = "1"
    threshold: float = 0.5
    by: str = "agent"
    window: Window = field(default_factory=Window)
    min_count: int = 1

    def evaluate(self, ctx) -> Outcome:
        """Ask ``ctx.model_probs`` for the candidate segments (it loads the model on first use, or raises
        ``ModelsPending`` when the context defers models). Passes with the most probable segments over
        the threshold, three at most; the confidence is the highest probability, pass or fail. No
        candidate segment: fails without confidence."""
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
    """``meta:``: ``conditions`` maps a key (``call_type``, ``language``, ``direction`` or another metadata
    key) to its allowed values, in lower case."""

    conditions: dict[str, list[str]]

    def evaluate(self, ctx) -> Outcome:
        """Holds when every key's value (``ctx.meta_value``: the call's language and call type as scored,
        then its metadata) is one of the allowed values; a missing value fails. No evidence."""
        for key, allowed in self.conditions.items():
            value = ctx.meta_value(key)
            if value is None or str(value).strip().lower() not in allowed:
                return FALSE
        return TRUE


@dataclass
class NameKnown(Node):
    """``name_known:``: whether the customer's name is known for the call (from the metadata, or found in
    the call), compared with ``value``."""

    value: bool = True

    def evaluate(self, ctx) -> Outcome:
        """True when ``ctx.customer_name`` being set matches ``value``; no evidence."""
        return Outcome((ctx.customer_name is not None) == self.value)


@dataclass
class NameSaid(Node):
    """``name_said:``: the customer's name spoken by ``by`` inside ``window`` at least ``min_count`` times."""

    by: str = "agent"
    window: Window = field(default_factory=Window)
    min_count: int = 1

    def evaluate(self, ctx) -> Outcome:
        """Holds when ``ctx.name_mentions`` finds at least ``min_count`` mentions; evidence is their
        segments."""
        mentions = ctx.name_mentions(self.by, self.window)
        if len(mentions) >= self.min_count:
            return Outcome(True, _uniq([m[0] for m in mentions]))
        return FALSE


@dataclass
class ConditionRef(Node):
    """``condition:``: a reference to a named condition of the rubric; ``node``, its rule tree, is filled
    in after parsing."""

    name: str
    node: Node | None = None  # resolved after parsing

    def evaluate(self, ctx) -> Outcome:
        """The condition's outcome, evaluated once per call and cached by ``ctx.eval_condition`` (False
        when ``node`` was never resolved)."""
        return ctx.eval_condition(self.name, self.node)


@dataclass
class CriterionRef(Node):
    """``criterion:``: holds when another criterion of the rubric (id ``criterion``) has the result
    ``result`` (pass, fail or na) on this call."""

    criterion: str
    result: str = "pass"

    def evaluate(self, ctx) -> Outcome:
        """Evaluate the referenced criterion through ``ctx.eval_criterion`` (once per call, cached); holds
        when its result equals ``result``, with that criterion's segments as evidence. An unknown id or
        a reference cycle reads as ``na``."""
        res, segs = ctx.eval_criterion(self.criterion)
        return Outcome(res == self.result, segs if res == self.result else [])


@dataclass
class Overtalk(Node):
    """Someone (``by``) starts speaking while the other party is still speaking."""

    by: str = "agent"
    min_seconds: float = 1.0
    min_count: int = 1

    def evaluate(self, ctx) -> Outcome:
        """Holds when ``ctx.overtalk`` finds at least ``min_count`` segments of ``by`` that start while an
        earlier segment of the other party still has ``min_seconds`` or more to run; evidence is the
        first three."""
        segs = ctx.overtalk(self.by, self.min_seconds)
        return Outcome(len(segs) >= self.min_count, segs[:3]) if len(segs) >= self.min_count else FALSE


@dataclass
class Silence(Node):
    """Gaps with nobody speaking of at least ``min_seconds``."""

    min_seconds: float = 10.0
    min_count: int = 1

    def evaluate(self, ctx) -> Outcome:
        """Holds when at least ``min_count`` segments start ``min_seconds`` or more after everything before
        them ended (the call's start included); evidence is the first three."""
        segs = ctx.silences(self.min_seconds)
        return Outcome(True, segs[:3]) if len(segs) >= self.min_count else FALSE


@dataclass
class Always(Node):
    """The ``when`` of a criterion without one (or ``when: always``): always holds, without evidence."""

    def evaluate(self, ctx) -> Outcome:
        """``TRUE``, whatever the call."""
        return TRUE


def _blocks(ctx, nn: Near, h, b) -> bool:
    """Does the blocking hit ``b`` stand close enough to the hit ``h`` (``nn``'s distance and side)?"""
    if nn.position == "before" and not (b.seg, b.start) < (h.seg, h.start):
        return False
    if nn.position == "after" and not (b.seg, b.start) > (h.seg, h.start):
        return False
    if nn.within_words is not None:
        return b.seg == h.seg and max(b.start - h.end, h.start - b.end, 0) <= nn.within_words
    return abs(ctx.turn_of[b.seg] - ctx.turn_of[h.seg]) <= nn.within_turns


def _unblocked(ctx, node: Said, hits: list[tuple]) -> list[tuple]:
    """The hits of ``node`` (``ctx.said_hits``' tuples) without those its ``not_near`` expression blocks:
    per segment, as many as the segment has phrase matches with no blocking match close by."""
    nn = node.not_near
    blockers = [b for b in ctx.hits(nn.key) if not b.negated and ctx.role_ok(b.seg, nn.by)]
    free: dict[int, int] = {}
    for h in ctx.hits(node.key):
        if node.negation != "include" and h.negated != (node.negation == "only"):
            continue
        if h.seg in free or any(x[0] == h.seg for x in hits):
            ok = not any(_blocks(ctx, nn, h, b) for b in blockers)
            free[h.seg] = free.get(h.seg, 0) + ok
    out = []
    for x in hits:
        if free.get(x[0], 0) > 0:
            free[x[0]] -= 1
            out.append(x)
    return out


def _uniq(xs: list[int]) -> list[int]:
    return sorted(set(xs))


def walk(node: Node):
    """Yield ``node`` and every node under it, depth first through ``children``; a ``ConditionRef``'s
    resolved rule and a ``said``'s ``near`` are not entered."""
    yield node
    for c in node.children():
        yield from walk(c)


def gives_evidence(node: Node) -> bool:
    """Can this rule pass with at least one piece of evidence? (``not`` gives none.)"""
    if isinstance(node, (Said, Model, NameSaid, Overtalk, Silence)) or node.evidence:
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

