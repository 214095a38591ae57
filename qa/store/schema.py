"""The store's tables (SQLAlchemy 2 declarative models), the same on SQLite and PostgreSQL.

Conventions
- Every timestamp is stored as naive UTC (``utc()`` converts); the API returns naive UTC too.
- ``calls`` carries copies of the current evaluation's score/compliance flag, and
  ``evaluations``/``criterion_results`` carry copies of the call's filter columns (team, agent,
  started_at, call_type, language): the dashboard's list page, trends and pass rates then read
  one table through one index instead of joining 100,000 calls to a million criterion rows.
  The repository (``qa.store.repository``) is the only writer and keeps the copies in step.
- The schema is created and upgraded only by Alembic (``qa/store/migrations``); never call
  ``Base.metadata.create_all`` outside tests of the migrations themselves.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# JSON on SQLite, JSONB on PostgreSQL (indexable, compact).
JSONDoc = JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")

ROLES = ("supervisor", "operator", "qa_lead", "admin")
CALL_STATUSES = ("scored", "transcribed")
DISPUTE_STATUSES = ("open", "accepted", "rejected")
RUBRIC_STATUSES = ("draft", "published", "retired")


def utc(value: datetime | None) -> datetime | None:
    """Naive UTC, the form every timestamp has in the store."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def now() -> datetime:
    """The current time as naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    """The declarative base of the store's tables."""


class Call(Base):
    """One row per call: metadata, where the recording is, and copies of the current evaluation
    (score, compliance flag, failed criteria, open disputes) for the list page's filters."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(200), unique=True)
    source_kind: Mapped[str] = mapped_column(String(16), default="audio")  # audio | transcript
    audio_path: Mapped[str | None] = mapped_column(Text)  # the recording the store refers to
    redacted_audio_path: Mapped[str | None] = mapped_column(Text)  # copy with personal data silenced
    # sha256 of the recording (or of the transcript JSON for transcript inputs): the idempotency key.
    audio_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str | None] = mapped_column(String(500))
    agent_id: Mapped[str | None] = mapped_column(String(100))
    agent_name: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    call_type: Mapped[str | None] = mapped_column(String(40))
    direction: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration: Mapped[float | None] = mapped_column(Float)
    ingested_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    status: Mapped[str] = mapped_column(String(20), default="scored")
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)  # unknown metadata keys
    # copies of the current evaluation (kept by the repository)
    current_evaluation_id: Mapped[int | None] = mapped_column(Integer)
    rubric: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    compliance_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    n_fail: Mapped[int] = mapped_column(Integer, default=0)
    failed_criteria: Mapped[str | None] = mapped_column(Text)  # ",id1,id2," for fast "fails X" filters
    open_disputes: Mapped[int] = mapped_column(Integer, default=0)
    # casefolded "call_id agent_name customer_name file_name" for the list page's search box
    search_text: Mapped[str | None] = mapped_column(String(500))

    transcript: Mapped["TranscriptRow | None"] = relationship(back_populates="call", uselist=False)
    evaluations: Mapped[list["EvaluationRow"]] = relationship(back_populates="call", order_by="EvaluationRow.id")
    metrics: Mapped["CallMetrics | None"] = relationship(back_populates="call", uselist=False)

    __table_args__ = (
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_team_started", "team", "started_at"),
        Index("ix_calls_agent_started", "agent_id", "started_at"),
        Index("ix_calls_type_started", "call_type", "started_at"),
        Index("ix_calls_language_started", "language", "started_at"),
        Index("ix_calls_score", "score"),
        Index("ix_calls_compliance_started", "compliance_flag", "started_at"),
        # every filter column of the list page in one narrow index: counting the matches of any
        # filter combination reads this index, not the wide rows (qa.store.queries.call_list)
        Index("ix_calls_filters", "started_at", "team", "agent_id", "call_type", "language", "direction", "score",
              "compliance_flag", "open_disputes", "failed_criteria", "search_text"),
    )


class TranscriptRow(Base):
    """The call's transcript document (FORMATS.md JSON; redacted when redaction was on)."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONDoc)  # FORMATS.md transcript JSON
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    redaction_spans: Mapped[list[Any] | None] = mapped_column(JSONDoc)
    engine: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    call: Mapped[Call] = relationship(back_populates="transcript")


class EvaluationRow(Base):
    """One scoring run of a call (``is_current`` marks the latest); score with overrides and the
    automatic score, copies of the call's filter columns."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    rubric: Mapped[str] = mapped_column(String(100))
    rubric_version: Mapped[str] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)  # with human overrides applied
    auto_score: Mapped[float | None] = mapped_column(Float)  # as the rubric computed it
    compliance_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[list[str] | None] = mapped_column(JSONDoc)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    # copies of the call's filter columns
    agent_id: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(200))
    call_type: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)

    call: Mapped[Call] = relationship(back_populates="evaluations")
    criteria: Mapped[list["CriterionResultRow"]] = relationship(
        back_populates="evaluation", order_by="CriterionResultRow.position"
    )

    __table_args__ = (
        Index("ix_evaluations_call_current", "call_pk", "is_current"),
        # one current evaluation per call, enforced by the database (migration 0004)
        Index("uq_evaluations_current", "call_pk", unique=True, sqlite_where=text("is_current"),
              postgresql_where=text("is_current")),
        Index("ix_evaluations_agent_started", "is_current", "agent_id", "started_at"),
        Index("ix_evaluations_team_started", "is_current", "team", "started_at"),
    )


class CriterionResultRow(Base):
    """One criterion of an evaluation: effective and automatic result, evidence, feedback,
    confidence; copies of the call's filter columns for the pass-rate queries."""

    __tablename__ = "criterion_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    criterion_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(300))
    competence: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[str] = mapped_column(String(8))  # effective: override if any, else auto
    auto_result: Mapped[str] = mapped_column(String(8))
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[list[Any] | None] = mapped_column(JSONDoc)
    feedback: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    # copies for the pass-rate / heatmap queries
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    agent_id: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(200))
    call_type: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)

    evaluation: Mapped[EvaluationRow] = relationship(back_populates="criteria")

    __table_args__ = (
        Index("ix_criteria_evaluation", "evaluation_id"),
        Index("ix_criteria_call", "call_pk"),
        # covering indexes: pass rate per criterion x team, heatmap agent x criterion
        Index("ix_criteria_team", "is_current", "started_at", "team", "criterion_id", "result"),
        Index("ix_criteria_agent", "is_current", "agent_id", "criterion_id", "result"),
        # one current result per call and criterion (migration 0004)
        Index("uq_criteria_current", "call_pk", "criterion_id", unique=True, sqlite_where=text("is_current"),
              postgresql_where=text("is_current")),
    )


