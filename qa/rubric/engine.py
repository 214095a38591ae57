"""Score transcripts against a rubric: Transcript -> Evaluation (FORMATS.md)."""

from __future__ import annotations

import threading
from typing import Iterable, Iterator

from ..config import CALL_TYPES, LANGUAGES
from ..model import CriterionResult, Evaluation, Evidence, Transcript, compute_score
from . import rules as R
from .context import CallContext, evaluate_criterion, model_text
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


def _model_nodes(rub: Rubric) -> list:
    """(model name, speaker, window) of every model condition the rubric can evaluate."""
    got = rub._compiled.get("model_nodes")
    if got is None:
        seen: dict = {}
        roots = [n for c in rub.criteria for n in (c.when, c.rule)] + list(rub.conditions.values())
        for root in roots:
            for node in R.walk(root):
                if isinstance(node, R.Model):
                    w = node.window
                    key = (node.name, node.by, w.first_seconds, w.last_seconds, w.first_percent, w.last_percent,
                           w.first_turns, w.last_turns)
                    seen.setdefault(key, (node.name, node.by, w))
        got = rub._compiled["model_nodes"] = list(seen.values())
    return got


def _predict_models(ctxs: list[CallContext]) -> None:
    """Every model condition of every call, asked in one go per model over all the calls' candidate
    turns (each turn's text analysed once for all models); the answers fill each call's model
    cache, where ``CallContext.model_probs`` finds them. A model that cannot be loaded is left to
    the rule that asks for it (same error as before)."""
    from ..errors import ModelError
    from ..learn import TextBatch, fast_predict_proba, load_model

    wanted: dict[str, list[tuple[int, int]]] = {}
    for ci, ctx in enumerate(ctxs):
        per_model: dict[str, set[int]] = {}
        for name, by, window in _model_nodes(ctx.rubric):
            per_model.setdefault(name, set()).update(ctx.candidate_segments(by, window))
        for name, segs in per_model.items():
            wanted.setdefault(name, []).extend((ci, i) for i in sorted(segs))
    if not wanted:
        return
    row_of: dict[tuple[int, int], int] = {}
    texts: list[str] = []
    for pairs in wanted.values():
        for p in pairs:
            if p not in row_of:
                row_of[p] = len(texts)
                texts.append(model_text(ctxs[p[0]].segs[p[1]].text))  # as CallContext.model_probs
    batch = TextBatch(texts)
    for name, pairs in wanted.items():
        try:
            model = load_model(name)
        except ModelError:
            continue
        classes = [str(c) for c in model.classes_]
        rows = sorted(row_of[p] for p in pairs)
        probs = fast_predict_proba(model, batch, rows)
        pair_of = {row_of[p]: p for p in pairs}
        for r, row in zip(rows, probs):
            ci, i = pair_of[r]
            ctx = ctxs[ci]
            ctx._model_cache[(name, ctx.t.call_id, i)] = {c: float(p) for c, p in zip(classes, row)}


def _evaluate(ctx: CallContext, info: dict) -> Evaluation:
    t, rub, lang, name = ctx.t, ctx.rubric, ctx.lang, ctx.customer_name
    results: list[CriterionResult] = []
    for crit in rub.criteria:
        if crit.id in ctx._crit:
            res, segs = ctx._crit[crit.id]
            conf = None
        else:
            res, segs, conf = evaluate_criterion(ctx, crit)
            ctx._crit[crit.id] = (res, segs)
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
    batch: list = []
    for t in transcripts:
        batch.append(t)
        if len(batch) >= batch_size:
            yield from _score_batch(batch, rubric)
            batch = []
    if batch:
        yield from _score_batch(batch, rubric)


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
        _predict_models(ctxs)
        out = [_evaluate(ctx, info) for ctx, (_, _, info) in zip(ctxs, prepared)]
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
