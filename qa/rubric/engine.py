"""Score transcripts against a rubric: Transcript -> Evaluation (FORMATS.md)."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..config import CALL_TYPES, LANGUAGES
from ..model import CriterionResult, Evaluation, Evidence, Transcript, compute_score
from .context import CallContext, evaluate_criterion
from .infer import infer_call_type, infer_language
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


def _prepare(t: Transcript, rubric) -> tuple[Transcript, Rubric, dict]:
    t, roles_inferred = _with_roles(t)
    lang = t.language if t.language in LANGUAGES else None
    lang_inferred = lang is None
    if lang is None:
        lang = infer_language(t) if t.segments else FALLBACK_LANG
    ct = t.metadata.get("call_type")
    ct = ct.strip().lower() if isinstance(ct, str) else None
    ct_conf = None
    ct_inferred = ct not in CALL_TYPES
    if ct_inferred:
        ct, ct_conf = infer_call_type(t)
    rub = load_rubric(rubric if rubric is not None else ct)
    info = {"language": lang, "language_inferred": lang_inferred, "call_type": ct,
            "call_type_inferred": ct_inferred, "roles_inferred": roles_inferred}
    if ct_conf is not None:
        info["call_type_confidence"] = ct_conf
    return t, rub, info


def _evaluate(t: Transcript, rub: Rubric, info: dict, doc, text: str, starts: list[int],
              model_cache: dict | None = None) -> Evaluation:
    lang = info["language"]
    nlp = get_nlp(lang)
    meta_name = t.metadata.get("customer_name")
    name = " ".join(meta_name.split()) if isinstance(meta_name, str) and meta_name.strip() else None
    ctx = CallContext(t, rub, lang, info["call_type"], nlp, doc, text, starts, name, model_cache=model_cache)
    if name is None:
        ctx.customer_name = name = name_from_context(ctx)
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
    t, rub, info = _prepare(transcript, rubric)
    text, starts = _joined(t)
    doc = get_nlp(info["language"]).make_doc(text)
    return _evaluate(t, rub, info, doc, text, starts)


def score_transcripts(transcripts: Iterable[Transcript], rubric: str | Rubric | None = None,
                      batch_size: int = 256) -> Iterator[Evaluation]:
    """Evaluate many calls; tokenises in batches (spaCy ``pipe``) per language. Order is kept."""
    batch: list = []
    for t in transcripts:
        batch.append(t)
        if len(batch) >= batch_size:
            yield from _score_batch(batch, rubric)
            batch = []
    if batch:
        yield from _score_batch(batch, rubric)


def _score_batch(batch: list[Transcript], rubric) -> list[Evaluation]:
    prepared = [_prepare(t, rubric) for t in batch]
    by_lang: dict[str, list[int]] = {}
    for i, (_, _, info) in enumerate(prepared):
        by_lang.setdefault(info["language"], []).append(i)
    out: list[Evaluation | None] = [None] * len(batch)
    for lang, idxs in by_lang.items():
        joined = [_joined(prepared[i][0]) for i in idxs]
        docs = get_nlp(lang).pipe([j[0] for j in joined])
        for i, doc, (text, starts) in zip(idxs, docs, joined):
            t, rub, info = prepared[i]
            out[i] = _evaluate(t, rub, info, doc, text, starts)
    return out  # type: ignore[return-value]