class CallMetrics(Base):
    """``qa.analysis.metrics.compute_metrics`` JSON of a call, with its main figures as columns."""

    __tablename__ = "call_metrics"

    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    # key figures as columns (filters, sorting, averages); the whole dict is in ``data``
    talk_ratio_agent: Mapped[float | None] = mapped_column(Float)
    silence_ratio: Mapped[float | None] = mapped_column(Float)
    overtalk_seconds: Mapped[float | None] = mapped_column(Float)
    longest_silence: Mapped[float | None] = mapped_column(Float)
    agent_wpm: Mapped[float | None] = mapped_column(Float)
    interruptions: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[float | None] = mapped_column(Float)

    call: Mapped[Call] = relationship(back_populates="metrics")


class User(Base):
    """A dashboard account: argon2 password hash, role, the operator's ``agent_id``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # supervisor | operator | qa_lead | admin
    agent_id: Mapped[str | None] = mapped_column(String(100))  # operators: whose calls they see
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="it")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Review(Base):
    """A human override of one criterion result (the evaluation's score is recomputed).

    When a call is re-scored, the newest review of each criterion the new evaluation still has
    is carried over: a copy on the new evaluation with ``carried_from_id`` (the human's own
    review), ``carried_from_version`` (the rubric version it was made on) and the human's
    ``created_at``; ``old_result`` is then the new automatic result."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    criterion_result_id: Mapped[int] = mapped_column(ForeignKey("criterion_results.id", ondelete="CASCADE"))
    criterion_id: Mapped[str] = mapped_column(String(100))
    old_result: Mapped[str] = mapped_column(String(8))
    new_result: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str | None] = mapped_column(String(100))  # username
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    dispute_id: Mapped[int | None] = mapped_column(Integer)  # the accepted dispute that made this review
    carried_from_id: Mapped[int | None] = mapped_column(Integer)  # the human's review this one carries over
    carried_from_version: Mapped[str | None] = mapped_column(String(100))  # rubric version it was made on

    __table_args__ = (Index("ix_reviews_call", "call_pk"), Index("ix_reviews_evaluation", "evaluation_id"))


class Dispute(Base):
    """An operator contests one criterion result."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    criterion_result_id: Mapped[int] = mapped_column(ForeignKey("criterion_results.id", ondelete="CASCADE"))
    criterion_id: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str | None] = mapped_column(String(100))  # username
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | accepted | rejected
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_disputes_status", "status", "created_at"), Index("ix_disputes_call", "call_pk"),
                      # one open dispute per call, criterion and operator (migration 0004)
                      Index("uq_disputes_open", "call_pk", "criterion_id", "raised_by", unique=True,
                            sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")))


class AuditEntry(Base):
    """Who did what, when, on which call (sign-ins, call opens, overrides, disputes, ingest)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=now)
    username: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    call_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)

    __table_args__ = (Index("ix_audit_at", "at"), Index("ix_audit_call", "call_id"))


class Failure(Base):
    """An input ``qa ingest`` could not store: reason, checksum if known, attempts."""

    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    file_name: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    first_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    last_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class RubricVersion(Base):
    """The YAML of one rubric version: draft, published or retired, and who published it."""

    __tablename__ = "rubric_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    yaml_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | published | retired
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_by: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("name", "version", name="uq_rubric_versions_name_version"),)


class _RollupMixin:
    """Counts of current criterion results per period and filter dimensions, kept by the
    repository on every write (upserts of +/- deltas), so the dashboard's pass-rate queries
    read a few thousand rows instead of a million. Unknown dimensions are '' (not NULL, so
    the unique key works); a call without started_at counts under day 1900-01-01."""

    team: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[str] = mapped_column(String(100))
    call_type: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    criterion_id: Mapped[str] = mapped_column(String(100))
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    na: Mapped[int] = mapped_column(Integer, default=0)


class CriterionDaily(_RollupMixin, Base):
    """Rollup of current criterion results per day (see ``_RollupMixin``)."""

    __tablename__ = "criterion_daily"

    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (PrimaryKeyConstraint("day", "team", "agent_id", "call_type", "language", "criterion_id"),
                      {"sqlite_with_rowid": False})


class CriterionMonthly(_RollupMixin, Base):
    """Rollup of current criterion results per month (see ``_RollupMixin``)."""

    __tablename__ = "criterion_monthly"

    month: Mapped[date] = mapped_column(Date)  # first day of the month

    __table_args__ = (PrimaryKeyConstraint("month", "team", "agent_id", "call_type", "language", "criterion_id"),
                      {"sqlite_with_rowid": False})
