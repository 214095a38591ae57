"""Users, sign-in and the audit log: ``UsersMixin``, the part of ``Store`` for accounts
(argon2 password hashes, roles, the operator's ``agent_id``, the demo mark) and for who did what
when. Sessions and login throttling come from ``SessionsMixin`` (``qa/store/sessions.py``).

``authenticate`` takes the same time whether the username exists or not: an unknown or inactive
user's password is verified against a dummy argon2 hash made with the same parameters."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import StoreError
from .schema import ROLES, AuditEntry, User
from .sessions import SessionsMixin


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """An argon2 hash of a random password, made once with the parameters of real accounts: what
    ``authenticate`` verifies when there is no such (active) user."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(secrets.token_urlsafe(24))


class UsersMixin(SessionsMixin):
    """Accounts, authentication and the audit log (mixed into ``Store``)."""

    def create_user(self, username: str, password: str, role: str, agent_id: str | None = None,
                    display_name: str | None = None, language: str = "it", created_by: str | None = None,
                    demo: bool = False) -> User:
        """A new active account (argon2 hash of ``password``; ``demo``: made by ``qa demo``);
        StoreError for a bad role, an operator without ``agent_id``, or a name already taken."""
        from argon2 import PasswordHasher

        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if role == "operator" and not agent_id:
            raise StoreError("an operator needs the agent_id of their calls")
        if not username or not password:
            raise StoreError("username and password are required")
        user = User(username=username, password_hash=PasswordHasher().hash(password), role=role,
                    agent_id=agent_id, display_name=display_name, language=language, active=True,
                    is_demo=demo)
        try:
            with self.session() as s:
                s.add(user)
                s.add(AuditEntry(action="user_create", username=created_by, details={"user": username, "role": role}))
        except IntegrityError:
            raise StoreError(f"user {username!r} already exists") from None
        return user

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user when the password matches, else None (argon2 verification). Unknown
        and inactive users cost one argon2 verification too (against ``dummy_hash()``), so the
        time taken does not tell whether a username exists."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        with self.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            known = user is not None and user.active
            ph = PasswordHasher()
            try:
                ph.verify(user.password_hash if known else dummy_hash(), password)
            except (VerificationError, InvalidHashError):
                return None
            if not known:  # the dummy's password is random and thrown away: never reached in practice
                return None
            if ph.check_needs_rehash(user.password_hash):
                user.password_hash = ph.hash(password)
            return user

    def update_user(self, username: str, *, password: str | None = None, updated_by: str | None = None,
                    **fields: Any) -> User:
        """Change a user's role, agent_id, display_name, language, active and/or password. A new
        password or a deactivation ends every open session of the user (same transaction)."""
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
            revoke = "password_change" if password else "deactivated" if fields.get("active") is False else None
            ended = self._revoke_user_sessions(s, user.id, revoke) if revoke else 0
            s.add(AuditEntry(action="user_update", username=updated_by,
                             details={"user": username, "fields": sorted(fields) + (["password"] if password else []),
                                      **({"sessions_revoked": ended} if revoke else {})}))
            return user

    def get_user(self, username: str) -> User | None:
        """The account of ``username`` (active or not), or None."""
        with self.session() as s:
            return s.scalar(select(User).where(User.username == username))

    def users(self) -> list[User]:
        """Every account, by username."""
        with self.session() as s:
            return list(s.scalars(select(User).order_by(User.username)))

    def demo_accounts(self) -> list[str]:
        """The active accounts made by ``qa demo`` (their password is public), by username."""
        with self.session() as s:
            return list(s.scalars(select(User.username).where(User.is_demo.is_(True), User.active.is_(True))
                                  .order_by(User.username)))

    def audit(self, action: str, username: str | None = None, call_id: str | None = None,
              details: dict[str, Any] | None = None) -> None:
        """Append one entry to the audit log (its own transaction)."""
        with self.session() as s:
            s.add(AuditEntry(action=action, username=username, call_id=call_id, details=details))

    def audit_log(self, call_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """The newest ``limit`` audit entries, newest first, optionally of one call."""
        with self.session() as s:
            q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if call_id:
                q = q.where(AuditEntry.call_id == call_id)
            return list(s.scalars(q))
