"""Read queries for the dashboard. Each takes a ``Store`` or an open SQLAlchemy ``Session``
and returns plain dicts (JSON-able apart from datetimes), so views never touch ORM objects.

    rows, total = call_list(store, CallFilters(team="Assistenza Ticino", score_max=60),
                            sort="-started_at", page=1, page_size=50)

They read the denormalised copies (``calls.score``, ``criterion_results.team`` ...) through
the indexes declared in ``qa.store.schema``; bench/ingest.py times them on 100,000 calls.
All timestamps are naive UTC. Row-level access (an operator sees only their own calls) is
``CallFilters.agent_id`` set by the caller from the logged-in user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal_column, or_, select
from sqlalchemy.orm import Session, selectinload

from .base import session_of
from .rollups import rollup_counts
from .schema import (
    AuditEntry,
    Call,
    CallMetrics,
    CriterionResultRow,
    Dispute,
    EvaluationRow,
    Review,
    TranscriptRow,
    utc,
)

SORTABLE = {
    "started_at": Call.started_at,
    "score": Call.score,
    "duration": Call.duration,
    "agent": Call.agent_name,
    "team": Call.team,
    "call_id": Call.call_id,
    "ingested_at": Call.ingested_at,
    "n_fail": Call.n_fail,
}
LIST_COLUMNS = (Call.id, Call.call_id, Call.started_at, Call.duration, Call.agent_id, Call.agent_name, Call.team,
                Call.customer_name, Call.call_type, Call.direction, Call.language, Call.score, Call.compliance_flag,
                Call.n_fail, Call.open_disputes, Call.status, Call.rubric, Call.file_name)


@dataclass
class CallFilters:
    """Filters shared by the dashboard's queries. ``None`` = no filter; a sequence = any of."""

    date_from: datetime | date | None = None  # started_at >= (inclusive)
    date_to: datetime | date | None = None  # started_at < (exclusive; a date means the whole day)
    team: str | Sequence[str] | None = None
    agent_id: str | Sequence[str] | None = None
    call_type: str | Sequence[str] | None = None
    language: str | Sequence[str] | None = None
    direction: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    compliance: bool | None = None  # True: only calls with a compliance issue
    disputed: bool | None = None  # True: only calls with an open dispute
    failed_criterion: str | None = None  # only calls whose current evaluation fails this criterion
    search: str | None = None  # call id, agent or customer name, file name (substring)


def _bound(value: datetime | date | None, end: bool = False) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return utc(value)
    day = datetime(value.year, value.month, value.day)
    return day + timedelta(days=1) if end else day


def _any(column, value):
    if value is None:
        return None
    if isinstance(value, str):
        return column == value
    values = list(value)
    return column == values[0] if len(values) == 1 else column.in_(values)


def _common(cols, f: CallFilters) -> list:
    """Conditions on the filter columns every table carries a copy of."""
    conds = []
    lo, hi = _bound(f.date_from), _bound(f.date_to, end=True)
    if lo is not None:
        conds.append(cols.started_at >= lo)
    if hi is not None:
        conds.append(cols.started_at < hi)
    for name in ("team", "agent_id", "call_type", "language"):
        cond = _any(getattr(cols, name), getattr(f, name))
        if cond is not None:
            conds.append(cond)
    return conds


def call_conditions(f: CallFilters | None) -> list:
    """The SQL conditions on ``calls`` of the filters (all of them; ``None``: no filter)."""
    f = f or CallFilters()
    conds = _common(Call, f)
    if f.direction:
        conds.append(Call.direction == f.direction)
    if f.score_min is not None:
        conds.append(Call.score >= f.score_min)
    if f.score_max is not None:
        conds.append(Call.score <= f.score_max)
    if f.compliance is not None:
        conds.append(Call.compliance_flag.is_(f.compliance))
    if f.disputed is not None:
        conds.append(Call.open_disputes > 0 if f.disputed else Call.open_disputes == 0)
    if f.failed_criterion:
        conds.append(Call.failed_criteria.like(f"%,{f.failed_criterion},%"))
    if f.search and f.search.strip():
        conds.append(Call.search_text.contains(f.search.strip().casefold(), autoescape=True))
    return conds


def _count(s: Session, conds: list) -> int:
    """Matches of the list filters. On SQLite the count scans the narrow covering index of all
    filter columns (its planner would pick a one-column index and then read each wide row)."""
    q = select(func.count()).select_from(Call).where(*conds)
    if s.get_bind().dialect.name == "sqlite":
        q = q.with_hint(Call, "INDEXED BY ix_calls_filters", "sqlite")
    return s.scalar(q) or 0


