"""The rubric engine: score prepared calls against their rubric -> Evaluation (FORMATS.md).

The engine only scores. What a call needs before it can be scored (speaker roles of a mono call,
its language, its call type and so its rubric) is decided by the pipeline's stages
(``qa.pipeline.prepare``) and handed over as a ``PreparedCall``; ``score_prepared`` scores a
batch of them (tokenised together with spaCy ``pipe`` per language, each model condition asked
once for all the turns the batch reaches). ``qa.pipeline.score_transcripts`` and
``qa.rubric.score_transcript(s)`` are the short ways from transcripts to evaluations.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from ..model import CriterionResult, Evaluation, Evidence, Transcript, compute_score
from .context import CallContext, ModelsPending, evaluate_criterion, model_text
from .names import name_from_context
from .nlp import get_nlp
from .schema import Rubric

MAX_EVIDENCE = 3


@dataclass
class CallFacts:
    """What scoring knows about a call beyond its turns, and whether each fact was inferred.

    ``language``: it/de/fr/en (``language_inferred``: from the words, the transcript did not say);
    ``call_type``: the area whose rubric applies (``call_type_inferred``: by the ``tipo_chiamata``
    classifier, with ``call_type_confidence``); ``roles_inferred``: speakers ``unknown`` in the
    transcript were given roles by ``qa.analysis.roles``; ``roles_error``: why that could not be done
    (the speakers then stay ``unknown``, which the rules accept for either role). These facts go
    into ``Evaluation.extra`` as they are.
    """

    language: str
    language_inferred: bool
    call_type: str | None
    call_type_inferred: bool
    roles_inferred: bool = False
    call_type_confidence: float | None = None
    roles_error: str | None = None

    def to_extra(self) -> dict[str, Any]:
        """The keys ``Evaluation.extra`` carries (optional ones only when set)."""
        extra: dict[str, Any] = {"language": self.language, "language_inferred": self.language_inferred,
                                 "call_type": self.call_type, "call_type_inferred": self.call_type_inferred,
                                 "roles_inferred": self.roles_inferred}
        if self.call_type_confidence is not None:
            extra["call_type_confidence"] = self.call_type_confidence
        if self.roles_error is not None:
            extra["roles_error"] = self.roles_error
        return extra


@dataclass
class PreparedCall:
    """A call ready to be scored: its transcript as scored (speakers with roles), its rubric, its facts."""

    transcript: Transcript
    rubric: Rubric
    facts: CallFacts


def _context(call: PreparedCall, doc, text: str, starts: list[int]) -> CallContext:
    """The call's context (tokens matched against every phrase set) and its customer's name."""
    t, lang = call.transcript, call.facts.language
    nlp = get_nlp(lang)
    meta_name = t.metadata.get("customer_name")
    name = " ".join(meta_name.split()) if isinstance(meta_name, str) and meta_name.strip() else None
    ctx = CallContext(t, call.rubric, lang, call.facts.call_type, nlp, doc, text, starts, name, model_cache={})
    if name is None:
        ctx.customer_name = name_from_context(ctx)
    return ctx


def _evaluate_batch(ctxs: list[CallContext], facts: list[CallFacts]) -> list[Evaluation]:
    """Every call's criteria, in rounds: each call is evaluated until a model condition it reaches
    needs answers not yet known (``ModelsPending``); then every model is asked once for all the
    turns the calls of the batch are waiting for, and those calls go on where they stopped (the
    criterion that waited is evaluated again; everything it computed before is remembered by the
    context). Models are asked only about what the rules actually reach: the rules short-circuit
    (a phrase that is said spares the model beside it), so most model conditions are never asked.
    The results are those of evaluating each call on its own (the model answers of a turn do not
    depend on which other turns are asked with it)."""
    done: list[list] = [[] for _ in ctxs]
    for ctx in ctxs:
        ctx.defer_models = True
    pending = list(range(len(ctxs)))
    batch = None
    row_of: dict[tuple[int, int], int] = {}
    while pending:
        wanted: dict[str, list[tuple[int, int]]] = {}
        waiting = []
        for ci in pending:
            try:
                _criteria_outcomes(ctxs[ci], done[ci])
            except ModelsPending as p:
                wanted.setdefault(p.name, []).extend((ci, i) for i in p.segs)
                waiting.append(ci)
        if wanted:
            batch = _answer_models(ctxs, wanted, batch, row_of)
        pending = waiting
    return [_build_evaluation(ctx, f, d) for ctx, f, d in zip(ctxs, facts, done)]


def _answer_models(ctxs: list[CallContext], wanted: dict[str, list[tuple[int, int]]], batch, row_of: dict):
    """Ask each model once about the turns ``wanted`` ((call, segment) pairs) and put the answers in
    each call's model cache, where ``CallContext.model_probs`` finds them. Each turn's text is
    analysed once for all models and rounds (``row_of``: (call, segment) -> row of ``batch``). A model
    that cannot be loaded is left to the calls that ask for it (the same error as one call alone)."""
    from ..errors import ModelError
    from ..learning.fastpredict import TextBatch, fast_predict_proba
    from ..learning.learn import load_model

    if batch is None:
        batch = TextBatch()
    new: list[str] = []
    base = len(batch.texts)
    for pairs in wanted.values():
        for p in pairs:
            if p not in row_of:
                row_of[p] = base + len(new)
                new.append(model_text(ctxs[p[0]].segs[p[1]].text))  # as CallContext.model_probs
    batch.extend(new)
    for name, pairs in wanted.items():
        try:
            model = load_model(name)
        except ModelError:
            for ci, _ in pairs:
                ctxs[ci].defer_models = False  # its own evaluation raises the error
            continue
        classes = [str(c) for c in model.classes_]
        pair_of = {row_of[p]: p for p in pairs}
        rows = sorted(pair_of)
        probs = fast_predict_proba(model, batch, rows)
        for r, row in zip(rows, probs.tolist()):
            ci, i = pair_of[r]
            ctx = ctxs[ci]
            ctx._model_cache[(name, ctx.t.call_id, i)] = dict(zip(classes, row))
    return batch


def _criteria_outcomes(ctx: CallContext, done: list) -> None:
    """(result, evidence segments, confidence) of the rubric's criteria, appended to ``done`` from
    the first criterion not there yet (a criterion that raises ``ModelsPending`` is not appended)."""
    criteria = ctx.rubric.criteria
    for k in range(len(done), len(criteria)):
        crit = criteria[k]
        if crit.id in ctx._crit:
            res, segs = ctx._crit[crit.id]
            conf = None
        else:
            res, segs, conf = evaluate_criterion(ctx, crit)
            ctx._crit[crit.id] = (res, segs)
        done.append((res, segs, conf))


def _evaluate(ctx: CallContext, facts: CallFacts) -> Evaluation:
    """One call's evaluation, its model conditions asking for themselves (not deferred to a batch)."""
    done: list = []
    _criteria_outcomes(ctx, done)
    return _build_evaluation(ctx, facts, done)


