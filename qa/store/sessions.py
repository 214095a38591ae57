"""Sign-in sessions and login throttling: ``SessionsMixin``, the part of ``Store`` behind the
dashboard's cookie sessions (``qa.dashboard.session``).

A session is a random id that only the browser's cookie holds; the store keeps its SHA-256, so a
copy of the database signs nobody in. Each session has an absolute expiry (set when it is made)
and an idle time-out (checked against ``last_seen_at`` on every use); it ends on logout, on a
password change or deactivation of its user (``UsersMixin.update_user``), or when either limit
passes; ended sessions stay in the table with the time and reason.

``login_throttle`` counts consecutive failed sign-ins per key (``('user', name)`` for any name
tried, known or not, and ``('client', address)``); reaching the key's limit locks it for a while,
each further lock of the same key twice as long as the one before.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .base import StoreBase
from .schema import AuditEntry, User, now as utcnow
from .schema_auth import AuthSession, LoginThrottle

TOUCH_SECONDS = 5.0  # last_seen_at is written at most this often per session
QUIET_RESET = timedelta(hours=24)  # a key without failures this long starts its back-off afresh


def token_hash(session_id: str) -> str:
    """What the store keeps of a session id: its SHA-256, hex."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class SessionsMixin(StoreBase):
    """Sessions and login throttling (mixed into ``Store`` through ``UsersMixin``)."""

    # ------------------------------------------------------------------------------ sessions
    def create_session(self, username: str, session_id: str, *, lifetime_s: float, client_ip: str | None = None,
                       user_agent: str | None = None, now: datetime | None = None) -> AuthSession:
        """Record a new session of ``username`` for ``session_id`` (kept as its hash), ending at the
        latest ``lifetime_s`` seconds from now; audited as ``login``."""
        now = now or utcnow()
        with self.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None or not user.active:
                from ..errors import StoreError

                raise StoreError(f"no active user {username!r}")
            row = AuthSession(token_hash=token_hash(session_id), user_id=user.id, created_at=now, last_seen_at=now,
                              expires_at=now + timedelta(seconds=lifetime_s), client_ip=(client_ip or None),
                              user_agent=(user_agent or "")[:300] or None)
            s.add(row)
            s.add(AuditEntry(action="login", username=username, details={"client": client_ip}))
            return row

    def resolve_session(self, session_id: str, *, idle_s: float, now: datetime | None = None
                        ) -> tuple[User | None, str | None]:
        """``(user, None)`` for a live session (its ``last_seen_at`` moves to now), else
        ``(None, reason)``: ``invalid`` (unknown id, or its user is gone or inactive), ``revoked``,
        ``expired`` (absolute lifetime or idle time-out passed; the session is ended and audited)."""
        now = now or utcnow()
        with self.session() as s:
            row = s.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(session_id)))
            if row is None:
                return None, "invalid"
            if row.revoked_at is not None:
                return None, "revoked"
            user = s.get(User, row.user_id)
            ended = None
            if user is None or not user.active:
                ended, action = "deactivated", "session_revoked"
            elif now >= row.expires_at:
                ended, action = "expired", "session_expired"
            elif (now - row.last_seen_at).total_seconds() > idle_s:
                ended, action = "idle_timeout", "session_timeout"
            if ended:
                row.revoked_at, row.revoked_reason = now, ended
                s.add(AuditEntry(action=action, username=user.username if user else None,
                                 details={"session": row.id, "reason": ended}))
                return None, "invalid" if ended == "deactivated" else "expired"
            if (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
                row.last_seen_at = now
            return user, None

    def revoke_session(self, session_id: str, reason: str, now: datetime | None = None) -> str | None:
        """End the session of ``session_id`` (audited as ``reason``); the username, or None when
        there was no live session of that id."""
        now = now or utcnow()
        with self.session() as s:
            row = s.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(session_id)))
            if row is None or row.revoked_at is not None:
                return None
            row.revoked_at, row.revoked_reason = now, reason
            user = s.get(User, row.user_id)
            username = user.username if user else None
            s.add(AuditEntry(action=reason, username=username, details={"session": row.id}))
            return username

    @staticmethod
    def _revoke_user_sessions(s: Session, user_id: int, reason: str, now: datetime | None = None) -> int:
        """End every live session of ``user_id`` in the open session ``s``; how many."""
        result = s.execute(update(AuthSession)
                           .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
                           .values(revoked_at=now or utcnow(), revoked_reason=reason))
        return result.rowcount or 0

    def revoke_user_sessions(self, username: str, reason: str, by: str | None = None) -> int:
        """End every live session of ``username`` (audited); how many."""
        with self.session() as s:
            uid = self._user_id(s, username)
            if uid is None:
                return 0
            n = self._revoke_user_sessions(s, uid, reason)
            s.add(AuditEntry(action="sessions_revoked", username=by,
                             details={"user": username, "reason": reason, "sessions": n}))
            return n

    def live_sessions(self, username: str | None = None, now: datetime | None = None) -> list[AuthSession]:
        """Sessions not revoked and not past their absolute expiry, newest first (idle ones
        included until their next use ends them)."""
        now = now or utcnow()
        with self.session() as s:
            q = (select(AuthSession).where(AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
                 .order_by(AuthSession.id.desc()))
            if username is not None:
                q = q.join(User, User.id == AuthSession.user_id).where(User.username == username)
            return list(s.scalars(q))

    # ------------------------------------------------------------------------ login throttle
    def login_locked_until(self, keys: list[tuple[str, str]], now: datetime | None = None) -> datetime | None:
        """The end of the longest current lock among ``keys`` ((kind, key) pairs), or None."""
        now = now or utcnow()
        with self.session() as s:
            until = [r.locked_until for r in s.scalars(select(LoginThrottle).where(
                LoginThrottle.kind.in_({k for k, _ in keys}), LoginThrottle.key.in_({v for _, v in keys})))
                if (r.kind, r.key) in keys and r.locked_until is not None and r.locked_until > now]
            return max(until) if until else None

    def record_login_failure(self, keys: list[tuple[str, str]], *, limits: dict[str, int], lock_s: float,
                             max_lock_s: float, window_s: float, now: datetime | None = None
                             ) -> list[tuple[str, str, datetime, int]]:
        """Count one failed sign-in against each of ``keys``. A key reaching ``limits[kind]``
        failures, each within ``window_s`` of the previous one, is locked for
        ``lock_s * 2**(locks in a row - 1)`` seconds (at most ``max_lock_s``) and its count starts
        again. Returns the locks this failure caused: (kind, key, locked_until, failures)."""
        now = now or utcnow()
        for attempt in range(3):  # two first failures of a new key at once: one insert wins, retry the other
            try:
                with self.session() as s:
                    return [lock for kind, key in keys
                            if (lock := self._count_failure(s, kind, key[:200], limits[kind], lock_s, max_lock_s,
                                                            window_s, now))]
            except IntegrityError:
                if attempt == 2:
                    raise
        return []

    @staticmethod
    def _count_failure(s: Session, kind: str, key: str, limit: int, lock_s: float, max_lock_s: float,
                       window_s: float, now: datetime) -> tuple[str, str, datetime, int] | None:
        row = s.scalar(select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key)
                       .with_for_update())
        if row is None:
            row = LoginThrottle(kind=kind, key=key, failures=0, lockouts=0)
            s.add(row)
            s.flush()
        last = row.last_failure_at
        if last is None or (now - last).total_seconds() > window_s:
            row.failures = 0
        if last is not None and now - last > QUIET_RESET and (row.locked_until is None or row.locked_until < now):
            row.lockouts = 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures < limit:
            return None
        count = row.failures
        row.lockouts += 1
        row.locked_until = now + timedelta(seconds=min(lock_s * 2 ** (row.lockouts - 1), max_lock_s))
        row.failures = 0
        return kind, key, row.locked_until, count

    def clear_login_failures(self, kind: str, key: str) -> bool:
        """Forget the failures and locks of one key (a successful sign-in of that user, or
        ``qa users unlock``); whether there was anything to forget."""
        with self.session() as s:
            return (s.execute(delete(LoginThrottle).where(LoginThrottle.kind == kind,
                                                          LoginThrottle.key == key[:200])).rowcount or 0) > 0

    def login_throttle(self, kind: str, key: str) -> LoginThrottle | None:
        """The throttle row of one key (failures, locks, locked_until), or None."""
        with self.session() as s:
            return s.scalar(select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key[:200]))