def _order(sort: str):
    desc = sort.startswith("-")
    key = sort.lstrip("-+")
    if key not in SORTABLE:
        raise ValueError(f"cannot sort by {key!r}; one of {', '.join(SORTABLE)}")
    col = SORTABLE[key]
    primary = col.desc().nulls_last() if desc else col.asc().nulls_last()
    return [primary, Call.id.desc() if desc else Call.id.asc()]


def call_list(source, filters: CallFilters | None = None, sort: str = "-started_at", page: int = 1,
              page_size: int = 50) -> tuple[list[dict[str, Any]], int]:
    """One page of the call list and the number of calls matching the filters."""
    page, page_size = max(1, int(page)), max(1, min(int(page_size), 1000))
    conds = call_conditions(filters)
    with session_of(source) as s:
        total = _count(s, conds)
        q = select(*LIST_COLUMNS).where(*conds).order_by(*_order(sort)).limit(page_size).offset(
            (page - 1) * page_size)
        rows = [dict(r._mapping) for r in s.execute(q)]
    return rows, total


def _period(column, dialect: str, period: str):
    if period not in ("day", "week", "month"):
        raise ValueError("period must be day, week or month")
    if dialect == "postgresql":
        return func.to_char(func.date_trunc(period, column), literal_column("'YYYY-MM-DD'"))
    if period == "day":
        return func.date(column)
    if period == "week":  # Monday of the ISO week
        return func.date(column, "-6 days", "weekday 1")
    return func.strftime("%Y-%m-01", column)


def agent_trend(source, agent_id: str, period: str = "week", filters: CallFilters | None = None
                ) -> list[dict[str, Any]]:
    """Per period (day/week/month, labelled by its first day): calls, mean score, compliance issues."""
    f = filters or CallFilters()
    f = CallFilters(**{**f.__dict__, "agent_id": agent_id})
    with session_of(source) as s:
        bucket = _period(Call.started_at, s.get_bind().dialect.name, period).label("period")
        q = (select(bucket, func.count().label("calls"), func.avg(Call.score).label("avg_score"),
                    func.sum(case((Call.compliance_flag, 1), else_=0)).label("compliance_issues"))
             .where(*call_conditions(f), Call.started_at.is_not(None)).group_by(bucket).order_by(bucket))
        return [{"period": str(r.period), "calls": r.calls,
                 "avg_score": None if r.avg_score is None else round(float(r.avg_score), 1),
                 "compliance_issues": int(r.compliance_issues or 0)} for r in s.execute(q)]


def team_trend(source, period: str = "week", filters: CallFilters | None = None) -> list[dict[str, Any]]:
    """Per team and period: calls and mean score."""
    with session_of(source) as s:
        bucket = _period(Call.started_at, s.get_bind().dialect.name, period).label("period")
        q = (select(Call.team, bucket, func.count().label("calls"), func.avg(Call.score).label("avg_score"))
             .where(*call_conditions(filters), Call.started_at.is_not(None))
             .group_by(Call.team, bucket).order_by(Call.team, bucket))
        return [{"team": r.team, "period": str(r.period), "calls": r.calls,
                 "avg_score": None if r.avg_score is None else round(float(r.avg_score), 1)} for r in s.execute(q)]


def _rate(passed: int, failed: int) -> float | None:
    n = (passed or 0) + (failed or 0)
    return None if n == 0 else round(100.0 * (passed or 0) / n, 1)


