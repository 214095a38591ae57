"""Pass-rate rollups: counts of current criterion results per day / month and per team,
agent, call type, language and criterion (tables ``criterion_daily`` and
``criterion_monthly``). The repository keeps them in step on every write with +/- deltas
(atomic upserts, safe with several writers on PostgreSQL); ``rebuild_rollups`` recomputes
them from ``criterion_results`` (after bulk loads, or to repair).

``rollup_counts`` answers "passed/failed per <group columns> under these filters" from the
rollups: whole months from the monthly table, remaining whole days from the daily one, and
(only when a bound is not at midnight) the partial days from ``criterion_results`` itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .schema import CriterionDaily, CriterionMonthly, CriterionResultRow

NO_DATE = date(1900, 1, 1)  # rollup period of calls without started_at
DIMS = ("team", "agent_id", "call_type", "language", "criterion_id")
KEY_DAILY = ("day",) + DIMS
KEY_MONTHLY = ("month",) + DIMS


def _month(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def deltas_for(rows: Iterable[Any], sign: int) -> dict[tuple, list[int]]:
    """(day, team, agent, type, language, criterion) -> [passed, failed, na] deltas."""
    out: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        day = r.started_at.date() if r.started_at is not None else NO_DATE
        key = (day, r.team or "", r.agent_id or "", r.call_type or "", r.language or "", r.criterion_id)
        out[key][("pass", "fail", "na").index(r.result)] += sign
    return out


def _insert_fn(session: Session):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"rollups on {name}")
    return insert


def apply_deltas(session: Session, deltas: dict[tuple, list[int]]) -> None:
    """Add ``deltas`` (as ``deltas_for`` makes them) to the daily and monthly rollups: atomic
    upserts in a fixed key order (no deadlock between concurrent writers), inside the caller's
    transaction."""
    if not deltas:
        return
    insert = _insert_fn(session)
    monthly: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    daily_rows = []
    for key, (p, f, n) in deltas.items():
        daily_rows.append(dict(zip(KEY_DAILY, key), passed=p, failed=f, na=n))
        m = monthly[(_month(key[0]),) + key[1:]]
        m[0] += p
        m[1] += f
        m[2] += n
    monthly_rows = [dict(zip(KEY_MONTHLY, k), passed=p, failed=f, na=n) for k, (p, f, n) in monthly.items()]
    for model, rows, key in ((CriterionDaily, daily_rows, KEY_DAILY), (CriterionMonthly, monthly_rows, KEY_MONTHLY)):
        table = model.__table__
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key),
            set_={c: table.c[c] + stmt.excluded[c] for c in ("passed", "failed", "na")})
        session.execute(stmt, sorted(rows, key=lambda r: tuple(str(r[k]) for k in key)))  # fixed lock order


def rebuild_rollups(session: Session) -> None:
    """Recompute both rollups and ``calls.failed_criteria`` from the current criterion results."""
    pg = session.get_bind().dialect.name == "postgresql"
    true = "true" if pg else "1"
    if pg:
        day = "COALESCE(CAST(started_at AS DATE), DATE '1900-01-01')"
        month = "COALESCE(CAST(date_trunc('month', started_at) AS DATE), DATE '1900-01-01')"
        agg = "string_agg(criterion_id, ',' ORDER BY position)"
    else:
        day = "COALESCE(date(started_at), '1900-01-01')"
        month = "COALESCE(strftime('%Y-%m-01', started_at), '1900-01-01')"
        agg = "group_concat(criterion_id, ',')"
    dims = ", ".join(DIMS)
    counts = ("SUM(CASE WHEN result = 'pass' THEN 1 ELSE 0 END), SUM(CASE WHEN result = 'fail' THEN 1 ELSE 0 END), "
              "SUM(CASE WHEN result = 'na' THEN 1 ELSE 0 END)")
    source = ("(SELECT {period} AS period, COALESCE(team, '') AS team, COALESCE(agent_id, '') AS agent_id, "
              "COALESCE(call_type, '') AS call_type, COALESCE(language, '') AS language, criterion_id, result "
              "FROM criterion_results WHERE is_current = {true}) AS cr")
    for table, col, period in (("criterion_daily", "day", day), ("criterion_monthly", "month", month)):
        session.execute(text(f"DELETE FROM {table}"))
        session.execute(text(f"INSERT INTO {table} ({col}, {dims}, passed, failed, na) "
                             f"SELECT period, {dims}, {counts} FROM {source.format(period=period, true=true)} "
                             f"GROUP BY period, {dims}"))
    session.execute(text(
        f"UPDATE calls SET failed_criteria = (SELECT ',' || {agg} || ',' FROM criterion_results cr "
        f"WHERE cr.call_pk = calls.id AND cr.is_current = {true} AND cr.result = 'fail')"))


def _dim_conditions(cols, filters) -> list:
    conds = []
    for name in ("team", "agent_id", "call_type", "language"):
        value = getattr(filters, name, None)
        if value is None:
            continue
        col = getattr(cols, name)
        if isinstance(value, str):
            conds.append(col == value)
        else:
            conds.append(col.in_(list(value)))
    return conds


def _day_ceil(t: datetime) -> date:
    d = t.date()
    return d if t == datetime(d.year, d.month, d.day) else d + timedelta(days=1)


def rollup_counts(session: Session, group: Sequence[str], filters, lo: datetime | None,
                  hi: datetime | None) -> dict[tuple, list[int]]:
    """group values -> [passed, failed] for current results with lo <= started_at < hi."""
    out: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def run(model, period_col: str | None, start: date | None, end: date | None, exclude_no_date: bool) -> None:
        t = model
        cols = [getattr(t, g) for g in group]
        q = select(*cols, func.sum(t.passed), func.sum(t.failed)).where(*_dim_conditions(t, filters))
        if period_col is not None:
            pc = getattr(t, period_col)
            if start is not None:
                q = q.where(pc >= start)
            if end is not None:
                q = q.where(pc < end)
            if exclude_no_date:
                q = q.where(pc > NO_DATE)
        q = q.group_by(*cols)
        for *key, p, f in session.execute(q):
            acc = out[tuple(v if v != "" else None for v in key)]
            acc[0] += int(p or 0)
            acc[1] += int(f or 0)

    def raw(start: datetime, end: datetime) -> None:
        t = CriterionResultRow
        cols = [getattr(t, g) for g in group]
        q = (select(*cols, t.result, func.count()).where(t.is_current, t.started_at >= start, t.started_at < end,
                                                          t.result != "na", *_dim_conditions(t, filters))
             .group_by(*cols, t.result))
        for *key, result, n in session.execute(q):
            out[tuple(key)][0 if result == "pass" else 1] += int(n)

    if lo is None and hi is None:
        run(CriterionMonthly, None, None, None, False)
        return out
    d_lo = _day_ceil(lo) if lo is not None else None
    d_hi = hi.date() if hi is not None else None
    if d_lo is not None and d_hi is not None and d_lo >= d_hi:  # within one day
        raw(lo, hi)
        return out
    if lo is not None and datetime(d_lo.year, d_lo.month, d_lo.day) != lo:
        raw(lo, datetime(d_lo.year, d_lo.month, d_lo.day))
    if hi is not None and datetime(d_hi.year, d_hi.month, d_hi.day) != hi:
        raw(datetime(d_hi.year, d_hi.month, d_hi.day), hi)
    # whole days [d_lo, d_hi): whole months from the monthly rollup, the rest from the daily one
    m_lo = None if d_lo is None else (d_lo if d_lo.day == 1 else _next_month(d_lo))
    m_hi = None if d_hi is None else _month(d_hi)
    if m_lo is None or m_hi is None or m_lo < m_hi:
        run(CriterionMonthly, "month", m_lo, m_hi, True)
        if d_lo is not None and d_lo < m_lo:
            run(CriterionDaily, "day", d_lo, m_lo, True)
        if d_hi is not None and m_hi < d_hi:
            run(CriterionDaily, "day", m_hi, d_hi, True)
    else:
        run(CriterionDaily, "day", d_lo, d_hi, True)
    return out
