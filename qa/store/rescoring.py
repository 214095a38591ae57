"""Which rubric and version each call's current evaluation is on: what ``qa rescore`` reads to
pick the calls to re-score, and what the rubric editor's progress bar counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from .base import session_of
from .schema import Call, EvaluationRow, utc


def current_rubric_versions(source, rubric: str | None = None, since: datetime | None = None
                            ) -> dict[str, tuple[str | None, str | None]]:
    """call_id -> (rubric, rubric_version) of its current evaluation; ``(None, None)`` for a call
    not scored yet. ``since``: only calls started at/after it (calls without a start time are
    left out). ``rubric``: only calls whose current evaluation is of that rubric (unscored calls
    are then left out too)."""
    q = select(Call.call_id, EvaluationRow.rubric, EvaluationRow.rubric_version).outerjoin(
        EvaluationRow, (EvaluationRow.call_pk == Call.id) & EvaluationRow.is_current)
    if since is not None:
        q = q.where(Call.started_at >= utc(since))
    if rubric is not None:
        q = q.where(EvaluationRow.rubric == rubric)
    with session_of(source) as s:
        return {cid: (r, v) for cid, r, v in s.execute(q)}


def rescore_progress(source, rubric: str, version: str) -> tuple[int, int]:
    """(calls of ``rubric`` whose current evaluation is on ``version``, calls of ``rubric``)."""
    with session_of(source) as s:
        base = select(func.count()).select_from(Call).join(
            EvaluationRow, (EvaluationRow.call_pk == Call.id) & EvaluationRow.is_current).where(
            EvaluationRow.rubric == rubric)
        total = s.scalar(base) or 0
        done = s.scalar(base.where(EvaluationRow.rubric_version == version)) or 0
    return done, total
