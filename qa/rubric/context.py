"""Everything the rules need to know about one call, computed once and cached: who speaks when,
the windows of a rule, the phrase hits (with negation), the model answers, metadata, conditions and
criteria, overtalk and silences. The names in the call are ``qa.rubric.callnames``'s part."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from spacy.attrs import NORM

from . import rules as R
from .callnames import CallNames, isin
from .callnames import ARTICLES, HONORIFICS, VOCATIVES  # noqa: F401  (re-exported: the engine's name words)
from .cuts import match_across_cuts
from .nlp import CLAUSE_PUNCT, fold

# A speaker the role model inferred with less confidence than this (``extra["role_confidence"]``,
# qa.analysis.roles) counts for either party in the rules, as an ``unknown`` one does: a guess about
# who spoke must not pass or fail an agent-only criterion. The transcript keeps the guess (shown in
# the dashboard). Chosen on the LUNA tune calls (tuned-on): macro kappa 0.792 with every inferred role
# trusted, 0.818 from 0.7 (the hand-set chain; with the opt-in sequence model 0.765 and 0.817).
SCORING_ROLE_CONFIDENCE = 0.7


class ModelsPending(Exception):
    """Raised by ``CallContext.model_probs`` when the context defers model conditions
    (``defer_models``) and the answers are not there yet: the batch asks the model for every call
    that needs it at once, fills the model cache, and evaluates the criterion again."""

    def __init__(self, name: str, segs: list[int]):
        super().__init__(name)
        self.name = name
        self.segs = segs


@dataclass
class Hit:
    """One match of a phrase set: its segment, its token span, and whether a negation precedes it."""

    seg: int
    start: int  # token
    end: int
    negated: bool


class CallContext(CallNames):
    """One call as the rules see it (``R.Node.evaluate(ctx)``): the transcript, its spaCy doc, the
    rubric's matches on it, and caches of every answer already computed."""

    def __init__(self, transcript, rubric, lang: str, call_type: str | None, nlp, doc, text: str,
                 seg_char_starts: list[int], customer_name: str | None, meta_extra: dict | None = None,
                 model_cache: dict | None = None):
        self.t = transcript
        self.rubric = rubric
        self.lang = lang
        self.call_type = call_type
        self.nlp = nlp
        self.doc = doc
        self.text = text
        self.segs = transcript.segments
        self.customer_name = customer_name
        self.meta_extra = meta_extra or {}
        n = len(self.segs)
        self.speakers = [("unknown" if s.extra.get("role_confidence", 1.0) < SCORING_ROLE_CONFIDENCE else s.speaker)
                         for s in self.segs]
        self.has_unknown = any(sp == "unknown" for sp in self.speakers)
        idx = nlp.token_offsets(doc) if len(doc) else np.zeros(0, dtype=np.int64)
        self.tok_idx = idx
        starts = np.asarray(seg_char_starts, dtype=np.int64)
        self.tok_seg = (np.searchsorted(starts, idx, side="right") - 1) if n else idx
        self.seg_tok_start = np.searchsorted(self.tok_seg, np.arange(n), side="left") if n else []
        lm = rubric._compiled["matchers"][lang]
        self._matches = lm(doc) if len(doc) else {}
        self._slot_keys = lm.slot_keys
        self._hits: dict[str, list[Hit]] = {}
        self._windows: dict = {}
        self._crit: dict[str, tuple[str, list[int]]] = {}
        self._conds: dict[str, R.Outcome] = {}
        self._why: dict[str, str] = {}  # criterion id -> what its passing rule found (Outcome.why)
        self._applies: dict[str, list[int]] = {}  # criterion id -> the turns that made it apply (a fail)
        self._content_lemmas: dict = {}  # ignore phrase-set key -> content lemmas per segment (restates)
        self._model_cache = model_cache if model_cache is not None else {}
        self.defer_models = False  # True: a model answer not in the cache raises ModelsPending
        self._neg_mask = None
        self._name_orths = None
        self._agent_set = None
        self._lower = None  # lower-case call (ASR output), computed on first need
        self._first_agent = None  # index of the agent's first segment, computed on first need
        self._orths = None
        self._types = None  # word types of the call, for the name tests
        self._evaluating: set[str] = set()
        # time line
        self.t0 = min((s.start for s in self.segs), default=0.0)
        self.tend = max(transcript.end_time, max((s.end for s in self.segs), default=0.0))
        # turns: runs of consecutive segments by the same speaker
        self.turn_of = []
        turn = -1
        prev = None
        for sp in self.speakers:
            if sp != prev or sp == "unknown":
                turn += 1
                prev = sp
            self.turn_of.append(turn)
        self.n_turns = turn + 1
        self._joins = match_across_cuts(self, lm) if n > 1 and len(doc) else frozenset()

    # ---- roles and windows -----------------------------------------------------------------
    def role_ok(self, seg: int, by: str) -> bool:
        """Whether segment ``seg`` may have been said by ``by`` (``any``, or that speaker, or unknown;
        ``agent_known``: the agent's for sure, a labelled turn or one inferred with confidence)."""
        if by == "any":
            return True
        sp = self.speakers[seg]
        if by == "agent_known":
            return sp == "agent"
        return sp == by or sp == "unknown"

    def allowed(self, by: str, w: R.Window) -> frozenset[int] | None:
        """Segments in the window for that speaker (None: every segment of that speaker)."""
        key = (by, w.first_seconds, w.last_seconds, w.first_percent, w.last_percent, w.first_turns, w.last_turns)
        if key in self._windows:
            return self._windows[key]
        segs = [i for i in range(len(self.segs)) if self.role_ok(i, by)]
        if w.empty():
            res = frozenset(segs)
        else:
            total = max(self.tend - self.t0, 1e-6)
            out = []
            if w.first_turns is not None or w.last_turns is not None:
                turns = sorted({self.turn_of[i] for i in segs})
                first = set(turns[: w.first_turns]) if w.first_turns is not None else None
                last = set(turns[-w.last_turns:]) if w.last_turns is not None else None
            for i in segs:
                s = self.segs[i]
                if w.first_seconds is not None and s.start - self.t0 > w.first_seconds:
                    continue
                if w.last_seconds is not None and s.end < self.tend - w.last_seconds:
                    continue
                if w.first_percent is not None and (s.start - self.t0) > total * w.first_percent / 100.0:
                    continue
                if w.last_percent is not None and s.end < self.tend - total * w.last_percent / 100.0:
                    continue
                if w.first_turns is not None and self.turn_of[i] not in first:
                    continue
                if w.last_turns is not None and self.turn_of[i] not in last:
                    continue
                out.append(i)
            res = frozenset(out)
        self._windows[key] = res
        return res

    def candidate_segments(self, by: str, w: R.Window) -> list[int]:
        """The non-empty segments of ``by`` in window ``w``, in order."""
        return sorted(i for i in self.allowed(by, w) if self.segs[i].text.strip())

    # ---- phrase hits -------------------------------------------------------------------------
    def _negated(self, seg: int, start: int) -> bool:
        win = self.rubric.negation_window
        if win <= 0:
            return False
        if self._neg_mask is None:
            negs = self.rubric._compiled.setdefault("neg_hashes", {})
            if self.lang not in negs:
                strings = self.nlp.vocab.strings
                forms = set()
                for w in self.rubric.negation.get(self.lang, []):
                    forms.update({self.nlp.lemma(w), fold(w), w.lower()})
                negs[self.lang] = np.array([strings.add(f) for f in sorted(forms)], dtype=np.uint64)
            self._neg_mask = isin(self.doc.to_array(NORM), negs[self.lang]) if len(negs[self.lang]) else \
                np.zeros(len(self.doc), dtype=bool)
        lo = max(int(self.seg_tok_start[seg]), start - win)
        for j in range(start - 1, lo - 1, -1):
            if self._neg_mask[j] and not self._in_negation_idiom(j):
                between = self.text[int(self.tok_idx[j]):int(self.tok_idx[start])]
                return not CLAUSE_PUNCT.search(between)
        return False

    def _in_negation_idiom(self, j: int) -> bool:
        """Whether negation token ``j`` belongs to one of the rubric's ``negation_idioms`` ("nessun
        problema", "keine Sorge", "pas de souci"): there it negates nothing that follows."""
        idioms = self.rubric._compiled.setdefault("neg_idioms", {})
        if self.lang not in idioms:
            idioms[self.lang] = [tuple(t.lower_ for t in self.nlp.make_doc(p))
                                 for p in self.rubric.negation_idioms.get(self.lang, [])]
        word = self.doc[j].lower_
        for toks in idioms[self.lang]:
            for k, tok in enumerate(toks):
                if tok == word and 0 <= j - k and j - k + len(toks) <= len(self.doc) \
                        and all(self.doc[j - k + i].lower_ == t for i, t in enumerate(toks)):
                    return True
        return False

    def hits(self, key: str) -> list[Hit]:
        """The matches of phrase set ``key`` (slots checked), in order, within one segment each and
        never overlapping; cached."""
        got = self._hits.get(key)
        if got is not None:
            return got
        spans = list(self._matches.get(key, ()))
        for skey, slots in self._slot_keys.get(key, ()):
            spans.extend(self._spans_with_slots(self._matches.get(skey, ()), slots))
        spans.sort(key=lambda x: (x[0], -x[1]))
        out: list[Hit] = []
        last_end = -1
        tok_seg = self.tok_seg
        for s, e in spans:
            seg = int(tok_seg[s])
            if int(tok_seg[e - 1]) != seg and not (seg in self._joins and int(tok_seg[e - 1]) == seg + 1):
                continue  # crosses a segment boundary (but for a sentence the recogniser cut)
            if s < last_end:
                continue  # overlaps the previous match
            out.append(Hit(seg, s, e, self._negated(seg, s)))
            last_end = e
        self._hits[key] = out
        return out

    def said_hits(self, node: R.Said) -> list[tuple[int, int | None]]:
        """(segment, partner segment or None) of each hit of a ``said`` rule in its window, with its
        negation setting, and near a partner phrase when the rule asks for one."""
        allowed = self.allowed(node.by, node.window)
        hs = [h for h in self.hits(node.key) if h.seg in allowed and
              (node.negation == "include" or (h.negated == (node.negation == "only")))]
        if not node.near or not hs:
            return [(h.seg, None) for h in hs]
        nr = node.near
        partners = [h for h in self.hits(nr.key) if not h.negated and self.role_ok(h.seg, nr.by)]
        out = []
        for h in hs:
            for p in partners:
                if nr.position == "before" and not p.start < h.start:
                    continue
                if nr.position == "after" and not p.start > h.start:
                    continue
                if nr.within_words is not None:
                    if p.seg != h.seg:
                        continue
                    gap = max(p.start - h.end, h.start - p.end, 0)
                    if gap > nr.within_words:
                        continue
                else:
                    if abs(self.turn_of[p.seg] - self.turn_of[h.seg]) > nr.within_turns:
                        continue
                out.append((h.seg, p.seg))
                break
        return out

    # ---- models ------------------------------------------------------------------------------
    def model_probs(self, name: str, label: str, segs: list[int]) -> list[float]:
        """Model ``name``'s probability of ``label`` for each segment of ``segs`` (cached per call and
        segment); raises ModelsPending when the answers are deferred to the batch."""
        cache = self._model_cache
        need = [i for i in segs if (name, self.t.call_id, i) not in cache]
        if need:
            if self.defer_models:
                raise ModelsPending(name, need)
            from ..learning.fastpredict import fast_predict_proba
            from ..learning.learn import load_model

            model = load_model(name)
            classes = [str(c) for c in model.classes_]
            probs = fast_predict_proba(model, [model_text(self.segs[i].text) for i in need])
            for i, row in zip(need, probs):
                cache[(name, self.t.call_id, i)] = {c: float(p) for c, p in zip(classes, row)}
        return [cache[(name, self.t.call_id, i)].get(label, 0.0) for i in segs]

    # ---- metadata, conditions, criteria -------------------------------------------------------
    def meta_value(self, key: str):
        """A metadata value of the call: the language and call type as scored, else extra or
        transcript metadata (None when absent)."""
        if key == "language":
            return self.lang
        if key == "call_type":
            return self.call_type
        if key in self.meta_extra:
            return self.meta_extra[key]
        return self.t.metadata.get(key)

    def eval_condition(self, name: str, node: R.Node | None) -> R.Outcome:
        """The outcome of the rubric's condition ``name`` on this call, evaluated once."""
        if name not in self._conds:
            self._conds[name] = node.evaluate(self) if node is not None else R.FALSE
        return self._conds[name]

    def eval_criterion(self, cid: str) -> tuple[str, list[int]]:
        """(result, segments) of criterion ``cid`` on this call, evaluated once; ``na`` for an unknown
        criterion or one that refers back to itself."""
        if cid in self._crit:
            return self._crit[cid]
        crit = self.rubric.criterion(cid)
        if crit is None or cid in self._evaluating:
            return ("na", [])
        self._evaluating.add(cid)
        try:
            self._crit[cid] = evaluate_criterion(self, crit)[:2]
        finally:
            self._evaluating.discard(cid)
        return self._crit[cid]

    # ---- timing ------------------------------------------------------------------------------
    def overtalk(self, by: str, min_seconds: float) -> list[int]:
        """Segments of ``by`` that start while another speaker's segment still runs for at least
        ``min_seconds``."""
        out = []
        for i in range(1, len(self.segs)):
            s = self.segs[i]
            if not self.role_ok(i, by) or s.speaker == "unknown":
                continue
            for j in range(i - 1, max(-1, i - 4), -1):
                p = self.segs[j]
                if p.speaker != s.speaker and p.speaker != "unknown" and p.end - s.start >= min_seconds \
                        and s.start >= p.start:
                    out.append(i)
                    break
        return out

    def silences(self, min_seconds: float) -> list[int]:
        """Segments that start after a silence of at least ``min_seconds`` since anything was said."""
        out = []
        end = self.t0
        for i, s in enumerate(self.segs):
            if s.start - end >= min_seconds:
                out.append(i)
            end = max(end, s.end)
        return out


