"""Login, logout and session time-out for the Streamlit app.

Session state holds only ``{username, issued, last_seen, sig}``; ``sig`` is an HMAC with a
per-server secret, so a session-state entry not made by ``login`` is ignored. The user's role
and agent_id are re-read from the store on every run: changing them (or deactivating the user)
takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time

from .access import Principal

_SECRET = os.environ.get("QA_SESSION_SECRET", "").encode() or secrets.token_bytes(32)
AUTH_KEY = "_qa_auth"


def timeout_seconds() -> float:
    """Idle time after which a session ends (``QA_SESSION_TIMEOUT_MIN``, default 30 minutes)."""
    return float(os.environ.get("QA_SESSION_TIMEOUT_MIN", "30")) * 60


def _sign(username: str, issued: float) -> str:
    return hmac.new(_SECRET, f"{username}|{issued!r}".encode(), hashlib.sha256).hexdigest()


def login(state, store, username: str, password: str) -> Principal | None:
    """Check the password; on success put a signed entry in ``state`` and return the principal.
    Both outcomes are audited."""
    user = store.authenticate(username.strip(), password)
    if user is None:
        store.audit("login_failed", username.strip() or None)
        return None
    issued = time.time()
    state[AUTH_KEY] = {"username": user.username, "issued": issued, "last_seen": issued,
                       "sig": _sign(user.username, issued)}
    store.audit("login", user.username)
    return Principal.from_user(user)


def logout(state, store=None, reason: str = "logout") -> None:
    """End the session in ``state`` (audited as ``reason`` when a store is given)."""
    auth = state.get(AUTH_KEY)
    if auth and store is not None:
        store.audit(reason, auth.get("username"))
    state.pop(AUTH_KEY, None)


def current(state, store, now: float | None = None) -> tuple[Principal | None, str | None]:
    """(principal, None) when signed in; (None, reason) otherwise (reason: None, 'expired', 'invalid')."""
    auth = state.get(AUTH_KEY)
    if not auth:
        return None, None
    now = time.time() if now is None else now
    try:
        valid = hmac.compare_digest(auth["sig"], _sign(auth["username"], auth["issued"]))
    except (KeyError, TypeError):
        valid = False
    if not valid:
        state.pop(AUTH_KEY, None)
        return None, "invalid"
    if now - auth["last_seen"] > timeout_seconds():
        logout(state, store, "session_timeout")
        return None, "expired"
    user = store.get_user(auth["username"])
    if user is None or not user.active:
        state.pop(AUTH_KEY, None)
        return None, "invalid"
    auth["last_seen"] = now
    return Principal.from_user(user), None
