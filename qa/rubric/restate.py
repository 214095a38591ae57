"""The ``restates`` rule: a turn that says again, in the speaker's own words, what was said earlier.

A recap rarely follows a formula: real agents restate the problem, its cause or what was agreed in
their own words ("allora le mando il tecnico per la stampante che non stampa a colori"), and no
phrase list foresees them all. What every such recap has, in any language and any domain, is
vocabulary: it names again the things the caller named when stating the problem. ``restates``
holds when a turn of ``by`` inside ``within`` shares at least ``min_shared`` *content words* with
what ``source.by`` said earlier (inside ``source.within``), compared by lemma (the spaCy lookup
lemmas every phrase is matched on), and, with ``cue``, says one of the cue phrases in the same turn
("quindi", "also", "donc", "so", a past tense, a next action).

A content word is a word of at least three letters that is not a stop word of the language
(spaCy's list), not a masked name or number ("<PER>", "<DIGIT>": what anonymised transcripts
write), and not part of an ``ignore`` phrase (the rubric's fillers: "okay", "perfetto",
"attimo"...). The caller's turn right before the candidate turn is not a source: echoing what was
just said is not a recap.

Evidence: the segments of the turn that hold the shared words (or the cue); the reason
(``Outcome.why``) lists the shared words and quotes the earlier turn that said them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
from spacy.attrs import IS_ALPHA, LENGTH, NORM, ORTH

from . import rules as R
from .spec import Count, Role, Spec, WindowSpec, check, number, whole
from .yamlsrc import LDict

QUOTE_CHARS = 70
ANSWER_OPENING_WORDS = 2  # ``answered``: the answer phrase starts within the first words of the next turn


@dataclass
class Source:
    """Whose earlier words a restatement repeats: ``by`` inside ``window``."""

    by: str = "customer"
    window: R.Window = field(default_factory=R.Window)
    turns_back: int = 2  # a source turn ends at least this many turns before the restating one


@dataclass
class Restates(R.Node):
    """``restates:``: a turn of ``by`` inside ``window`` shares ``min_shared`` content lemmas with what
    ``source`` said before it (not in the turn right before it), and, when ``cue`` is set, says a
    phrase of the phrase set ``cue`` in the same turn. ``ignore``: a phrase set whose words never
    count."""

    by: str = "agent"
    window: R.Window = field(default_factory=R.Window)
    source: Source = field(default_factory=Source)
    min_shared: int = 2
    min_share: float = 0.0  # the shared words are at least this share of the turn's content words
    cue: str | None = None  # phrase-set key
    cue_at_end: int | None = None  # the cue ends at most this many words before its segment's end
    answered: str | None = None  # phrase-set key: the next turn opens with one of them
    ignore: str | None = None  # phrase-set key

    evidence = True  # can pass with evidence (``rules.gives_evidence``)

    def evaluate(self, ctx) -> R.Outcome:
        """The latest turn that restates; evidence its segments with the shared words or the cue,
        ``why`` the shared words and the earlier turn that said them. No such turn: fails."""
        allowed = ctx.allowed(self.by, self.window)
        if not allowed:
            return R.FALSE
        lemmas = _content_lemmas(ctx, self.ignore)
        src_allowed = ctx.allowed(self.source.by, self.source.window)
        cue_segs = None
        if self.cue is not None:
            cue_segs = {h.seg for h in ctx.hits(self.cue)
                        if not h.negated and (self.cue_at_end is None or _words_after(ctx, h) <= self.cue_at_end)}
        answer_turns = None
        if self.answered is not None:
            answer_turns = {ctx.turn_of[h.seg] for h in ctx.hits(self.answered)
                            if not h.negated and _words_before(ctx, h) <= ANSWER_OPENING_WORDS
                            and (h.seg == 0 or ctx.turn_of[h.seg - 1] != ctx.turn_of[h.seg])}
        turns: dict[int, list[int]] = {}
        for i in sorted(allowed):
            turns.setdefault(ctx.turn_of[i], []).append(i)
        for turn in sorted(turns, reverse=True):
            segs = turns[turn]
            if cue_segs is not None and not cue_segs.intersection(segs):
                continue
            if answer_turns is not None and turn + 1 not in answer_turns:
                continue
            mine: dict[int, int] = {}  # lemma -> segment that says it
            for i in segs:
                for lem in lemmas[i]:
                    mine.setdefault(lem, i)
            if len(mine) < self.min_shared:
                continue
            shared: dict[int, int] = {}  # lemma -> earliest source segment
            for j in sorted(src_allowed):
                if ctx.turn_of[j] > turn - self.source.turns_back:
                    break
                for lem in lemmas[j]:
                    if lem in mine and lem not in shared:
                        shared[lem] = j
            if len(shared) < self.min_shared or len(shared) < self.min_share * len(mine):
                continue
            ev = {mine[lem] for lem in shared}
            if cue_segs is not None:
                ev.update(s for s in segs if s in cue_segs)
            return R.Outcome(True, sorted(ev), why=_why(ctx, segs, shared))
        return R.FALSE


def _words_before(ctx, hit) -> int:
    """How many words of its segment come before ``hit``: 0 for an opening word."""
    return _words(ctx, int(ctx.seg_tok_start[hit.seg]), hit.start)


def _words_after(ctx, hit) -> int:
    """How many words of its segment follow ``hit``: 0 for a closing tag."""
    s = hit.seg
    return _words(ctx, hit.end, int(ctx.seg_tok_start[s + 1]) if s + 1 < len(ctx.segs) else len(ctx.doc))


def _words(ctx, a: int, b: int) -> int:
    """Tokens ``a`` to ``b`` of the call that are words (punctuation left out)."""
    return sum(1 for t in ctx.doc[a:b] if not t.is_punct)


def _content_lemmas(ctx, ignore: str | None) -> list[frozenset[int]]:
    """Per segment, the NORM hashes (lemma, accents folded) of its content words; cached per call and
    ``ignore`` set."""
    cache = ctx._content_lemmas
    if ignore in cache:
        return cache[ignore]
    doc = ctx.doc
    n = len(ctx.segs)
    if not len(doc):
        out = [frozenset()] * n
        cache[ignore] = out
        return out
    arr = doc.to_array([NORM, ORTH, IS_ALPHA, LENGTH])
    norm, orth, alpha, length = arr[:, 0], arr[:, 1], arr[:, 2].astype(bool), arr[:, 3]
    stops = _stop_hashes(ctx)
    keep = alpha & (length >= 3) & ~np.isin(norm, stops) & ~np.isin(orth, stops)
    lt = ctx.nlp.vocab.strings["<"] if "<" in ctx.nlp.vocab.strings else None
    if lt is not None:  # "<DIGIT>", "<BRAND>": a mask the tokenizer split into "<", word, ">"
        after_lt = np.zeros(len(doc), dtype=bool)
        after_lt[1:] = orth[:-1] == lt
        keep &= ~after_lt
    if ignore is not None:
        for h in ctx.hits(ignore):
            keep[h.start:h.end] = False
    names = ctx._name_set() | ctx._agent_orths()  # the caller's and the agent's names are no content
    if names:
        keep &= ~np.isin(orth, np.fromiter(names, dtype=np.uint64, count=len(names)))
    out = [frozenset()] * n
    starts = ctx.seg_tok_start
    for s in range(n):
        a = int(starts[s])
        b = int(starts[s + 1]) if s + 1 < n else len(doc)
        if b > a:
            sel = norm[a:b][keep[a:b]]
            if len(sel):
                out[s] = frozenset(sel.tolist())
    cache[ignore] = out
    return out


def _stop_hashes(ctx) -> np.ndarray:
    """The string hashes of the language's stop words (lower case and folded), cached per language."""
    table = ctx.rubric._compiled.setdefault("stop_hashes", {})
    got = table.get(ctx.lang)
    if got is None:
        strings = ctx.nlp.vocab.strings
        forms = set()
        for w in ctx.nlp.stops:
            forms.update({w, ctx.nlp.lemma(w)})
        got = np.array(sorted(strings.add(f) for f in forms), dtype=np.uint64)
        table[ctx.lang] = got
    return got


