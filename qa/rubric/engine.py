"""Score transcripts against a rubric: Transcript -> Evaluation (FORMATS.md)."""

from __future__ import annotations

import threading
from itertools import islice
from typing import Iterable, Iterator

from ..config import CALL_TYPES, LANGUAGES
from ..model import CriterionResult, Evaluation, Evidence, Transcript, compute_score
from .context import CallContext, ModelsPending, evaluate_criterion, model_text
from .infer import infer_call_type, infer_call_types, infer_language
from .loader import load_rubric
from .names import name_from_context
from .nlp import get_nlp
from .schema import Rubric

FALLBACK_LANG = "it"
MAX_EVIDENCE = 3


def _with_roles(t: Transcript) -> tuple[Transcript, bool]:
    if not any(s.speaker == "unknown" for s in t.segments):
        return t, False
    try:
        from ..roles import assign_roles
    except ImportError:
        return t, False  # rules then accept 'unknown' segments for either role
    try:
        return assign_roles(t), True
    except Exception:
        return t, False


def _needs_call_type(t: Transcript) -> bool:
    ct = t.metadata.get("call_type")
    return (ct.strip().lower() if isinstance(ct, str) else None) not in CALL_TYPES


def _prepare(t: Transcript, rubric, rubrics: dict | None = None, call_types: dict | None = None,
             roles: tuple[Transcript, bool] | None = None) -> tuple[Transcript, Rubric, dict]:
    """Roles, language, call type and rubric of one call. ``rubrics``: rubrics already looked up in
    this batch (name -> Rubric); ``call_types``: call types already inferred (id(transcript) ->
    result); ``roles``: ``_with_roles(t)`` already computed."""
    t, roles_inferred = roles if roles is not None else _with_roles(t)
    lang = t.language if t.language in LANGUAGES else None
    lang_inferred = lang is None
    if lang is None:
        lang = infer_language(t) if t.segments else FALLBACK_LANG
    ct = t.metadata.get("call_type")
    ct = ct.strip().lower() if isinstance(ct, str) else None
    ct_conf = None
    ct_inferred = ct not in CALL_TYPES
    if ct_inferred:
        got = call_types.get(id(t)) if call_types is not None else None
        ct, ct_conf = got if got is not None else infer_call_type(t)
    key = rubric if rubric is not None else ct
    if rubrics is None:
        rub = load_rubric(key)
    else:
        rub = rubrics.get(key) if isinstance(key, str) else None
        if rub is None:
            rub = load_rubric(key)
            if isinstance(key, str):
                rubrics[key] = rub
    info = {"language": lang, "language_inferred": lang_inferred, "call_type": ct,
            "call_type_inferred": ct_inferred, "roles_inferred": roles_inferred}
    if ct_conf is not None:
        info["call_type_confidence"] = ct_conf
    return t, rub, info


def _context(t: Transcript, rub: Rubric, info: dict, doc, text: str, starts: list[int]) -> CallContext:
    """The call's context (tokens matched against every phrase set) and its customer's name."""
    lang = info["language"]
    nlp = get_nlp(lang)
    meta_name = t.metadata.get("customer_name")
    name = " ".join(meta_name.split()) if isinstance(meta_name, str) and meta_name.strip() else None
    ctx = CallContext(t, rub, lang, info["call_type"], nlp, doc, text, starts, name, model_cache={})
    if name is None:
        ctx.customer_name = name_from_context(ctx)
    return ctx


def _evaluate_batch(ctxs: list[CallContext], infos: list[dict]) -> list[Evaluation]:
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
    return [_build_evaluation(ctx, info, d) for ctx, info, d in zip(ctxs, infos, done)]


def _answer_models(ctxs: list[CallContext], wanted: dict[str, list[tuple[int, int]]], batch, row_of: dict):
    """Ask each model once about the turns ``wanted`` ((call, segment) pairs) and put the answers in
    each call's model cache, where ``CallContext.model_probs`` finds them. Each turn's text is
    analysed once for all models and rounds (``row_of``: (call, segment) -> row of ``batch``). A model
    that cannot be loaded is left to the calls that ask for it (the same error as one call alone)."""
    from ..errors import ModelError
    from ..learn import TextBatch, fast_predict_proba, load_model

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


def _evaluate(ctx: CallContext, info: dict) -> Evaluation:
    done: list = []
    _criteria_outcomes(ctx, done)
    return _build_evaluation(ctx, info, done)


