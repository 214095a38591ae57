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
from ..model import RESULTS, Evaluation, Transcript
from .base import StoreBase
from .records import (
    CALL_COLUMNS,
    CallRecord,
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
    TranscriptRow,
    now,
    utc,
)


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
            with self.session() as s:
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
    def _insert_evaluation(s: Session, call: Call, evaluation: Evaluation) -> EvaluationRow:
        """Insert ``evaluation`` as the call's current one (rows, rollup deltas, the call's copies)."""
        compliance = is_compliance_issue(evaluation)
        copies = dict(agent_id=call.agent_id, team=call.team, call_type=call.call_type,
                      language=call.language, started_at=call.started_at)
        ev = EvaluationRow(call_pk=call.id, rubric=evaluation.rubric, rubric_version=evaluation.rubric_version,
                           score=evaluation.score, auto_score=evaluation.score, compliance_flag=compliance,
                           flags=list(evaluation.flags), extra=evaluation.extra or None, created_at=now(),
                           is_current=True, **copies)
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
        s.add_all(rows)
        apply_deltas(s, deltas_for(rows, +1))
        call.current_evaluation_id = ev.id
        call.rubric = evaluation.rubric
        call.score = evaluation.score
        call.compliance_flag = compliance
        call.n_fail = sum(1 for c in evaluation.criteria if c.result == "fail")
        call.failed_criteria = failed_list([c.id for c in evaluation.criteria if c.result == "fail"])
        call.status = "scored"
        return ev

    def add_evaluation(self, call_id: str, evaluation: Evaluation, username: str | None = None) -> int:
        """A new current evaluation for a stored call (rescore); earlier ones stay as history.
        One transaction: the old results leave the rollups, the new ones enter them."""
        with self.session() as s:
            call = self._call(s, call_id)
            old = list(s.scalars(select(CriterionResultRow).where(CriterionResultRow.call_pk == call.id,
                                                                  CriterionResultRow.is_current)))
            apply_deltas(s, deltas_for(old, -1))
            s.execute(update(EvaluationRow).where(EvaluationRow.call_pk == call.id, EvaluationRow.is_current)
                      .values(is_current=False))
            s.execute(update(CriterionResultRow).where(CriterionResultRow.call_pk == call.id,
                                                       CriterionResultRow.is_current).values(is_current=False))
            ev = self._insert_evaluation(s, call, evaluation)
            s.add(AuditEntry(action="rescore", username=username, call_id=call_id,
                             details={"rubric": evaluation.rubric, "rubric_version": evaluation.rubric_version,
                                      "score": evaluation.score}))
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
        """The current evaluation (overrides applied), or None when the call is not scored."""
        with self.session() as s:
            call = self._call(s, call_id)
            ev = s.scalar(select(EvaluationRow).options(selectinload(EvaluationRow.criteria))
                          .where(EvaluationRow.call_pk == call.id, EvaluationRow.is_current))
            return None if ev is None else evaluation_from_row(call.call_id, ev)

    def evaluation_history(self, call_id: str) -> list[EvaluationRow]:
        """Every evaluation of the call, oldest first, criteria loaded."""
        with self.session() as s:
            call = self._call(s, call_id)
            return list(s.scalars(select(EvaluationRow).options(selectinload(EvaluationRow.criteria))
                                  .where(EvaluationRow.call_pk == call.id).order_by(EvaluationRow.id)))

    def load_metrics(self, call_id: str) -> dict[str, Any] | None:
        """The call's ``qa.metrics.compute_metrics`` JSON, or None when none was stored."""
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