def _why(ctx, segs: list[int], shared: dict[int, int]) -> str:
    """The shared words as the turn says them, and the earlier turn that said them first, quoted."""
    doc = ctx.doc
    words: list[str] = []
    want = set(shared)
    norm = doc.to_array(NORM)
    for s in segs:
        a = int(ctx.seg_tok_start[s])
        b = int(ctx.seg_tok_start[s + 1]) if s + 1 < len(ctx.segs) else len(doc)
        for j in range(a, b):
            h = int(norm[j])
            if h in want:
                want.discard(h)
                words.append(doc[j].text)
    first = min(shared.values())
    quote = " ".join(ctx.segs[first].text.split())
    if len(quote) > QUOTE_CHARS:
        quote = quote[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    return f"{', '.join(words)} ← «{quote}»"


# ---- the YAML form -------------------------------------------------------------------------

class SourceSpec(Spec):
    """``source`` of ``restates``: whose earlier words, and where in the call."""

    by: Role = "customer"
    within: Any = None
    turns_back: Annotated[int, whole(1)] = 2


class RestatesSpec(Spec):
    """``restates``: a turn that names again what was said earlier."""

    by: Role = "agent"
    within: Any = None
    source: Any = None  # a SourceSpec, checked on its own
    min_shared: Count = 2
    min_share: Annotated[float, number(0.0, 1.0)] = 0.0
    cue: Any = None  # a phrase list
    cue_at_end: Annotated[int | None, whole(0, allow_none=True)] = None
    answered: Any = None  # a phrase list
    ignore: Any = None  # a phrase list


def _window(c, d: LDict, what: str) -> R.Window:
    v = d.get("within")
    if v is None:
        return R.Window()
    if not isinstance(v, LDict) or not v:
        c.err(f"'within' of {what} must be a mapping such as {{last_percent: 40}}", d, "within")
        return R.Window()
    spec = check(c, WindowSpec, v, "'within'")
    return R.Window(**spec.model_dump()) if spec is not None else R.Window()


def build(c, k: str, body: Any, v: LDict, phrase_spec, phrase_key) -> R.Node | None:
    """The ``restates`` node of ``body`` (None, with every error recorded, when invalid); ``phrase_spec``
    and ``phrase_key`` are the rule parser's readers of a phrase list (passed in: ``qa.rubric.ruleparse``
    imports this module)."""
    if not isinstance(body, LDict):
        c.err("'restates' needs a mapping such as {by: agent, within: {last_percent: 40}, min_shared: 2}", v, k)
        return None
    spec = check(c, RestatesSpec, body, "'restates'")
    if spec is None:
        return None
    node = Restates(by=spec.by, window=_window(c, body, "'restates'"), min_shared=spec.min_shared,
                    min_share=spec.min_share, cue_at_end=spec.cue_at_end)
    src = body.get("source")
    if src is not None:
        if not isinstance(src, LDict):
            c.err("'source' of 'restates' must be a mapping such as {by: customer, within: {first_percent: 60}}",
                  body, "source")
            return None
        sspec = check(c, SourceSpec, src, "'source' of 'restates'")
        if sspec is None:
            return None
        node.source = Source(sspec.by, _window(c, src, "'source'"), sspec.turns_back)
    ok = True
    for key in ("cue", "answered", "ignore"):
        if body.get(key) is None:
            continue
        phrases = phrase_spec(c, body[key], f"'{key}' of 'restates'")
        if phrases is None:
            ok = False
        else:
            setattr(node, key, phrase_key(c, phrases))
    return node if ok else None
