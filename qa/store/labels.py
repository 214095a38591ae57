"""Human reviews read back as labels: what calibration (tool vs human, ``qa calibrate`` and the
dashboard's calibration page) and training from reviews (``qa train --from-store``) read.

A review is an override of one criterion result (or an accepted dispute, which became one); the
label is the human's ``new_result``, the tool's side is the row's ``auto_result``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .base import session_of
from .schema import Call, CriterionResultRow, Review

REVIEW_FIELDS = ("review_id", "call_id", "language", "criterion_id", "new_result", "auto_result", "evidence",
                 "feedback", "reviewed_at")


def latest_reviews(source, criteria: Iterable[str] | None = None, current_only: bool = False,
                   since: datetime | None = None) -> list[dict[str, Any]]:
    """The newest review of each (call, criterion), as dicts with ``REVIEW_FIELDS`` (``language``
    of the call; ``evidence`` and ``feedback`` of the tool's result; ``reviewed_at`` the review's
    time). In order of each pair's first review.

    ``criteria``: only these criteria. ``current_only``: only reviews of criterion results of
    the current evaluation (older evaluations' reviews are left out before choosing the newest).
    ``since``: only reviews made at or after this naive-UTC time."""
    q = (select(Review.id.label("review_id"), Call.call_id, Call.language, Review.criterion_id, Review.new_result,
                CriterionResultRow.auto_result, CriterionResultRow.evidence, CriterionResultRow.feedback,
                Review.created_at.label("reviewed_at"))
         .join(CriterionResultRow, CriterionResultRow.id == Review.criterion_result_id)
         .join(Call, Call.id == Review.call_pk).order_by(Review.id))
    if current_only:
        q = q.where(CriterionResultRow.is_current)
    if since is not None:
        q = q.where(Review.created_at >= since)
    wanted = None if criteria is None else set(criteria)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    with session_of(source) as s:
        for row in s.execute(q):
            if wanted is None or row.criterion_id in wanted:
                latest[(row.call_id, row.criterion_id)] = dict(row._mapping)  # the newest review wins
    return list(latest.values())
