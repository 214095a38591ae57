"""The sign-in tables (migration 0005): server-side sessions, login throttling, and the demo
mark of accounts. Beside ``schema.py`` (which would pass the store's 400-line limit), on the same
``Base``; ``qa.store`` imports it with ``sessions.py``, so ``Base.metadata`` always has them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from .schema import Base, User, now

# Accounts made by `qa demo` (public password): `qa serve` warns and admins see a banner while any
# is active. A column of ``users``, declared here so that schema.py stays as it is.
User.is_demo = mapped_column(Boolean, default=False, nullable=False, server_default=false())


class AuthSession(Base):
    """A signed-in browser: the SHA-256 of the random session id its cookie carries (the id itself
    is never stored), its user, absolute expiry, last activity, and why/when it ended."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)  # absolute lifetime, whatever the activity
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))  # logout, password_change, deactivated, ...
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_sessions_user", "user_id"),)


class LoginThrottle(Base):
    """Failed sign-ins per username (``kind`` 'user', known or not) and per client address
    ('client'): consecutive failures in the current window, the lock they caused, and how many
    locks in a row (each doubles the next one)."""

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("kind", "key", name="uq_login_throttle_kind_key"),)
