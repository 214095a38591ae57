"""qa users add|remove|passwd|list|unlock|logout"""

from __future__ import annotations

import getpass
import os
import sys

from ..constants import LANGS
from ..errors import EXIT_OK, UsageError


def register(sub):
    """Add ``qa users add|remove|passwd|list|unlock|logout``."""
    p = sub.add_parser("users", help="manage dashboard accounts (local, argon2-hashed passwords)")
    us = p.add_subparsers(dest="users_command", metavar="ACTION")
    a = us.add_parser("add", help="add an account")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=["supervisor", "operator", "qa_lead", "admin"])
    a.add_argument("--agent-id", help="operators: the agent_id of their calls (required for operators)")
    a.add_argument("--name", help="display name")
    a.add_argument("--language", default="it", choices=list(LANGS))
    a.add_argument("--password", help="password (default: $QA_PASSWORD or asked on the terminal)")
    a.set_defaults(func=add)
    r = us.add_parser("remove", help="deactivate an account (kept for the audit log; its sessions end)")
    r.add_argument("username")
    r.set_defaults(func=remove)
    w = us.add_parser("passwd", help="set a new password (the account's open sessions end)")
    w.add_argument("username")
    w.add_argument("--password")
    w.set_defaults(func=passwd)
    ls = us.add_parser("list", help="list accounts (demo accounts marked 'demo')")
    ls.set_defaults(func=list_users)
    u = us.add_parser("unlock", help="lift a sign-in lock (after repeated wrong passwords)")
    u.add_argument("username", nargs="?", help="the username to unlock")
    u.add_argument("--client", help="also/instead unlock this client address")
    u.set_defaults(func=unlock)
    lo = us.add_parser("logout", help="end every open dashboard session of an account")
    lo.add_argument("username")
    lo.set_defaults(func=logout)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _password(args) -> str:
    pw = args.password or os.environ.get("QA_PASSWORD")
    if not pw:
        if not sys.stdin.isatty():
            raise UsageError("no password given: use --password, $QA_PASSWORD or a terminal")
        pw = getpass.getpass("password: ")
        if pw != getpass.getpass("again: "):
            raise UsageError("the two passwords differ")
    if len(pw) < 8:
        raise UsageError("password too short: at least 8 characters")
    return pw


def add(args) -> int:
    """Create an account."""
    from ..store import open_store

    with open_store() as store:
        store.create_user(args.username, _password(args), args.role, agent_id=args.agent_id,
                          display_name=args.name, language=args.language, created_by="cli")
    print(f"user {args.username} added ({args.role})")
    return EXIT_OK


def remove(args) -> int:
    """Deactivate an account (kept for the audit log)."""
    from ..store import open_store

    with open_store() as store:
        store.update_user(args.username, active=False, updated_by="cli")
    print(f"user {args.username} deactivated")
    return EXIT_OK


def passwd(args) -> int:
    """Set a new password."""
    from ..store import open_store

    with open_store() as store:
        store.update_user(args.username, password=_password(args), updated_by="cli")
    print(f"password of {args.username} changed")
    return EXIT_OK


def list_users(args) -> int:
    """One line per account: name, role, agent, state, demo mark, display name."""
    from ..store import open_store

    with open_store() as store:
        for u in store.users():
            print(f"{u.username:<20} {u.role:<11} {u.agent_id or '-':<8} {'active' if u.active else 'inactive':<8} "
                  f"{'demo' if u.is_demo else '-':<4} {u.display_name or ''}")
    return EXIT_OK


def unlock(args) -> int:
    """Forget the failed sign-ins (and the lock) of a username and/or a client address."""
    from ..store import open_store

    if not args.username and not args.client:
        raise UsageError("give a username, --client ADDRESS, or both")
    with open_store() as store:
        for kind, key in (("user", args.username), ("client", args.client)):
            if key:
                found = store.clear_login_failures(kind, key)
                store.audit("login_unlock", None, details={"kind": kind, "key": key, "by": "cli"})
                print(f"{kind} {key}: {'unlocked' if found else 'was not locked'}")
    return EXIT_OK


def logout(args) -> int:
    """End every open session of an account."""
    from ..store import open_store

    with open_store() as store:
        if store.get_user(args.username) is None:
            raise UsageError(f"no user {args.username!r}")
        n = store.revoke_user_sessions(args.username, "admin_logout", by="cli")
    print(f"{n} session(s) of {args.username} ended")
    return EXIT_OK