def _build_evaluation(ctx: CallContext, facts: CallFacts, done: list) -> Evaluation:
    t, rub, lang, name = ctx.t, ctx.rubric, ctx.lang, ctx.customer_name
    results: list[CriterionResult] = []
    for crit, (res, segs, conf) in zip(rub.criteria, done):
        if res == "pass" and not segs:
            res = "fail"
        fb = crit.feedback.get(res, {}).get(lang, "")
        evidence = [Evidence(t.segments[i].speaker, t.segments[i].start, t.segments[i].end, t.segments[i].text)
                    for i in segs[:MAX_EVIDENCE]] if res == "pass" else []
        cr = CriterionResult(id=crit.id, competence=crit.competence, result=res, weight=crit.weight,
                             evidence=evidence, feedback=fb, critical=crit.critical, title=crit.title,
                             confidence=conf)
        if res == "na":
            cr.reason = quoted_reason(fb, [t.segments[i].text for i in segs])
        elif res == "pass" and ctx._why.get(crit.id):
            cr.reason = ctx._why[crit.id]  # e.g. the words a recap says again (``restates``)
        elif res == "fail" and ctx._applies.get(crit.id) and crit.feedback.get("applies", {}).get(lang):
            # why a conditional criterion applied: the first turn its condition found, quoted
            first = t.segments[min(ctx._applies[crit.id])]
            cr.reason = quoted_reason(crit.feedback["applies"][lang], [first.text], at=first.start)
        results.append(cr)
    flags = []
    if any(r.critical and r.result == "fail" for r in results):
        flags.append("compliance")
    extra = facts.to_extra()
    extra["customer_name"] = name
    return Evaluation(call_id=t.call_id, rubric=rub.name, rubric_version=rub.version, criteria=results,
                      score=compute_score(results), flags=flags, extra=extra)


