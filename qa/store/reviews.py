"""Human reviews and disputes: ``ReviewsMixin``, the part of ``Store`` where a supervisor
overrides a criterion result (score, compliance flag, the call's copies and the rollups are
recomputed in the same transaction) and an operator disputes one (accepting a dispute also
overrides, in the same transaction)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import StoreError
from ..model import RESULTS, compute_score
from .base import StoreBase
from .records import criterion_from_row, failed_list
from .rollups import apply_deltas, deltas_for
from .schema import (
    DISPUTE_STATUSES,
    AuditEntry,
    Call,
    CriterionResultRow,
    Dispute,
    EvaluationRow,
    Review,
    now,
)


class ReviewsMixin(StoreBase):
    """Overrides (``reviews``) and disputes (mixed into ``Store``)."""

    @staticmethod
    def _criterion_row(s: Session, call: Call, criterion_id: str) -> CriterionResultRow:
        """The current result row of one criterion of the call; StoreError when there is none."""
        row = s.scalar(select(CriterionResultRow).where(CriterionResultRow.call_pk == call.id,
                                                        CriterionResultRow.is_current,
                                                        CriterionResultRow.criterion_id == criterion_id))
        if row is None:
            raise StoreError(f"call {call.call_id!r} has no current result for criterion {criterion_id!r}")
        return row

    @staticmethod
    def _recompute(s: Session, call: Call, ev: EvaluationRow) -> None:
        """Score and compliance flag of ``ev`` from its rows; the call's copies when it is current."""
        rows = list(s.scalars(select(CriterionResultRow).where(CriterionResultRow.evaluation_id == ev.id)))
        results = [criterion_from_row(r) for r in rows]
        ev.score = compute_score(results)
        ev.compliance_flag = "compliance" in (ev.flags or []) and not any(
            r.critical and r.overridden for r in rows) or any(r.critical and r.result == "fail" for r in rows)
        if ev.is_current:
            call.score = ev.score
            call.compliance_flag = ev.compliance_flag
            call.n_fail = sum(1 for r in rows if r.result == "fail")
            call.failed_criteria = failed_list([r.criterion_id for r in rows if r.result == "fail"])

    def override(self, call_id: str, criterion_id: str, new_result: str, reviewer: str | None,
                 comment: str | None = None) -> Review:
        """A human sets a criterion result of the current evaluation; the score is recomputed."""
        with self.session() as s:
            return self._override(s, self._call(s, call_id), criterion_id, new_result, reviewer, comment)

    def _override(self, s: Session, call: Call, criterion_id: str, new_result: str, reviewer: str | None,
                  comment: str | None) -> Review:
        """``override`` inside an open transaction (``decide_dispute`` uses it too)."""
        if new_result not in RESULTS:
            raise StoreError(f"result must be pass, fail or na, got {new_result!r}")
        row = self._criterion_row(s, call, criterion_id)
        review = Review(call_pk=call.id, evaluation_id=row.evaluation_id, criterion_result_id=row.id,
                        criterion_id=criterion_id, old_result=row.result, new_result=new_result,
                        comment=comment, reviewer=reviewer, user_id=self._user_id(s, reviewer))
        s.add(review)
        apply_deltas(s, deltas_for([row], -1))
        row.result = new_result
        row.overridden = new_result != row.auto_result
        apply_deltas(s, deltas_for([row], +1))
        self._recompute(s, call, s.get(EvaluationRow, row.evaluation_id))
        s.add(AuditEntry(action="override", username=reviewer, call_id=call.call_id,
                         details={"criterion": criterion_id, "from": review.old_result, "to": new_result,
                                  "comment": comment}))
        s.flush()
        return review

    def reviews(self, call_id: str) -> list[Review]:
        """The call's overrides, oldest first."""
        with self.session() as s:
            call = self._call(s, call_id)
            return list(s.scalars(select(Review).where(Review.call_pk == call.id).order_by(Review.id)))

    def open_dispute(self, call_id: str, criterion_id: str, comment: str, raised_by: str | None) -> Dispute:
        """An operator contests the current result of one criterion (a comment is required)."""
        if not comment or not comment.strip():
            raise StoreError("a dispute needs a comment")
        with self.session() as s:
            call = self._call(s, call_id)
            row = self._criterion_row(s, call, criterion_id)
            d = Dispute(call_pk=call.id, evaluation_id=row.evaluation_id, criterion_result_id=row.id,
                        criterion_id=criterion_id, comment=comment.strip(), raised_by=raised_by, status="open")
            s.add(d)
            call.open_disputes = (call.open_disputes or 0) + 1
            s.add(AuditEntry(action="dispute", username=raised_by, call_id=call_id,
                             details={"criterion": criterion_id, "comment": comment}))
            s.flush()
            return d

    def decide_dispute(self, dispute_id: int, accepted: bool, decided_by: str | None,
                       comment: str | None = None, new_result: str | None = None) -> Dispute:
        """Accept or reject an open dispute, in one transaction. Accepting also overrides the
        criterion result: to ``new_result``, by default the opposite of a pass/fail."""
        with self.session() as s:
            d = s.get(Dispute, dispute_id)
            if d is None:
                raise StoreError(f"no dispute {dispute_id}")
            if d.status != "open":
                raise StoreError(f"dispute {dispute_id} is already {d.status}")
            d.status = "accepted" if accepted else "rejected"
            d.decided_by, d.decided_at, d.decision_comment = decided_by, now(), comment
            call = s.get(Call, d.call_pk)
            call.open_disputes = max(0, (call.open_disputes or 0) - 1)
            row = s.get(CriterionResultRow, d.criterion_result_id)
            if accepted and new_result is None and row.result in ("pass", "fail"):
                new_result = "pass" if row.result == "fail" else "fail"
            s.add(AuditEntry(action=f"dispute_{d.status}", username=decided_by, call_id=call.call_id,
                             details={"dispute": dispute_id, "criterion": d.criterion_id, "comment": comment}))
            if accepted and new_result is not None and row.is_current and new_result != row.result:
                self._override(s, call, d.criterion_id, new_result, decided_by,
                               comment or f"dispute {dispute_id} accepted")
            s.flush()
            return d

    def disputes(self, status: str | None = "open", call_id: str | None = None) -> list[Dispute]:
        """Disputes (default: the open ones; ``status=None``: all), oldest first, optionally of one call."""
        if status is not None and status not in DISPUTE_STATUSES:
            raise StoreError(f"dispute status must be one of {', '.join(DISPUTE_STATUSES)}")
        with self.session() as s:
            q = select(Dispute).order_by(Dispute.created_at, Dispute.id)
            if status:
                q = q.where(Dispute.status == status)
            if call_id:
                q = q.where(Dispute.call_pk == self._call(s, call_id).id)
            return list(s.scalars(q))
