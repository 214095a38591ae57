"""Human reviews and disputes: ``ReviewsMixin``, the part of ``Store`` where a supervisor
overrides a criterion result (score, compliance flag, the call's copies and the rollups are
recomputed in the same transaction) and an operator disputes one (accepting a dispute also
overrides, in the same transaction, the CURRENT evaluation's result even after a rescore).

Every write locks the call row first (``write_session`` + ``_call(..., lock=True)``), so a
review and a rescore of the same call take turns; a rescore carries the reviews over
(``qa.store.calls.CallsMixin.add_evaluation``). One open dispute per (call, criterion,
operator): a second is refused (the database enforces it too, index ``uq_disputes_open``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import StoreError
from ..model import RESULTS
from .base import StoreBase
from .calls import recompute
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

    def override(self, call_id: str, criterion_id: str, new_result: str, reviewer: str | None,
                 comment: str | None = None) -> Review:
        """A human sets a criterion result of the current evaluation; the score is recomputed."""
        with self.write_session() as s:
            return self._override(s, self._call(s, call_id, lock=True), criterion_id, new_result, reviewer, comment)

    def _override(self, s: Session, call: Call, criterion_id: str, new_result: str, reviewer: str | None,
                  comment: str | None, dispute_id: int | None = None) -> Review:
        """``override`` inside an open transaction that holds the call's lock (``decide_dispute``
        uses it too, with the dispute's id)."""
        if new_result not in RESULTS:
            raise StoreError(f"result must be pass, fail or na, got {new_result!r}")
        row = self._criterion_row(s, call, criterion_id)
        review = Review(call_pk=call.id, evaluation_id=row.evaluation_id, criterion_result_id=row.id,
                        criterion_id=criterion_id, old_result=row.result, new_result=new_result,
                        comment=comment, reviewer=reviewer, user_id=self._user_id(s, reviewer),
                        dispute_id=dispute_id, created_at=now())
        s.add(review)
        apply_deltas(s, deltas_for([row], -1))
        row.result = new_result
        row.overridden = new_result != row.auto_result
        apply_deltas(s, deltas_for([row], +1))
        recompute(s, call, s.get(EvaluationRow, row.evaluation_id))
        s.add(AuditEntry(action="override", username=reviewer, call_id=call.call_id,
                         details={"criterion": criterion_id, "from": review.old_result, "to": new_result,
                                  "comment": comment, **({"dispute": dispute_id} if dispute_id else {})}))
        s.flush()
        return review

    def reviews(self, call_id: str) -> list[Review]:
        """The call's reviews, oldest first: the humans' own and the copies carried over to
        later evaluations (``carried_from_id`` set)."""
        with self.session() as s:
            call = self._call(s, call_id)
            return list(s.scalars(select(Review).where(Review.call_pk == call.id).order_by(Review.id)))

    def open_dispute(self, call_id: str, criterion_id: str, comment: str, raised_by: str | None) -> Dispute:
        """An operator contests the current result of one criterion (a comment is required).
        StoreError when the same person already has an open dispute on that criterion of the call."""
        if not comment or not comment.strip():
            raise StoreError("a dispute needs a comment")
        try:
            with self.write_session() as s:
                call = self._call(s, call_id, lock=True)
                row = self._criterion_row(s, call, criterion_id)
                self._refuse_duplicate(s, call, criterion_id, raised_by)
                d = Dispute(call_pk=call.id, evaluation_id=row.evaluation_id, criterion_result_id=row.id,
                            criterion_id=criterion_id, comment=comment.strip(), raised_by=raised_by, status="open",
                            created_at=now())
                s.add(d)
                s.flush()
                call.open_disputes = (call.open_disputes or 0) + 1
                s.add(AuditEntry(action="dispute", username=raised_by, call_id=call_id,
                                 details={"dispute": d.id, "criterion": criterion_id, "comment": comment}))
                s.flush()
                return d
        except IntegrityError:  # a concurrent twin got there first (index uq_disputes_open)
            with self.session() as s:
                self._refuse_duplicate(s, self._call(s, call_id), criterion_id, raised_by)
            raise

    @staticmethod
    def _refuse_duplicate(s: Session, call: Call, criterion_id: str, raised_by: str | None) -> None:
        first = s.scalar(select(Dispute.id).where(Dispute.call_pk == call.id, Dispute.criterion_id == criterion_id,
                                                  Dispute.status == "open", Dispute.raised_by.is_(None)
                                                  if raised_by is None else Dispute.raised_by == raised_by))
        if first is not None:
            raise StoreError(f"dispute {first} on {criterion_id!r} of call {call.call_id!r} is already open: "
                             "wait for its decision")

    def decide_dispute(self, dispute_id: int, accepted: bool, decided_by: str | None,
                       comment: str | None = None, new_result: str | None = None) -> Dispute:
        """Accept or reject an open dispute, in one transaction. Accepting also overrides the
        criterion's result in the CURRENT evaluation (also when the call was re-scored after the
        dispute was raised): to ``new_result``, by default the opposite of the disputed pass/fail.
        When the current evaluation no longer has the criterion, the decision is recorded only."""
        with self.write_session() as s:
            d = s.get(Dispute, dispute_id)
            if d is None:
                raise StoreError(f"no dispute {dispute_id}")
            call = s.scalar(select(Call).where(Call.id == d.call_pk).with_for_update())
            s.refresh(d, with_for_update=True)  # decided meanwhile by someone else?
            if d.status != "open":
                raise StoreError(f"dispute {dispute_id} is already {d.status}")
            d.status = "accepted" if accepted else "rejected"
            d.decided_by, d.decided_at, d.decision_comment = decided_by, now(), comment
            call.open_disputes = max(0, (call.open_disputes or 0) - 1)
            disputed = s.get(CriterionResultRow, d.criterion_result_id)  # the result the operator contested
            if accepted and new_result is None and disputed is not None and disputed.result in ("pass", "fail"):
                new_result = "pass" if disputed.result == "fail" else "fail"
            current = s.scalar(select(CriterionResultRow).where(CriterionResultRow.call_pk == call.id,
                                                                CriterionResultRow.is_current,
                                                                CriterionResultRow.criterion_id == d.criterion_id))
            details = {"dispute": dispute_id, "criterion": d.criterion_id, "comment": comment}
            if accepted and new_result is not None and current is None:
                details["not_applied"] = "the current evaluation has no such criterion"
            s.add(AuditEntry(action=f"dispute_{d.status}", username=decided_by, call_id=call.call_id, details=details))
            if accepted and new_result is not None and current is not None:
                # recorded even when the current result already agrees: the decision then carries over
                self._override(s, call, d.criterion_id, new_result, decided_by,
                               comment or f"dispute {dispute_id} accepted", dispute_id=dispute_id)
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
