"""The store's API: every write goes through ``Store`` (one transaction per call), reads that
the dashboard needs are in ``qa.store.queries``.

    store = open_store()                 # QA_DATABASE_URL or the SQLite file in QA_DATA_DIR
    store.add_call(CallRecord(...))      # call + transcript + evaluation + metrics, atomically
    with store.session() as s: ...       # a plain SQLAlchemy Session for queries

Returned ORM objects are detached but loaded (``expire_on_commit=False``): read their columns
freely, change them only through ``Store`` methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ..errors import StoreError
from ..model import RESULTS, CriterionResult, Evaluation, Evidence, Transcript, compute_score
from .rollups import apply_deltas, deltas_for
from .schema import (
    DISPUTE_STATUSES,
    ROLES,
    AuditEntry,
    Call,
    CallMetrics,
    CriterionResultRow,
    Dispute,
    EvaluationRow,
    Failure,
    Review,
    RubricVersion,
    TranscriptRow,
    User,
    now,
    utc,
)

CALL_COLUMNS = ("agent_id", "agent_name", "team", "customer_name", "call_type", "direction")
# call_metrics columns <- dotted paths into qa.metrics.compute_metrics() output (first present wins)
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


def search_text(*parts: str | None) -> str:
    """What the list page's search matches: the parts casefolded, space-separated, <= 500 chars."""
    return " ".join(p for p in parts if p).casefold()[:500]


def _failed_list(ids: list[str]) -> str | None:
    return "," + ",".join(ids) + "," if ids else None


def is_compliance_issue(evaluation: Evaluation) -> bool:
    return "compliance" in evaluation.flags or any(c.critical and c.result == "fail" for c in evaluation.criteria)


def _criterion_from_row(row: CriterionResultRow) -> CriterionResult:
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


