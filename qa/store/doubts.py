"""The calls a call model doubts (qa.learning.active: ``second_opinion``, flag ``review``), for the
supervisors' review queue of the dashboard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, func, select

from ..constants import REVIEW_FLAG
from .base import session_of
from .queries import LIST_COLUMNS, CallFilters, call_conditions
from .schema import Call, EvaluationRow



def review_queue(source, filters: CallFilters | None = None, page: int = 1, page_size: int = 50
                 ) -> tuple[list[dict[str, Any]], int]:
    """Calls whose current evaluation a call model doubts (flag ``review``: ``second_opinion``,
    qa.learning.active), newest first, with the doubted criteria listed (``doubted``)."""
    # the flag as it stands in the evaluation's JSON list of flags
    need = [EvaluationRow.is_current.is_(True), cast(EvaluationRow.flags, String).like(f'%"{REVIEW_FLAG}"%')]
    conds = call_conditions(filters)
    page, page_size = max(1, int(page)), max(1, min(int(page_size), 1000))
    with session_of(source) as s:
        base = select(*LIST_COLUMNS, EvaluationRow.extra.label("ev_extra")).join(
            EvaluationRow, EvaluationRow.call_pk == Call.id).where(*need, *conds)
        total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
        q = base.order_by(Call.started_at.desc().nulls_last(), Call.id.desc()).limit(page_size).offset(
            (page - 1) * page_size)
        rows = []
        for r in s.execute(q):
            row = dict(r._mapping)
            extra = row.pop("ev_extra") or {}
            row["doubted"] = sorted({str(d.get("criterion")) for d in extra.get("second_opinion") or []
                                     if isinstance(d, dict) and d.get("criterion")})
            rows.append(row)
    return rows, total
