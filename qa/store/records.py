"""How calls come into the store and go out again: ``CallRecord`` (what ingest writes for one
call), the mapping of stored criterion rows back to ``qa.model`` objects
(``evaluation_from_row``), and the derived values the store keeps beside the data
(``search_text``, the compliance flag, the ``,id,id,`` list of failed criteria, the metric
columns of ``call_metrics``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..model import CriterionResult, Evaluation, Evidence, Transcript
from .schema import CallMetrics, CriterionResultRow, EvaluationRow, utc

CALL_COLUMNS = ("agent_id", "agent_name", "team", "customer_name", "call_type", "direction")
# call_metrics columns <- dotted paths into qa.analysis.metrics.compute_metrics() output (first present wins)
METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "talk_ratio_agent": ("talk_share.agent", "talk_ratio_agent"),
    "silence_ratio": ("non_talk_share", "silence_ratio"),
    "overtalk_seconds": ("overtalk.duration", "overtalk_seconds"),
    "longest_silence": ("longest_silence.duration", "longest_silence"),
    "agent_wpm": ("speech_rate_wpm.agent", "agent_wpm"),
    "interruptions": ("interruptions.count", "interruptions"),
    "sentiment": ("sentiment.overall.customer", "sentiment"),
}


@dataclass
class CallRecord:
    """Everything ingest stores for one call, written in one transaction."""

    checksum: str  # sha256 of the recording (or of the transcript file): the idempotency key
    transcript: Transcript
    evaluation: Evaluation | None = None
    metrics: dict[str, Any] | None = None
    audio_path: str | None = None
    redacted_audio_path: str | None = None
    source_path: str | None = None  # the input file (its entry in ``failures`` is removed on success)
    file_name: str | None = None
    source_kind: str = "audio"  # audio | transcript
    redacted: bool = False
    redaction_spans: list[Any] | None = None
    engine: str | None = None
    model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 text / datetime / date -> naive UTC; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return utc(datetime.fromisoformat(str(value).strip()))
    except ValueError:
        return None


def _metric_number(data: dict[str, Any], paths: tuple[str, ...]) -> float | None:
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def metrics_row(call_pk: int, data: dict[str, Any]) -> CallMetrics:
    """The ``call_metrics`` row of a call: the JSON plus the columns of ``METRIC_COLUMNS``."""
    row = CallMetrics(call_pk=call_pk, data=data)
    for column, keys in METRIC_COLUMNS.items():
        setattr(row, column, _metric_number(data, keys))
    return row


def search_text(*parts: str | None) -> str:
    """What the list page's search matches: the parts casefolded, space-separated, <= 500 chars."""
    return " ".join(p for p in parts if p).casefold()[:500]


def failed_list(ids: list[str]) -> str | None:
    """``calls.failed_criteria``: ``,id,id,`` (so ``LIKE '%,id,%'`` finds one), None for none."""
    return "," + ",".join(ids) + "," if ids else None


def is_compliance_issue(evaluation: Evaluation) -> bool:
    """A compliance flag from the engine, or a critical criterion failed."""
    return "compliance" in evaluation.flags or any(c.critical and c.result == "fail" for c in evaluation.criteria)


def criterion_from_row(row: CriterionResultRow) -> CriterionResult:
    """The ``qa.model.CriterionResult`` of a stored criterion row (its effective result)."""
    return CriterionResult(
        id=row.criterion_id,
        competence=row.competence or "",
        result=row.result,
        weight=row.weight,
        evidence=[Evidence(**{k: e[k] for k in ("speaker", "start", "end", "text")}) for e in (row.evidence or [])],
        feedback=row.feedback or "",
        critical=row.critical,
        title=row.title,
        confidence=row.confidence,
        extra=dict(row.extra or {}),
    )


def review_summary(review: Any) -> dict[str, Any]:
    """How a human review is shown beside a criterion result (Evaluation JSON ``review``, the
    call page, exports): who, when (UTC ISO 8601), the result, the comment, the accepted dispute
    it came from, and ``carried_over_from``: the rubric version it was made on when it was
    carried over from an earlier evaluation."""
    out = {"by": review.reviewer, "at": review.created_at.isoformat(timespec="seconds") + "Z"
           if review.created_at else None, "result": review.new_result, "comment": review.comment}
    if review.dispute_id:
        out["dispute"] = review.dispute_id
    if review.carried_from_id:
        out["carried_over_from"] = review.carried_from_version
    return out


def evaluation_from_row(call_id: str, ev: EvaluationRow, reviews: list[Any] | None = None) -> Evaluation:
    """The FORMATS.md evaluation, with human overrides applied (``extra.overridden`` lists them).
    ``reviews``: the evaluation's reviews (oldest first); the newest of each criterion is shown
    as the criterion's ``review`` (``review_summary``), and ``extra.carried_over`` lists the
    criteria whose review was carried over from an earlier evaluation."""
    criteria = [criterion_from_row(r) for r in ev.criteria]
    extra = dict(ev.extra or {})
    overridden = [r.criterion_id for r in ev.criteria if r.overridden]
    if overridden:
        extra["overridden"] = overridden
        extra["auto_score"] = ev.auto_score
    newest = {r.criterion_result_id: r for r in (reviews or [])}
    carried = []
    for row, c in zip(ev.criteria, criteria):
        review = newest.get(row.id)
        if review is not None:
            c.extra["review"] = review_summary(review)
            if review.carried_from_id:
                carried.append(c.id)
    if carried:
        extra["carried_over"] = carried
        extra.setdefault("auto_score", ev.auto_score)
    return Evaluation(call_id=call_id, rubric=ev.rubric, rubric_version=ev.rubric_version, criteria=criteria,
                      score=ev.score, flags=list(ev.flags or []), extra=extra)