def _build_evaluation(ctx: CallContext, info: dict, done: list) -> Evaluation:
    t, rub, lang, name = ctx.t, ctx.rubric, ctx.lang, ctx.customer_name
    results: list[CriterionResult] = []
    for crit, (res, segs, conf) in zip(rub.criteria, done):
        if res == "pass" and not segs:
            res = "fail"
        fb = crit.feedback.get(res, {}).get(lang, "")
        evidence = [Evidence(t.segments[i].speaker, t.segments[i].start, t.segments[i].end, t.segments[i].text)
                    for i in segs[:MAX_EVIDENCE]] if res == "pass" else []
        results.append(CriterionResult(id=crit.id, competence=crit.competence, result=res, weight=crit.weight,
                                       evidence=evidence, feedback=fb, critical=crit.critical, title=crit.title,
                                       confidence=conf))
    flags = []
    if any(r.critical and r.result == "fail" for r in results):
        flags.append("compliance")
    extra = dict(info)
    extra["customer_name"] = name
    return Evaluation(call_id=t.call_id, rubric=rub.name, rubric_version=rub.version, criteria=results,
                      score=compute_score(results), flags=flags, extra=extra)


def _joined(t: Transcript) -> tuple[str, list[int]]:
    starts = []
    pos = 0
    parts = []
    for s in t.segments:
        starts.append(pos)
        parts.append(s.text)
        pos += len(s.text) + 1
    return "\n".join(parts), starts


def score_transcript(transcript: Transcript, rubric: str | Rubric | None = None) -> Evaluation:
    """Evaluate one call. ``rubric`` None: the rubric of metadata.call_type (inferred when absent)."""
    return _score_batch([transcript], rubric)[0]


def score_transcripts(transcripts: Iterable[Transcript], rubric: str | Rubric | None = None,
                      batch_size: int = 256) -> Iterator[Evaluation]:
    """Evaluate many calls, in batches: tokenised with spaCy ``pipe`` per language, and each model
    condition asked once per batch. Order is kept; the results are those of ``score_transcript``."""
    for batch in batches(transcripts, batch_size):
        yield from _score_batch(batch, rubric)


def batches(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily (itertools.batched is
    Python 3.12)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


_BATCH_LOCK = threading.RLock()


def _score_batch(batch: list[Transcript], rubric) -> list[Evaluation]:
    """One batch at a time per process: spaCy's vocabulary and the per-word caches (tokenizer chunks,
    n-grams, word kinds, regex results) are shared by every call and are not thread-safe (calls
    scored in two threads of a Dask worker lost strings of the vocabulary). Scoring holds the GIL
    nearly all the time, so threads gained little from running it side by side."""
    with _BATCH_LOCK:
        return _score_batch_locked(batch, rubric)


def _score_batch_locked(batch: list[Transcript], rubric) -> list[Evaluation]:
    import gc

    # a batch makes many small objects that all live until it ends: the cyclic collector would
    # walk them over and over while it runs. It is paused for the batch (cycles it leaves are
    # collected afterwards, as usual).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        prepared = _prepare_batch(batch, rubric)
        docs = _tokenise(prepared)
        ctxs = [_context(t, rub, info, *d) for (t, rub, info), d in zip(prepared, docs)]
        out = _evaluate_batch(ctxs, [info for _, _, info in prepared])
    finally:
        if was_enabled:
            gc.enable()
    _freeze_long_lived()
    return out


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


def _prepare_batch(batch: list[Transcript], rubric) -> list[tuple[Transcript, Rubric, dict]]:
    rubrics: dict = {}  # each rubric looked up (file stamps checked) once per batch, not once per call
    with_roles = [_with_roles(t) for t in batch]
    unknown = [t for t, _ in with_roles if _needs_call_type(t)]
    call_types = {id(t): ct for t, ct in zip(unknown, infer_call_types(unknown))} if unknown else {}
    return [_prepare(t, rubric, rubrics, call_types, (t, roles)) for t, roles in with_roles]


def _tokenise(prepared) -> list[tuple]:
    """(doc, joined text, segment starts) per call, tokenised with spaCy ``pipe`` per language."""
    out: list = [None] * len(prepared)
    by_lang: dict[str, list[int]] = {}
    for i, (_, _, info) in enumerate(prepared):
        by_lang.setdefault(info["language"], []).append(i)
    for lang, idxs in by_lang.items():
        joined = [_joined(prepared[i][0]) for i in idxs]
        for i, doc, (text, starts) in zip(idxs, get_nlp(lang).pipe([j[0] for j in joined]), joined):
            out[i] = (doc, text, starts)
    return out
