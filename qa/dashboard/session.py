"""Sign-in, cookie sessions and login throttling: the part shared by the HTTP login routes
(``qa.dashboard.web``) and the Streamlit script (``qa.dashboard.app``). No Streamlit here.

Flow: ``login`` checks the password (constant time for unknown users, ``Store.authenticate``)
under the lockout rules, then records a session in the store and returns the cookie value:
a random session id signed with the server secret (itsdangerous, HMAC-SHA256). The store keeps
only the id's SHA-256. ``resolve`` turns a cookie value back into the user, or a reason why not
(bad signature, unknown, revoked, expired, idle, user deactivated), on every HTTP request and
every script run. ``logout`` revokes it.

Settings (environment):
- ``QA_SESSION_TIMEOUT_MIN`` idle time-out, minutes (default 30);
- ``QA_SESSION_MAX_HOURS`` absolute lifetime of a session, hours (default 12);
- ``QA_SESSION_SECRET`` the signing secret (default: ``$QA_DATA_DIR/session.key``, 32 random
  bytes made on first use with mode 0600; every server of one store needs the same secret);
- ``QA_LOGIN_MAX_FAILURES`` consecutive failures that lock a username (default 10);
- ``QA_LOGIN_MAX_FAILURES_CLIENT`` consecutive failures that lock a client address (default 30);
- ``QA_LOGIN_LOCK_MIN`` the first lock, minutes (default 5); each further lock of the same key
  doubles, up to 24 hours; a failure more than an hour after the previous one starts the count
  again, 24 quiet hours start the back-off again.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import QAError

COOKIE_NAME = "ascolto_session"
CSRF_COOKIE_NAME = "ascolto_csrf"
# AppTest cannot send cookies: under AppTest only (``global.appTest``), the script reads the
# cookie value from this session-state key instead. It is resolved like a cookie (signature,
# sessions table); a production server never reads it.
TEST_COOKIE_KEY = "_qa_test_cookie"
MAX_USERNAME = 100
MAX_PASSWORD = 1024
SECRET_FILE = "session.key"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise QAError(f"{name} must be a number, got {raw!r}") from None


def timeout_seconds() -> float:
    """Idle time after which a session ends (``QA_SESSION_TIMEOUT_MIN``, default 30 minutes)."""
    return _env_float("QA_SESSION_TIMEOUT_MIN", 30) * 60


def lifetime_seconds() -> float:
    """Absolute lifetime of a session (``QA_SESSION_MAX_HOURS``, default 12 hours)."""
    return _env_float("QA_SESSION_MAX_HOURS", 12) * 3600


@dataclass(frozen=True)
class LoginPolicy:
    """Lockout rules (see the module docstring)."""

    user_limit: int = 10
    client_limit: int = 30
    lock_s: float = 300.0
    max_lock_s: float = 86400.0
    window_s: float = 3600.0


def login_policy() -> LoginPolicy:
    """The lockout rules from the environment."""
    return LoginPolicy(user_limit=max(1, int(_env_float("QA_LOGIN_MAX_FAILURES", 10))),
                       client_limit=max(1, int(_env_float("QA_LOGIN_MAX_FAILURES_CLIENT", 30))),
                       lock_s=_env_float("QA_LOGIN_LOCK_MIN", 5) * 60)


# ------------------------------------------------------------------------------- the secret
def secret() -> bytes:
    """The key that signs cookies and CSRF/logout tokens: ``QA_SESSION_SECRET``, else the
    contents of ``$QA_DATA_DIR/session.key`` (made on first use, mode 0600)."""
    from ..config import data_dir

    return _secret(os.environ.get("QA_SESSION_SECRET", ""), str(data_dir()))


@lru_cache(maxsize=8)
def _secret(env_value: str, data: str) -> bytes:
    if env_value:
        if len(env_value) < 32:
            raise QAError("QA_SESSION_SECRET is too short: use at least 32 random characters")
        return env_value.encode("utf-8")
    path = Path(data) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, 0o600)  # readable by others: a copied file, a lax umask; tighten it
    value = path.read_text().strip()
    if len(value) < 32:
        raise QAError(f"{path} does not hold a session secret: delete it to make a new one")
    return value.encode("utf-8")


def _signer(purpose: str):
    from itsdangerous import Signer

    return Signer(secret(), salt=f"ascolto.{purpose}", digest_method=hashlib.sha256)


def sign_session(session_id: str) -> str:
    """The cookie value of ``session_id``: the id and its HMAC."""
    return _signer("session").sign(session_id).decode("ascii")


def unsign_session(cookie_value: str | None) -> str | None:
    """The session id in a cookie value, or None when it is missing or not signed by us."""
    from itsdangerous import BadSignature

    if not cookie_value or len(cookie_value) > 200:
        return None
    try:
        return _signer("session").unsign(cookie_value).decode("ascii")
    except (BadSignature, UnicodeError, ValueError):
        return None


def _mac(purpose: str, value: str) -> str:
    return hmac.new(secret(), f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def new_csrf() -> tuple[str, str]:
    """(cookie value, form token) of the login form's double-submit CSRF check."""
    value = secrets.token_urlsafe(32)
    return value, csrf_token(value)


