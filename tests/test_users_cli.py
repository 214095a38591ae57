"""`qa users add|remove|passwd|list` against a real SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qa.store import open_store


def qa(*args, env, stdin=None):
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, input=stdin, timeout=120)


@pytest.fixture()
def env(tmp_path):
    return {"QA_DATA_DIR": str(tmp_path), "QA_DATABASE_URL": f"sqlite:///{tmp_path / 'u.db'}"}


def test_add_passwd_remove_list(env):
    url = env["QA_DATABASE_URL"]
    p = qa("users", "add", "laura", "--role", "operator", "--agent-id", "A17", "--name", "Laura B",
           "--password", "first-password", env=env)
    assert p.returncode == 0, p.stderr
    with open_store(url) as store:
        assert store.authenticate("laura", "first-password").agent_id == "A17"
        assert store.get_user("laura").password_hash.startswith("$argon2")
    assert qa("users", "passwd", "laura", env={**env, "QA_PASSWORD": "second-password"}).returncode == 0
    with open_store(url) as store:
        assert store.authenticate("laura", "first-password") is None
        assert store.authenticate("laura", "second-password") is not None
    listing = qa("users", "list", env=env).stdout
    assert "laura" in listing and "operator" in listing and "active" in listing
    assert qa("users", "remove", "laura", env=env).returncode == 0
    with open_store(url) as store:
        assert store.authenticate("laura", "second-password") is None  # deactivated, kept for the audit log
        actions = [a.action for a in store.audit_log()]
    assert {"user_create", "user_update"} <= set(actions)


@pytest.mark.parametrize("args, needle", [
    (["users", "add", "op", "--role", "operator", "--password", "long-enough-1"], "agent_id"),
    (["users", "add", "x", "--role", "supervisor", "--password", "short"], "at least 8"),
    (["users", "add", "x", "--role", "boss", "--password", "long-enough-1"], "invalid choice"),
    (["users", "passwd", "nobody", "--password", "long-enough-1"], "no user"),
    (["users", "add", "x", "--role", "admin"], "no password given"),
])
def test_bad_user_commands_fail_in_one_line(env, args, needle):
    p = qa(*args, env=env, stdin="")
    assert p.returncode in (2, 3) and needle in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_duplicate_user_is_refused(env):
    assert qa("users", "add", "sup", "--role", "supervisor", "--password", "long-enough-1", env=env).returncode == 0
    p = qa("users", "add", "sup", "--role", "supervisor", "--password", "long-enough-1", env=env)
    assert p.returncode == 3 and "already exists" in p.stderr


@pytest.mark.security
def test_passwd_remove_and_logout_end_sessions_unlock_lifts_a_lock_list_marks_demo(env):
    from qa.dashboard import session

    url = env["QA_DATABASE_URL"]
    with open_store(url) as store:
        store.create_user("anna", "anna-password-1", "supervisor")
        store.create_user("bruno", "bruno-password-1", "supervisor")
        store.create_user("admin", "ascolto-demo", "admin", demo=True, created_by="demo")
        anna = [store.create_session("anna", f"anna-{i}", lifetime_s=3600) for i in range(2)]
        store.create_session("bruno", "bruno-1", lifetime_s=3600)
        for i in range(10):
            store.record_login_failure([("user", "bruno")], limits={"user": 10}, lock_s=300, max_lock_s=86400,
                                       window_s=3600)
        assert store.login_locked_until([("user", "bruno")]) is not None
    assert len(anna) == 2
    listing = {line.split()[0]: line.split() for line in qa("users", "list", env=env).stdout.splitlines()}
    assert listing["admin"][4] == "demo" and listing["anna"][4] == "-"
    assert qa("users", "passwd", "anna", "--password", "anna-password-2", env=env).returncode == 0
    p = qa("users", "unlock", "bruno", env=env)
    assert p.returncode == 0 and "unlocked" in p.stdout
    p = qa("users", "logout", "bruno", env=env)
    assert p.returncode == 0 and p.stdout.startswith("1 session(s) of bruno ended")
    with open_store(url) as store:
        assert store.live_sessions("anna") == [] and store.live_sessions("bruno") == []
        assert store.login_locked_until([("user", "bruno")]) is None
        assert session.login(store, "bruno", "bruno-password-1").ok
        store.create_session("anna", "anna-3", lifetime_s=3600)
    assert qa("users", "remove", "anna", env=env).returncode == 0
    with open_store(url) as store:
        assert store.live_sessions("anna") == []
