"""Who may see and do what — enforced on the server for every page and every query.

Pages get a ``Principal`` re-read from the store on every run (never trusted from the browser
or from session state), ask ``require(principal, action)`` before acting, scope list queries
with ``scope_filters`` and open calls only through ``open_call``, which writes the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import QAError

PERMISSIONS: dict[str, set[str]] = {
    "view_all_calls": {"supervisor", "qa_lead", "admin"},
    "view_own_calls": {"operator"},
    "override": {"supervisor", "qa_lead", "admin"},
    "dispute": {"operator"},
    "decide_dispute": {"supervisor", "admin"},
    "trends": {"supervisor", "qa_lead", "admin"},
    "queues": {"supervisor", "admin"},
    "edit_rubric": {"qa_lead", "admin"},
    "calibration": {"qa_lead", "supervisor", "admin"},
    "upload": {"supervisor", "qa_lead", "admin"},
    "manage_users": {"admin"},
    "original_audio": {"admin"},  # play/download the unredacted recording (audited)
}


class AccessDenied(QAError):
    """The signed-in user may not do this."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user as pages see it (re-read from the store on every run)."""

    username: str
    role: str
    agent_id: str | None = None
    display_name: str | None = None
    language: str = "it"

    @classmethod
    def from_user(cls, user) -> "Principal":
        """The principal of a ``users`` row."""
        return cls(user.username, user.role, user.agent_id, user.display_name or user.username, user.language or "it")


def can(principal: Principal | None, action: str) -> bool:
    """Whether ``principal`` may do ``action`` (see ``PERMISSIONS``); False for nobody signed in."""
    return principal is not None and principal.role in PERMISSIONS.get(action, set())


def require(principal: Principal | None, action: str) -> None:
    """Raise AccessDenied unless ``principal`` may do ``action``."""
    if not can(principal, action):
        raise AccessDenied(f"{principal.username if principal else 'anonymous'} may not {action.replace('_', ' ')}")


def scope_filters(principal: Principal, filters: dict) -> dict:
    """Operators only ever query their own calls, whatever the filters say."""
    filters = dict(filters)
    if can(principal, "view_all_calls"):
        return filters
    if principal.role == "operator" and principal.agent_id:
        filters["agent_id"] = principal.agent_id
        return filters
    raise AccessDenied(f"{principal.username} may not list calls")


def open_call(store, principal: Principal, call_id: str, audit: bool = True):
    """The call if ``principal`` may see it (audited either way unless ``audit`` is False: the
    call page audits once per session itself); AccessDenied / QAError otherwise."""
    from ..errors import StoreError

    try:
        call = store.get_call(call_id)
    except StoreError:
        call = None
    if call is None:
        if audit:
            store.audit("call_open_missing", principal.username, call_id)
        raise QAError(f"call {call_id!r} not found")
    if not can(principal, "view_all_calls"):
        if principal.role != "operator" or not principal.agent_id or call.agent_id != principal.agent_id:
            if audit:
                store.audit("call_open_denied", principal.username, call_id, {"role": principal.role})
            raise AccessDenied(f"{principal.username} may not open call {call_id}")
    if audit:
        store.audit("call_open", principal.username, call_id, {"role": principal.role})
    return call