def evaluate_criterion(ctx: CallContext, crit) -> tuple[str, list[int], float | None]:
    """(result, segments, confidence): for ``pass`` the evidence; for ``na`` the turns that show why
    the criterion does not apply, where its ``when`` is a negation whose condition holds (the
    return from hold that makes ``saluto`` not applicable); else none."""
    w = crit.when.evaluate(ctx)
    if not w.ok:
        return ("na", _na_witness(ctx, crit.when), None)
    o = crit.rule.evaluate(ctx)
    if o.ok and not o.segs:
        o = R.Outcome(True, w.segs, o.conf)
    if o.ok and o.why:
        ctx._why[crit.id] = o.why
    if not (o.ok and o.segs) and not isinstance(crit.when, R.Always):
        ctx._applies[crit.id] = list(w.segs)  # what made a conditional criterion apply, for its fail
    return ("pass" if o.ok and o.segs else "fail", o.segs, o.conf)


def _na_witness(ctx: CallContext, when) -> list[int]:
    """The segments behind a ``when: {not: …}`` that failed: what the negated rule found."""
    if not isinstance(when, R.Not):
        return []
    inner = when.item.evaluate(ctx)  # conditions are cached: no second evaluation
    return list(inner.segs) if inner.ok else []


# everything but letters, digits, spaces, and apostrophes/hyphens inside a word
# [^\w\s'’-] | (?<!\w)[-'’] | [-'’](?!\w), written with the character first (the regex engine then
# skips ahead to the next candidate)
_MODEL_PUNCT = re.compile(r"[^\w\s](?:(?<=[^\w\s'’-])|(?<!\w.)|(?!\w))")


def model_text(text: str) -> str:
    """What a model condition sees of a turn: lower case, no punctuation, single spaces. ASR output
    comes with or without case and punctuation; neither may change a model's verdict."""
    return " ".join(_MODEL_PUNCT.sub(" ", text.lower()).split())
