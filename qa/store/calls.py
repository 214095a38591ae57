"""Calls and their evaluations: ``CallsMixin``, the part of ``Store`` that stores a call (call,
transcript, evaluation, criterion results, metrics, rollups, audit: ONE transaction), adds a
new evaluation on rescore (``is_current`` moves, the rollups follow in the same transaction)
and loads them back (transcript, current evaluation, history, metrics)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..errors import StoreError
from ..model import RESULTS, Evaluation, Transcript, compute_score
from .base import StoreBase
from .records import (
    CALL_COLUMNS,
    CallRecord,
    criterion_from_row,
    evaluation_from_row,
    failed_list,
    is_compliance_issue,
    metrics_row,
    parse_timestamp,
    search_text,
)
from .rollups import apply_deltas, deltas_for
from .schema import (
    AuditEntry,
    Call,
    CallMetrics,
    CriterionResultRow,
    EvaluationRow,
    Failure,
    Review,
    TranscriptRow,
    now,
    utc,
)


def recompute(s: Session, call: Call, ev: EvaluationRow, rows: list[CriterionResultRow] | None = None) -> None:
    """Score and compliance flag of ``ev`` from its effective results (human reviews applied);
    the call's copies too when ``ev`` is current. A compliance flag the engine raised stays
    unless a human changed a critical criterion; a critical criterion that fails always flags."""
    if rows is None:
        rows = list(s.scalars(select(CriterionResultRow).where(CriterionResultRow.evaluation_id == ev.id)))
    ev.score = compute_score([criterion_from_row(r) for r in rows])
    ev.compliance_flag = "compliance" in (ev.flags or []) and not any(
        r.critical and r.overridden for r in rows) or any(r.critical and r.result == "fail" for r in rows)
    if ev.is_current:
        call.score = ev.score
        call.compliance_flag = ev.compliance_flag
        call.n_fail = sum(1 for r in rows if r.result == "fail")
        call.failed_criteria = failed_list([r.criterion_id for r in rows if r.result == "fail"])


class CallsMixin(StoreBase):
    """Calls, transcripts, evaluations and metrics (mixed into ``Store``)."""

    def has_checksum(self, checksum: str) -> bool:
        """Whether a call with this input checksum (sha256) is stored."""
        with self.session() as s:
            return s.scalar(select(Call.id).where(Call.audio_sha256 == checksum)) is not None

    def known_checksums(self) -> set[str]:
        """The input checksums of every stored call (ingest skips these files)."""
        with self.session() as s:
            return set(s.scalars(select(Call.audio_sha256)))

    def add_call(self, rec: CallRecord) -> int | None:
        """Store one call with its transcript, evaluation and metrics in ONE transaction.

        Returns the new call's primary key, or None when a call with the same checksum is
        already stored (nothing is written). Raises StoreError when the call_id is taken by a
        different recording."""
        t = rec.transcript
        md = dict(t.metadata or {})
        call = Call(
            call_id=t.call_id,
            source_kind=rec.source_kind,
            audio_path=rec.audio_path,
            redacted_audio_path=rec.redacted_audio_path,
            audio_sha256=rec.checksum,
            file_name=rec.file_name,
            language=t.language or md.get("language"),
            started_at=parse_timestamp(md.get("started_at")),
            duration=t.duration if t.duration is not None else (t.end_time or None),
            ingested_at=now(),
            status="scored" if rec.evaluation is not None else "transcribed",
            extra={k: v for k, v in md.items() if k not in CALL_COLUMNS + ("started_at", "language")} or None,
        )
        for key in CALL_COLUMNS:
            value = md.get(key)
            setattr(call, key, None if value is None or value == "" else str(value))
        call.search_text = search_text(call.call_id, call.agent_name, call.customer_name, call.file_name)
        try:
            with self.write_session() as s:
                s.add(call)
                s.flush()
                s.add(TranscriptRow(call_pk=call.id, document=t.to_dict(), redacted=rec.redacted,
                                    redaction_spans=rec.redaction_spans, engine=rec.engine, model=rec.model))
                if rec.metrics is not None:
                    s.add(metrics_row(call.id, rec.metrics))
                if rec.evaluation is not None:
                    self._insert_evaluation(s, call, rec.evaluation)
                s.add(AuditEntry(action="ingest", call_id=call.call_id,
                                 details={"file": rec.file_name, "checksum": rec.checksum, "source": rec.source_kind}))
                done = {p for p in (rec.source_path, rec.audio_path) if p}
                if done:
                    s.execute(Failure.__table__.delete().where(Failure.path.in_(done)))
            return call.id
        except IntegrityError as e:
            with self.session() as s:
                if s.scalar(select(Call.id).where(Call.audio_sha256 == rec.checksum)) is not None:
                    return None
                if s.scalar(select(Call.id).where(Call.call_id == t.call_id)) is not None:
                    raise StoreError(f"call_id {t.call_id!r} is already stored for a different recording") from None
            raise StoreError("cannot store the call: " + " ".join(str(e.orig or e).split())[:300]) from None

    @staticmethod
    def _insert_evaluation(s: Session, call: Call, evaluation: Evaluation,
                           carried: dict[str, tuple[Review, str]] | None = None) -> EvaluationRow:
        """Insert ``evaluation`` as the call's current one (rows, rollup deltas, the call's copies).
        ``carried``: criterion id -> (a human review of the previous current evaluation, the
        rubric version it was made on), applied to the new rows and copied onto them."""
        copies = dict(agent_id=call.agent_id, team=call.team, call_type=call.call_type,
                      language=call.language, started_at=call.started_at)
        ids = [c.id for c in evaluation.criteria]
        if len(set(ids)) != len(ids):
            raise StoreError(f"evaluation of {call.call_id!r} lists a criterion twice")
        ev = EvaluationRow(call_pk=call.id, rubric=evaluation.rubric, rubric_version=evaluation.rubric_version,
                           score=evaluation.score, auto_score=evaluation.score,
                           compliance_flag=is_compliance_issue(evaluation), flags=list(evaluation.flags),
                           extra=evaluation.extra or None, created_at=now(), is_current=True, **copies)
        s.add(ev)
        s.flush()
        rows = []
        for i, c in enumerate(evaluation.criteria):
            if c.result not in RESULTS:
                raise StoreError(f"criterion {c.id!r}: result must be pass, fail or na, got {c.result!r}")
            rows.append(CriterionResultRow(
                evaluation_id=ev.id, call_pk=call.id, position=i, criterion_id=c.id, title=c.title,
                competence=c.competence, result=c.result, auto_result=c.result, overridden=False,
                weight=c.weight, critical=c.critical, evidence=[e.to_dict() for e in c.evidence],
                feedback=c.feedback, confidence=c.confidence, extra=c.extra or None, is_current=True, **copies))
        for row in rows:
            if carried and row.criterion_id in carried:
                review = carried[row.criterion_id][0]
                row.result = review.new_result  # the human's result holds; auto_result is the new engine's
                row.overridden = row.result != row.auto_result
        s.add_all(rows)
        s.flush()
        for row in rows:
            if carried and row.criterion_id in carried:
                review, version = carried[row.criterion_id]
                s.add(Review(call_pk=call.id, evaluation_id=ev.id, criterion_result_id=row.id,
                             criterion_id=row.criterion_id, old_result=row.auto_result, new_result=review.new_result,
                             comment=review.comment, reviewer=review.reviewer, user_id=review.user_id,
                             created_at=review.created_at, dispute_id=review.dispute_id,
                             carried_from_id=review.carried_from_id or review.id,
                             carried_from_version=review.carried_from_version or version))
        apply_deltas(s, deltas_for(rows, +1))
        call.current_evaluation_id = ev.id
        call.rubric = evaluation.rubric
        if carried:
            recompute(s, call, ev, rows)
        else:  # the engine's score and flag as they are
            call.score, call.compliance_flag = ev.score, ev.compliance_flag
            call.n_fail = sum(1 for r in rows if r.result == "fail")
            call.failed_criteria = failed_list([r.criterion_id for r in rows if r.result == "fail"])
        call.status = "scored"
        return ev

    def add_evaluation(self, call_id: str, evaluation: Evaluation, username: str | None = None) -> int:
        """A new current evaluation for a stored call (rescore); earlier ones stay as history.

        One transaction, the call row locked: the old results leave the rollups, the new ones
        enter them, and the newest human review of every criterion the new evaluation still has
        (overrides, accepted disputes) is carried over to it: the human's result holds, the
        engine's new result is kept beside it as ``auto_result``, score and compliance flag are
        recomputed. Reviews of criteria the new evaluation no longer has stay in history only."""
        with self.write_session() as s:
            call = self._call(s, call_id, lock=True)
            prev = s.scalar(select(EvaluationRow).where(EvaluationRow.call_pk == call.id, EvaluationRow.is_current))
            carried: dict[str, tuple[Review, str]] = {}
            not_carried: list[str] = []
            if prev is not None:
                new_ids = {c.id for c in evaluation.criteria}
                for review in s.scalars(select(Review).where(Review.evaluation_id == prev.id).order_by(Review.id)):
                    if review.criterion_id in new_ids:
                        carried[review.criterion_id] = (review, prev.rubric_version)  # the newest wins
                    elif review.criterion_id not in not_carried:
                        not_carried.append(review.criterion_id)
            old = list(s.scalars(select(CriterionResultRow).where(CriterionResultRow.call_pk == call.id,
                                                                  CriterionResultRow.is_current)))
            apply_deltas(s, deltas_for(old, -1))
            s.execute(update(EvaluationRow).where(EvaluationRow.call_pk == call.id, EvaluationRow.is_current)
                      .values(is_current=False))
            s.execute(update(CriterionResultRow).where(CriterionResultRow.call_pk == call.id,
                                                       CriterionResultRow.is_current).values(is_current=False))
            ev = self._insert_evaluation(s, call, evaluation, carried)
            s.add(AuditEntry(action="rescore", username=username, call_id=call_id,
                             details={"rubric": evaluation.rubric, "rubric_version": evaluation.rubric_version,
                                      "score": ev.score, "auto_score": evaluation.score,
                                      "carried_over": sorted(carried), "not_carried": sorted(not_carried)}))
            return ev.id

    def get_call(self, call_id: str) -> Call:
        """The call row (detached); StoreError when there is no such call."""
        with self.session() as s:
            return self._call(s, call_id)

    def count_calls(self) -> int:
        """How many calls are stored."""
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(Call)) or 0

    def load_transcript(self, call_id: str) -> Transcript:
        """The stored transcript (redacted when redaction was on); StoreError when missing."""
        with self.session() as s:
            call = self._call(s, call_id)
            row = s.scalar(select(TranscriptRow).where(TranscriptRow.call_pk == call.id))
            if row is None:
                raise StoreError(f"call {call_id!r} has no transcript")
            return Transcript.from_dict(row.document, source=f"store:{call_id}")

    def load_evaluation(self, call_id: str) -> Evaluation | None:
        """The current evaluation (overrides applied, each reviewed criterion's ``review`` in its
        JSON, carried-over reviews marked), or None when the call is not scored."""
        with self.session() as s:
            call = self._call(s, call_id)
            ev = s.scalar(select(EvaluationRow).options(selectinload(EvaluationRow.criteria))
                          .where(EvaluationRow.call_pk == call.id, EvaluationRow.is_current))
            if ev is None:
                return None
            reviews = list(s.scalars(select(Review).where(Review.evaluation_id == ev.id).order_by(Review.id)))
            return evaluation_from_row(call.call_id, ev, reviews)

    def evaluation_history(self, call_id: str) -> list[EvaluationRow]:
        """Every evaluation of the call, oldest first, criteria loaded."""
        with self.session() as s:
            call = self._call(s, call_id)
            return list(s.scalars(select(EvaluationRow).options(selectinload(EvaluationRow.criteria))
                                  .where(EvaluationRow.call_pk == call.id).order_by(EvaluationRow.id)))

    def load_metrics(self, call_id: str) -> dict[str, Any] | None:
        """The call's ``qa.analysis.metrics.compute_metrics`` JSON, or None when none was stored."""
        with self.session() as s:
            call = self._call(s, call_id)
            row = s.get(CallMetrics, call.id)
            return None if row is None else dict(row.data)

    def iter_transcripts(self, since: datetime | None = None, batch: int = 200) -> Iterator[Transcript]:
        """Stored transcripts (calls started at/after ``since`` if given), in call order."""
        last = 0
        while True:
            with self.session() as s:
                q = (select(Call.id, TranscriptRow.document).join(TranscriptRow, TranscriptRow.call_pk == Call.id)
                     .where(Call.id > last).order_by(Call.id).limit(batch))
                if since is not None:
                    q = q.where(Call.started_at >= utc(since))
                rows = s.execute(q).all()
            if not rows:
                return
            for pk, doc in rows:
                last = pk
                yield Transcript.from_dict(doc, source=f"store:{pk}")