def csrf_token(cookie_value: str) -> str:
    """The login form's token for the CSRF cookie ``cookie_value``."""
    return _mac("csrf", cookie_value)


def csrf_ok(cookie_value: str | None, form_token: str | None) -> bool:
    """Whether the login form's token belongs to the CSRF cookie of the same browser."""
    return bool(cookie_value and form_token) and hmac.compare_digest(_mac("csrf", cookie_value), form_token)


def logout_token(cookie_value: str) -> str:
    """The token the sign-out link carries: bound to the session, so another site cannot sign a
    user out."""
    return _mac("logout", unsign_session(cookie_value) or "")[:32]


def logout_token_ok(cookie_value: str | None, token: str | None) -> bool:
    """Whether ``token`` is the sign-out token of the signed session in ``cookie_value`` (False when either
    is missing or the cookie is not ours; compared in constant time)."""
    return bool(cookie_value and token and unsign_session(cookie_value)) and hmac.compare_digest(
        logout_token(cookie_value), token)


def binding(cookie_value: str | None) -> str | None:
    """A stable id of the session a cookie names (for tying a Streamlit session state to it)."""
    sid = unsign_session(cookie_value)
    return hashlib.sha256(sid.encode()).hexdigest()[:32] if sid else None


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path of this site (not a login route, no scheme or host), else
    ``default``: the login page never redirects elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target) or len(target) > 2000:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("/auth/"):
        return default
    return target


# ---------------------------------------------------------------------------- the store
@lru_cache(maxsize=4)
def _store_for(url: str):
    from ..store import open_store

    return open_store(url)


def app_store():
    """The store of ``QA_DATABASE_URL`` / ``QA_DATA_DIR``, opened once per process (shared by the
    login routes and the Streamlit script)."""
    from ..config import database_url

    return _store_for(database_url())


# ---------------------------------------------------------------------- sign in / out
@dataclass
class LoginResult:
    """What ``login`` did: ``cookie`` and ``user`` on success; on failure only ``locked_until``
    differs (for logs and tests: the page shows one message for every failure)."""

    cookie: str | None = None
    user: object | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        """True when the sign-in succeeded (a session cookie was made)."""
        return self.cookie is not None


def login(store, username: str, password: str, client_ip: str | None = None,
          user_agent: str | None = None) -> LoginResult:
    """Check a sign-in under the lockout rules; on success make a session and return its cookie.

    Every failure is audited (``login_failed``; ``login_lockout`` when it locks a username or a
    client; ``login_refused_locked`` for a try during a lock). A locked key refuses without
    checking the password. Known and unknown usernames go through the same steps: one argon2
    verification, the same throttle and audit writes."""
    name = (username or "").strip()[:MAX_USERNAME]
    password = password or ""
    if len(password) > MAX_PASSWORD:
        password = ""  # still one argon2 verification, which cannot succeed
    keys = [("user", name)] + ([("client", client_ip)] if client_ip else [])
    locked = store.login_locked_until(keys)
    if locked is not None:
        store.audit("login_refused_locked", name or None, details={"client": client_ip,
                                                                   "until": locked.isoformat()})
        return LoginResult(locked_until=locked)
    user = store.authenticate(name, password)
    if user is None:
        policy = login_policy()
        locks = store.record_login_failure(keys, limits={"user": policy.user_limit, "client": policy.client_limit},
                                           lock_s=policy.lock_s, max_lock_s=policy.max_lock_s,
                                           window_s=policy.window_s)
        store.audit("login_failed", name or None, details={"client": client_ip})
        for kind, key, until, failures in locks:
            store.audit("login_lockout", name or None, details={"kind": kind, "key": key, "until": until.isoformat(),
                                                                "failures": failures, "client": client_ip})
        return LoginResult(locked_until=max((u for _, _, u, _ in locks), default=None))
    store.clear_login_failures("user", name)
    session_id = secrets.token_urlsafe(32)
    store.create_session(user.username, session_id, lifetime_s=lifetime_seconds(), client_ip=client_ip,
                         user_agent=user_agent)
    return LoginResult(cookie=sign_session(session_id), user=user)


def resolve(store, cookie_value: str | None):
    """``(user, None)`` when the cookie names a live session, else ``(None, reason)`` with reason
    None (no cookie), ``invalid``, ``revoked`` or ``expired``."""
    if not cookie_value:
        return None, None
    session_id = unsign_session(cookie_value)
    if session_id is None:
        return None, "invalid"
    return store.resolve_session(session_id, idle_s=timeout_seconds())


def logout(store, cookie_value: str | None, reason: str = "logout") -> str | None:
    """Revoke the session a cookie names (audited as ``reason``); its username, or None."""
    session_id = unsign_session(cookie_value)
    return store.revoke_session(session_id, reason) if session_id else None
