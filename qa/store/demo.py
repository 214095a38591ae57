"""What `qa demo` needs to know before it writes: whether a store holds anything that is not
demo data (the bundled sample calls, ``SYN-`` synthetic history, accounts made by ``qa demo``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .base import session_of
from .schema import AuditEntry, Call
from .schema_auth import User  # with its is_demo column


def non_demo_data(source, demo_call_ids: set[str]) -> dict[str, int]:
    """How many calls and accounts of a store at the newest schema (or an open session) are not
    demo data: calls other than ``demo_call_ids`` and the ``SYN-`` synthetic ones, accounts not
    marked ``is_demo``. Only the non-zero counts."""
    with session_of(source) as s:
        return _counts(s, demo_call_ids, marked=True)


def non_demo_data_at(url: str, demo_call_ids: set[str]) -> dict[str, int]:
    """``non_demo_data`` of the store at ``url`` without upgrading (or creating) it: a missing or
    empty store has none; a store older than the demo mark (migration 0005) knows its demo
    accounts from the audit log (``user_create`` by ``demo``)."""
    from .db import make_engine

    u = make_url(url)
    if u.get_backend_name() == "sqlite" and (not u.database or u.database == ":memory:"
                                             or not Path(u.database).expanduser().is_file()):
        return {}
    engine = make_engine(url)
    try:
        insp = inspect(engine)
        if not (insp.has_table("calls") and insp.has_table("users")):
            return {}
        marked = "is_demo" in {c["name"] for c in insp.get_columns("users")}
        with Session(engine) as s:
            return _counts(s, demo_call_ids, marked)
    finally:
        engine.dispose()


def _counts(s: Session, demo_call_ids: set[str], marked: bool) -> dict[str, int]:
    calls = s.scalar(select(func.count()).select_from(Call).where(
        Call.call_id.not_like("SYN-%"), Call.call_id.not_in(sorted(demo_call_ids)))) or 0
    if marked:
        users = s.scalar(select(func.count()).select_from(User).where(User.is_demo.is_(False))) or 0
    else:
        demo = {(d or {}).get("user") for d in s.scalars(select(AuditEntry.details).where(
            AuditEntry.action == "user_create", AuditEntry.username == "demo")) if isinstance(d, dict)}
        users = s.scalar(select(func.count()).select_from(User).where(User.username.not_in(sorted(demo - {None}))))
    return {k: v for k, v in (("calls", calls), ("accounts", users or 0)) if v}