def _rates(source, group: tuple[str, ...], filters: CallFilters | None) -> list[dict[str, Any]]:
    f = filters or CallFilters()
    with session_of(source) as s:
        counts = rollup_counts(s, group, f, _bound(f.date_from), _bound(f.date_to, end=True))
    rows = []
    for key in sorted(counts, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        p, fl = counts[key]
        if p + fl == 0:
            continue
        rows.append({**dict(zip(group, key)), "passed": p, "failed": fl, "pass_rate": _rate(p, fl)})
    return rows


def pass_rate_by_criterion_team(source, filters: CallFilters | None = None) -> list[dict[str, Any]]:
    """Pass rate (pass / (pass + fail), in %) of each criterion in each team, current
    evaluations; filters: dates, team, agent_id, call_type, language (from the rollups)."""
    return _rates(source, ("criterion_id", "team"), filters)


def heatmap_agents_criteria(source, filters: CallFilters | None = None) -> list[dict[str, Any]]:
    """Pass rate per agent x criterion (long form: one dict per cell), current evaluations."""
    return _rates(source, ("agent_id", "criterion_id"), filters)


def pass_rate_by_criterion(source, filters: CallFilters | None = None) -> list[dict[str, Any]]:
    """Pass rate per criterion over the filtered calls."""
    return _rates(source, ("criterion_id",), filters)


def criterion_period_heatmap(source, period: str = "week", filters: CallFilters | None = None,
                             last: int | None = None) -> list[dict[str, Any]]:
    """Pass rate per criterion x period (day/week/month, labelled by its first day), current
    evaluations, long form: {criterion_id, period, passed, failed, pass_rate}. From the daily
    rollup; filters: team, agent_id, call_type, language, whole days of date_from/date_to;
    ``last``: only the last N periods up to the latest day with results (the rollup's key starts
    with the day, so a window reads only its part of the table)."""
    from .rollups import NO_DATE, _dim_conditions
    from .schema import CriterionDaily, CriterionMonthly

    f = filters or CallFilters()
    monthly = period == "month" and f.date_from is None and f.date_to is None  # months: the monthly rollup
    D = CriterionMonthly if monthly else CriterionDaily
    day = D.month if monthly else D.day
    with session_of(source) as s:
        bucket = (day if monthly else _period(day, s.get_bind().dialect.name, period)).label("period")
        q = (select(D.criterion_id, bucket, func.sum(D.passed).label("p"), func.sum(D.failed).label("f"))
             .where(day > NO_DATE, *_dim_conditions(D, f)).group_by(D.criterion_id, bucket)
             .order_by(D.criterion_id, bucket))
        if last:
            latest = s.scalar(select(func.max(day)).where(day > NO_DATE, *_dim_conditions(D, f)))
            if latest is not None:
                q = q.where(day >= _window_start(date.fromisoformat(str(latest)[:10]), period, last))
        lo, hi = _bound(f.date_from), _bound(f.date_to, end=True)  # days the bounds touch
        if lo is not None:
            q = q.where(day >= lo.date())
        if hi is not None:
            q = q.where(day < (hi - timedelta(microseconds=1)).date() + timedelta(days=1))
        rows = [(r.criterion_id, str(r.period), int(r.p or 0), int(r.f or 0)) for r in s.execute(q)]
    return [{"criterion_id": c, "period": per, "passed": p, "failed": fl, "pass_rate": _rate(p, fl)}
            for c, per, p, fl in rows if p + fl]


def _window_start(latest: date, period: str, n: int) -> date:
    """First day of the period ``n - 1`` periods before the one holding ``latest``."""
    if period == "day":
        return latest - timedelta(days=n - 1)
    if period == "week":
        return latest - timedelta(days=latest.weekday() + 7 * (n - 1))
    months = latest.year * 12 + latest.month - 1 - (n - 1)
    return date(months // 12, months % 12 + 1, 1)


def compliance_queue(source, filters: CallFilters | None = None, page: int = 1, page_size: int = 50
                     ) -> tuple[list[dict[str, Any]], int]:
    """Calls that need a human: a compliance issue (critical criterion failed) or an open
    dispute, newest first, with the failed critical criteria listed."""
    conds = call_conditions(filters)
    need = or_(Call.compliance_flag.is_(True), Call.open_disputes > 0)
    page, page_size = max(1, int(page)), max(1, min(int(page_size), 1000))
    with session_of(source) as s:
        total = _count(s, [need, *conds])
        q = (select(*LIST_COLUMNS).where(need, *conds).order_by(Call.started_at.desc().nulls_last(), Call.id.desc())
             .limit(page_size).offset((page - 1) * page_size))
        rows = [dict(r._mapping) for r in s.execute(q)]
        ids = [r["id"] for r in rows]
        crit: dict[int, list[str]] = {}
        if ids:
            for pk, cid in s.execute(select(CriterionResultRow.call_pk, CriterionResultRow.criterion_id).where(
                    CriterionResultRow.call_pk.in_(ids), CriterionResultRow.is_current,
                    CriterionResultRow.critical, CriterionResultRow.result == "fail")):
                crit.setdefault(pk, []).append(cid)
        for r in rows:
            r["critical_failed"] = sorted(crit.get(r["id"], []))
    return rows, total


def _cols(obj, names: Sequence[str] | None = None) -> dict[str, Any]:
    names = names or [c.key for c in obj.__table__.columns]
    return {n: getattr(obj, n) for n in names}


def call_detail(source, call_id: str) -> dict[str, Any] | None:
    """Everything the call page shows: call row, transcript document, current evaluation with
    criterion results (effective and automatic), metrics, reviews, disputes, evaluation history,
    audit trail. None when there is no such call."""
    with session_of(source) as s:
        call = s.scalar(select(Call).where(Call.call_id == call_id))
        if call is None:
            return None
        tr = s.scalar(select(TranscriptRow).where(TranscriptRow.call_pk == call.id))
        evs = list(s.scalars(select(EvaluationRow).options(selectinload(EvaluationRow.criteria))
                             .where(EvaluationRow.call_pk == call.id).order_by(EvaluationRow.id)))
        current = next((e for e in evs if e.is_current), None)
        metrics = s.get(CallMetrics, call.id)
        return {
            "call": _cols(call),
            "transcript": None if tr is None else {"document": tr.document, "redacted": tr.redacted,
                                                   "engine": tr.engine, "model": tr.model},
            "evaluation": None if current is None else {
                **_cols(current), "criteria": [_cols(c) for c in current.criteria]},
            "history": [{k: getattr(e, k) for k in ("id", "rubric", "rubric_version", "score", "auto_score",
                                                    "created_at", "is_current")} for e in evs],
            "metrics": None if metrics is None else dict(metrics.data),
            "reviews": [_cols(r) for r in s.scalars(select(Review).where(Review.call_pk == call.id)
                                                    .order_by(Review.id))],
            "disputes": [_cols(d) for d in s.scalars(select(Dispute).where(Dispute.call_pk == call.id)
                                                     .order_by(Dispute.id))],
            "audit": [_cols(a) for a in s.scalars(select(AuditEntry).where(AuditEntry.call_id == call_id)
                                                  .order_by(AuditEntry.id))],
        }


def distinct_values(source, column: str) -> list[str]:
    """Values for the filter drop-downs: team, agent_id, call_type, language."""
    col = {"team": Call.team, "agent_id": Call.agent_id, "call_type": Call.call_type,
           "language": Call.language, "agent_name": Call.agent_name}[column]
    with session_of(source) as s:
        return [v for v in s.scalars(select(col).where(col.is_not(None)).distinct().order_by(col))]


def agents(source, filters: CallFilters | None = None) -> list[dict[str, Any]]:
    """Agents with team, calls and mean score (for pickers and rankings)."""
    q = (select(Call.agent_id, func.max(Call.agent_name).label("agent_name"), func.max(Call.team).label("team"),
                func.count().label("calls"), func.avg(Call.score).label("avg_score"))
         .where(Call.agent_id.is_not(None), *call_conditions(filters)).group_by(Call.agent_id)
         .order_by(Call.agent_id))
    with session_of(source) as s:
        return [{"agent_id": r.agent_id, "agent_name": r.agent_name, "team": r.team, "calls": r.calls,
                 "avg_score": None if r.avg_score is None else round(float(r.avg_score), 1)} for r in s.execute(q)]


def criterion_competences(source) -> dict[str, str]:
    """Criterion id -> its competence code(s) as stored (``"2.1"``, or ``"2.1,3.2"`` for a criterion
    with several), over every stored result (the largest text where rubric versions differ)."""
    with session_of(source) as s:
        return {cid: comp for cid, comp in s.execute(
            select(CriterionResultRow.criterion_id, func.max(CriterionResultRow.competence))
            .group_by(CriterionResultRow.criterion_id))}


def review_sample(source, week_start: date, per_agent: int) -> list[dict[str, Any]]:
    """N calls per agent in the 7 days from ``week_start`` (call_id, agent_id, agent_name, team,
    started_at, score), chosen by a stable hash of week and call id: random, but the same sample
    for every supervisor who opens it. Agents in order, each agent's calls in hash order."""
    lo = datetime(week_start.year, week_start.month, week_start.day)
    hi = lo + timedelta(days=7)
    with session_of(source) as s:
        rows = s.execute(select(Call.call_id, Call.agent_id, Call.agent_name, Call.team, Call.started_at, Call.score)
                         .where(Call.started_at >= lo, Call.started_at < hi, Call.agent_id.is_not(None))).all()
    by_agent: dict[str, list] = {}
    for r in rows:
        by_agent.setdefault(r.agent_id, []).append(r)
    out = []
    for _agent, calls in sorted(by_agent.items()):
        calls.sort(key=lambda r: hashlib.sha1(f"{week_start}:{r.call_id}".encode()).hexdigest())
        out += [dict(r._mapping) for r in calls[:per_agent]]
    return out


def dispute_queue(source, status: str = "open") -> list[dict[str, Any]]:
    """Disputes with ``status`` (default open), oldest first: every ``disputes`` column plus the
    ``call_id`` of the disputed call."""
    with session_of(source) as s:
        q = (select(Dispute, Call.call_id).outerjoin(Call, Call.id == Dispute.call_pk)
             .where(Dispute.status == status).order_by(Dispute.created_at, Dispute.id))
        return [{**_cols(d), "call_id": call_id} for d, call_id in s.execute(q)]


__all__ = ["CallFilters", "call_list", "agent_trend", "team_trend", "pass_rate_by_criterion_team",
           "heatmap_agents_criteria", "pass_rate_by_criterion", "compliance_queue", "call_detail", "distinct_values",
           "agents", "call_conditions", "criterion_competences", "review_sample", "dispute_queue"]