def evaluation_from_row(call_id: str, ev: EvaluationRow) -> Evaluation:
    """The FORMATS.md evaluation, with human overrides applied (``extra.overridden`` lists them)."""
    criteria = [_criterion_from_row(r) for r in ev.criteria]
    extra = dict(ev.extra or {})
    overridden = [r.criterion_id for r in ev.criteria if r.overridden]
    if overridden:
        extra["overridden"] = overridden
        extra["auto_score"] = ev.auto_score
    return Evaluation(call_id=call_id, rubric=ev.rubric, rubric_version=ev.rubric_version, criteria=criteria,
                      score=ev.score, flags=list(ev.flags or []), extra=extra)


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as s:
            with s.begin():
                yield s

    # ------------------------------------------------------------------ calls
    def has_checksum(self, checksum: str) -> bool:
        with self.session() as s:
            return s.scalar(select(Call.id).where(Call.audio_sha256 == checksum)) is not None

    def known_checksums(self) -> set[str]:
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
                    s.add(self._metrics_row(call.id, rec.metrics))
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
    def _metrics_row(call_pk: int, data: dict[str, Any]) -> CallMetrics:
        row = CallMetrics(call_pk=call_pk, data=data)
        for column, keys in METRIC_COLUMNS.items():
            setattr(row, column, _metric_number(data, keys))
        return row

    @staticmethod
    def _insert_evaluation(s: Session, call: Call, evaluation: Evaluation) -> EvaluationRow:
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
        call.failed_criteria = _failed_list([c.id for c in evaluation.criteria if c.result == "fail"])
        call.status = "scored"
        return ev

    def add_evaluation(self, call_id: str, evaluation: Evaluation, username: str | None = None) -> int:
        """A new current evaluation for a stored call (rescore); earlier ones stay as history."""
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

    @staticmethod
    def _call(s: Session, call_id: str) -> Call:
        call = s.scalar(select(Call).where(Call.call_id == call_id))
        if call is None:
            raise StoreError(f"no call {call_id!r} in the store")
        return call

    def get_call(self, call_id: str) -> Call:
        with self.session() as s:
            return self._call(s, call_id)

    def count_calls(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(Call)) or 0

    def load_transcript(self, call_id: str) -> Transcript:
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
        with self.session() as s:
            call = self._call(s, call_id)
            return list(s.scalars(select(EvaluationRow).options(selectinload(EvaluationRow.criteria))
                                  .where(EvaluationRow.call_pk == call.id).order_by(EvaluationRow.id)))

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

    # ------------------------------------------------------------------ failures
    def record_failure(self, path: str, reason: str, checksum: str | None = None) -> None:
        from pathlib import Path as _P

        with self.session() as s:
            row = s.scalar(select(Failure).where(Failure.path == path))
            if row is None:
                s.add(Failure(path=path, file_name=_P(path).name, checksum=checksum, reason=reason))
            else:
                row.reason, row.last_at, row.attempts = reason, now(), row.attempts + 1
                row.checksum = checksum or row.checksum

    def clear_failure(self, path: str) -> None:
        with self.session() as s:
            s.execute(Failure.__table__.delete().where(Failure.path == path))

    def failures(self) -> list[Failure]:
        with self.session() as s:
            return list(s.scalars(select(Failure).order_by(Failure.file_name, Failure.path)))

    # ------------------------------------------------------------------ reviews and disputes
    def _criterion_row(self, s: Session, call: Call, criterion_id: str) -> CriterionResultRow:
        row = s.scalar(select(CriterionResultRow).where(CriterionResultRow.call_pk == call.id,
                                                        CriterionResultRow.is_current,
                                                        CriterionResultRow.criterion_id == criterion_id))
        if row is None:
            raise StoreError(f"call {call.call_id!r} has no current result for criterion {criterion_id!r}")
        return row

    def _recompute(self, s: Session, call: Call, ev: EvaluationRow) -> None:
        rows = list(s.scalars(select(CriterionResultRow).where(CriterionResultRow.evaluation_id == ev.id)))
        results = [_criterion_from_row(r) for r in rows]
        ev.score = compute_score(results)
        ev.compliance_flag = "compliance" in (ev.flags or []) and not any(
            r.critical and r.overridden for r in rows) or any(r.critical and r.result == "fail" for r in rows)
        if ev.is_current:
            call.score = ev.score
            call.compliance_flag = ev.compliance_flag
            call.n_fail = sum(1 for r in rows if r.result == "fail")
            call.failed_criteria = _failed_list([r.criterion_id for r in rows if r.result == "fail"])

    def override(self, call_id: str, criterion_id: str, new_result: str, reviewer: str | None,
                 comment: str | None = None) -> Review:
        """A human sets a criterion result of the current evaluation; the score is recomputed."""
        with self.session() as s:
            return self._override(s, self._call(s, call_id), criterion_id, new_result, reviewer, comment)

    def _override(self, s: Session, call: Call, criterion_id: str, new_result: str, reviewer: str | None,
                  comment: str | None) -> Review:
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
        with self.session() as s:
            call = self._call(s, call_id)
            return list(s.scalars(select(Review).where(Review.call_pk == call.id).order_by(Review.id)))

    def open_dispute(self, call_id: str, criterion_id: str, comment: str, raised_by: str | None) -> Dispute:
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
        if status is not None and status not in DISPUTE_STATUSES:
            raise StoreError(f"dispute status must be one of {', '.join(DISPUTE_STATUSES)}")
        with self.session() as s:
            q = select(Dispute).order_by(Dispute.created_at, Dispute.id)
            if status:
                q = q.where(Dispute.status == status)
            if call_id:
                q = q.where(Dispute.call_pk == self._call(s, call_id).id)
            return list(s.scalars(q))

    # ------------------------------------------------------------------ users
    @staticmethod
    def _user_id(s: Session, username: str | None) -> int | None:
        return None if not username else s.scalar(select(User.id).where(User.username == username))

    def create_user(self, username: str, password: str, role: str, agent_id: str | None = None,
                    display_name: str | None = None, language: str = "it", created_by: str | None = None) -> User:
        from argon2 import PasswordHasher

        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if role == "operator" and not agent_id:
            raise StoreError("an operator needs the agent_id of their calls")
        if not username or not password:
            raise StoreError("username and password are required")
        user = User(username=username, password_hash=PasswordHasher().hash(password), role=role,
                    agent_id=agent_id, display_name=display_name, language=language, active=True)
        try:
            with self.session() as s:
                s.add(user)
                s.add(AuditEntry(action="user_create", username=created_by, details={"user": username, "role": role}))
        except IntegrityError:
            raise StoreError(f"user {username!r} already exists") from None
        return user

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user when the password matches, else None (argon2 verification)."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        with self.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None or not user.active:
                return None
            ph = PasswordHasher()
            try:
                ph.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            if ph.check_needs_rehash(user.password_hash):
                user.password_hash = ph.hash(password)
            return user

    def update_user(self, username: str, *, password: str | None = None, updated_by: str | None = None,
                    **fields: Any) -> User:
        """Change a user's role, agent_id, display_name, language, active and/or password."""
        from argon2 import PasswordHasher

        allowed = {"role", "agent_id", "display_name", "language", "active"}
        unknown = set(fields) - allowed
        if unknown:
            raise StoreError(f"cannot change {', '.join(sorted(unknown))} of a user")
        if "role" in fields and fields["role"] not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}")
        with self.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise StoreError(f"no user {username!r}")
            for k, v in fields.items():
                setattr(user, k, v)
            if password:
                user.password_hash = PasswordHasher().hash(password)
            s.add(AuditEntry(action="user_update", username=updated_by,
                             details={"user": username, "fields": sorted(fields) + (["password"] if password else [])}))
            return user

    def get_user(self, username: str) -> User | None:
        with self.session() as s:
            return s.scalar(select(User).where(User.username == username))

    def users(self) -> list[User]:
        with self.session() as s:
            return list(s.scalars(select(User).order_by(User.username)))

    # ------------------------------------------------------------------ audit
    def audit(self, action: str, username: str | None = None, call_id: str | None = None,
              details: dict[str, Any] | None = None) -> None:
        with self.session() as s:
            s.add(AuditEntry(action=action, username=username, call_id=call_id, details=details))

    def audit_log(self, call_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
        with self.session() as s:
            q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if call_id:
                q = q.where(AuditEntry.call_id == call_id)
            return list(s.scalars(q))

    # ------------------------------------------------------------------ rubric versions
    def save_rubric_version(self, name: str, version: str, yaml_text: str, status: str = "draft",
                            username: str | None = None) -> RubricVersion:
        with self.session() as s:
            row = s.scalar(select(RubricVersion).where(RubricVersion.name == name, RubricVersion.version == version))
            if row is None:
                row = RubricVersion(name=name, version=version, yaml_text=yaml_text, status="draft")
                s.add(row)
            elif row.status != "draft":
                raise StoreError(f"rubric {name} {version} is {row.status}: publish a new version instead")
            else:
                row.yaml_text = yaml_text
            if status == "published":
                self._publish(s, row, username)
            s.add(AuditEntry(action="rubric_save", username=username, details={"rubric": name, "version": version}))
            return row

    @staticmethod
    def _publish(s: Session, row: RubricVersion, username: str | None) -> None:
        s.execute(update(RubricVersion).where(RubricVersion.name == row.name, RubricVersion.status == "published",
                                              RubricVersion.id != row.id).values(status="retired"))
        row.status, row.published_at, row.published_by = "published", now(), username

    def publish_rubric_version(self, name: str, version: str, username: str | None = None) -> RubricVersion:
        with self.session() as s:
            row = s.scalar(select(RubricVersion).where(RubricVersion.name == name, RubricVersion.version == version))
            if row is None:
                raise StoreError(f"no rubric version {name} {version}")
            self._publish(s, row, username)
            s.add(AuditEntry(action="rubric_publish", username=username, details={"rubric": name, "version": version}))
            return row

    def rubric_versions(self, name: str | None = None) -> list[RubricVersion]:
        with self.session() as s:
            q = select(RubricVersion).order_by(RubricVersion.name, RubricVersion.created_at, RubricVersion.id)
            if name:
                q = q.where(RubricVersion.name == name)
            return list(s.scalars(q))