REASON_QUOTE_CHARS = 80


def quoted_reason(text: str, quotes: list[str], at: float | None = None) -> str:
    """Why a result is what it is: the rubric's text in the call's language (``na``: why the criterion
    does not apply; ``applies``: why a failed conditional one does), and the first turn that shows
    it, quoted (shortened to REASON_QUOTE_CHARS), after its time in the call (m:ss) where ``at`` is given."""
    text = text.strip() or "not applicable"
    quote = next((" ".join(q.split()) for q in quotes if q.strip()), "")
    if not quote:
        return text
    if len(quote) > REASON_QUOTE_CHARS:
        quote = quote[:REASON_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    when = f"{int(at // 60)}:{int(at % 60):02d} " if at is not None else ""
    return f"{text} ({when}«{quote}»)"


def _joined(t: Transcript) -> tuple[str, list[int]]:
    starts = []
    pos = 0
    parts = []
    for s in t.segments:
        starts.append(pos)
        parts.append(s.text)
        pos += len(s.text) + 1
    return "\n".join(parts), starts


_SCORING_LOCK = threading.RLock()
_session_depth = 0  # sessions open in the thread holding the lock (sessions nest: the pipeline's holds the engine's)


@contextmanager
def scoring_session() -> Iterator[None]:
    """Hold while preparing and scoring a batch: one batch at a time per process, with the cyclic
    garbage collector paused.

    spaCy's vocabulary and the per-word caches (tokenizer chunks, n-grams, word kinds, regex results,
    the models' text analysis) are shared by every call and are not thread-safe (calls scored in two
    threads of a Dask worker lost strings of the vocabulary); scoring holds the GIL nearly all the
    time, so threads gained little from running it side by side. A batch makes many small objects
    that all live until it ends: the cyclic collector would walk them over and over, so it is paused
    for the batch (cycles it leaves are collected afterwards, as usual). Re-entrant."""
    import gc

    global _session_depth
    with _SCORING_LOCK:
        was_enabled = gc.isenabled()
        gc.disable()
        _session_depth += 1
        try:
            yield
        finally:
            _session_depth -= 1
            if was_enabled:
                gc.enable()
        outermost = _session_depth == 0
    if outermost:
        _freeze_long_lived()


def score_prepared(calls: list[PreparedCall]) -> list[Evaluation]:
    """The evaluations of a batch of prepared calls, in order: tokenised with spaCy ``pipe`` per
    language, and each model condition asked once for all the turns the batch reaches. The results
    are those of scoring each call alone. Raises (RubricError, ModelError, ...) if any call fails."""
    with scoring_session():
        docs = _tokenise(calls)
        ctxs = [_context(call, *d) for call, d in zip(calls, docs)]
        return _evaluate_batch(ctxs, [call.facts for call in calls])


_gc_frozen = False


def _freeze_long_lived() -> None:
    """Once scoring has run, the process holds for good what it needs: spaCy's vocabularies and
    lemma tables, the models, the compiled rubrics (over half a million objects). Python's cyclic
    garbage collector walked all of them at every full collection, a fifth of the time of scoring
    a call; after the first batch they are moved out of its way (``gc.freeze``), right after a
    collection so that no garbage is kept. Objects made later are collected as usual."""
    global _gc_frozen
    if _gc_frozen:
        return
    import gc

    _gc_frozen = True
    gc.collect()
    gc.freeze()


def _tokenise(prepared: list[PreparedCall]) -> list[tuple]:
    """(doc, joined text, segment starts) per call, tokenised with spaCy ``pipe`` per language."""
    out: list = [None] * len(prepared)
    by_lang: dict[str, list[int]] = {}
    for i, call in enumerate(prepared):
        by_lang.setdefault(call.facts.language, []).append(i)
    for lang, idxs in by_lang.items():
        joined = [_joined(prepared[i].transcript) for i in idxs]
        for i, doc, (text, starts) in zip(idxs, get_nlp(lang).pipe([j[0] for j in joined]), joined):
            out[i] = (doc, text, starts)
    return out
