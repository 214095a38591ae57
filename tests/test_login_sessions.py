"""Sign-in and sessions below the browser (issues 13.3 and 14), on real SQLite and PostgreSQL
stores: cookie sessions (signed, hashed in the store, idle time-out, absolute lifetime,
revocation on logout, password change and deactivation), lockout with growing back-off per
username and per client (audited), the constant-time unknown-user path, the session secret, the
demo mark and its migration. The HTTP routes and the browser: test_login_http.py and
test_dashboard_browser.py."""

from __future__ import annotations

import os
import random
import stat
import time
from datetime import timedelta

import pytest

from qa.dashboard import session
from qa.store import open_store
from qa.store.schema import now as utcnow

from .pg import store_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.security

PASSWORD = "right-password-1"


@pytest.fixture
def store(store_url):  # noqa: F811
    st = open_store(store_url)
    st.create_user("anna", PASSWORD, "supervisor")
    st.create_user("bruno", PASSWORD, "operator", agent_id="A2")
    yield st
    st.close()


def _actions(store, limit=200):
    return [(a.action, a.username) for a in store.audit_log(limit=limit)]


# ------------------------------------------------------------------------------------ sessions
def test_login_makes_a_signed_cookie_whose_id_is_stored_only_as_a_hash(store):
    result = session.login(store, "anna", PASSWORD, client_ip="10.0.0.7", user_agent="pytest")
    assert result.ok and result.user.username == "anna"
    sid = session.unsign_session(result.cookie)
    assert sid and len(sid) >= 40 and result.cookie.startswith(sid + ".")
    [row] = store.live_sessions("anna")
    assert row.token_hash != sid and sid not in row.token_hash and len(row.token_hash) == 64
    assert (row.client_ip, row.user_agent) == ("10.0.0.7", "pytest")
    assert row.expires_at - row.created_at == timedelta(hours=12)  # QA_SESSION_MAX_HOURS default
    user, reason = session.resolve(store, result.cookie)
    assert user.username == "anna" and reason is None
    # a cookie not signed with our secret, or changed by one character, names nobody
    assert session.resolve(store, sid + ".forged") == (None, "invalid")
    i = len(sid) + 5  # a character inside the signature
    assert session.resolve(store, result.cookie[:i] + ("A" if result.cookie[i] != "A" else "B")
                           + result.cookie[i + 1:]) == (None, "invalid")
    assert session.resolve(store, session.sign_session("made-up-session-id")) == (None, "invalid")
    assert ("login", "anna") in _actions(store)


def test_logout_revokes_the_session(store):
    cookie = session.login(store, "anna", PASSWORD).cookie
    other = session.login(store, "anna", PASSWORD).cookie  # another browser of hers
    assert session.logout(store, cookie) == "anna"
    assert session.resolve(store, cookie) == (None, "revoked")
    assert session.logout(store, cookie) is None  # already ended
    assert session.resolve(store, other)[0].username == "anna"
    assert ("logout", "anna") in _actions(store)


def test_idle_timeout_and_absolute_lifetime(store):
    t0 = utcnow()
    store.create_session("anna", "idle-one", lifetime_s=3600, now=t0)
    store.create_session("anna", "busy-one", lifetime_s=3600, now=t0)
    # used every 20 minutes with a 30-minute idle time-out: alive until the absolute lifetime ends
    for minutes in (20, 40, 59):
        user, _ = store.resolve_session("busy-one", idle_s=1800, now=t0 + timedelta(minutes=minutes))
        assert user is not None
    assert store.resolve_session("busy-one", idle_s=1800, now=t0 + timedelta(minutes=61)) == (None, "expired")
    # not used for 31 minutes: ended by the idle time-out
    assert store.resolve_session("idle-one", idle_s=1800, now=t0 + timedelta(minutes=31)) == (None, "expired")
    assert store.resolve_session("idle-one", idle_s=1800, now=t0 + timedelta(minutes=32)) == (None, "revoked")
    actions = _actions(store)
    assert ("session_expired", "anna") in actions and ("session_timeout", "anna") in actions
    assert store.live_sessions("anna", now=t0 + timedelta(minutes=1)) == []  # both ended, with their reasons


def test_session_settings_come_from_the_environment(store, monkeypatch):
    monkeypatch.setenv("QA_SESSION_MAX_HOURS", "2")
    monkeypatch.setenv("QA_SESSION_TIMEOUT_MIN", "0")
    cookie = session.login(store, "anna", PASSWORD).cookie
    [row] = store.live_sessions("anna")
    assert row.expires_at - row.created_at == timedelta(hours=2)
    time.sleep(0.05)
    assert session.resolve(store, cookie) == (None, "expired")  # idle time-out 0: any pause ends it


def test_password_change_ends_every_session_of_that_user(store):
    mine = [session.login(store, "anna", PASSWORD).cookie for _ in range(2)]
    theirs = session.login(store, "bruno", PASSWORD).cookie
    store.update_user("anna", password="a-new-password-2", updated_by="admin")
    assert [session.resolve(store, c) for c in mine] == [(None, "revoked")] * 2
    assert session.resolve(store, theirs)[0].username == "bruno"
    assert store.live_sessions("anna") == []
    entry = next(a for a in store.audit_log() if a.action == "user_update")
    assert entry.details["sessions_revoked"] == 2
    # a role or name change keeps the sessions (the role is re-read on every run anyway)
    cookie = session.login(store, "anna", "a-new-password-2").cookie
    store.update_user("anna", display_name="Anna B.")
    assert session.resolve(store, cookie)[0].display_name == "Anna B."


def test_deactivation_ends_every_session_of_that_user(store):
    cookie = session.login(store, "bruno", PASSWORD).cookie
    store.update_user("bruno", active=False, updated_by="admin")
    assert session.resolve(store, cookie) == (None, "revoked")
    assert not session.login(store, "bruno", PASSWORD).ok
    store.update_user("bruno", active=True)
    assert session.resolve(store, cookie) == (None, "revoked")  # reactivating brings no session back


# -------------------------------------------------------------------------------------- lockout
def test_ten_wrong_passwords_lock_the_account_for_a_while_and_it_is_logged(store):
    before = utcnow()
    for i in range(9):
        assert session.login(store, "anna", f"wrong-{i}", client_ip="10.0.0.1").locked_until is None
    tenth = session.login(store, "anna", "wrong-9", client_ip="10.0.0.1")
    assert not tenth.ok and tenth.locked_until is not None
    assert timedelta(minutes=4) < tenth.locked_until - before <= timedelta(minutes=6)  # QA_LOGIN_LOCK_MIN=5
    # the right password, even from another client, is refused while the lock lasts
    refused = session.login(store, "anna", PASSWORD, client_ip="10.9.9.9")
    assert not refused.ok and refused.locked_until == tenth.locked_until
    assert store.live_sessions("anna") == []
    log = store.audit_log(limit=50)
    assert sum(a.action == "login_failed" and a.username == "anna" for a in log) == 10
    [lockout] = [a for a in log if a.action == "login_lockout"]
    assert lockout.username == "anna" and lockout.details["kind"] == "user" and lockout.details["failures"] == 10
    assert ("login_refused_locked", "anna") in _actions(store)
    # another account is not affected; an admin can lift the lock
    assert session.login(store, "bruno", PASSWORD, client_ip="10.0.0.1").ok
    assert store.clear_login_failures("user", "anna")
    assert session.login(store, "anna", PASSWORD, client_ip="10.0.0.1").ok


def test_unknown_usernames_lock_like_known_ones(store):
    results = [session.login(store, "nobody-here", f"x{i}", client_ip="10.0.0.2") for i in range(10)]
    assert [r.locked_until is not None for r in results] == [False] * 9 + [True]
    assert ("login_lockout", "nobody-here") in _actions(store)


def test_back_off_doubles_with_each_lock_and_resets_after_a_quiet_day(store):
    keys = [("user", "anna")]

    def ten_failures(at):
        locks = []
        for i in range(10):
            locks = store.record_login_failure(keys, limits={"user": 10}, lock_s=300, max_lock_s=86400,
                                               window_s=3600, now=at + timedelta(seconds=i))
        [(_, _, until, n)] = locks
        assert n == 10
        return (until - (at + timedelta(seconds=9))).total_seconds()

    t = utcnow()
    assert ten_failures(t) == 300
    assert store.login_locked_until(keys, now=t + timedelta(seconds=200)) is not None
    assert store.login_locked_until(keys, now=t + timedelta(seconds=320)) is None
    assert ten_failures(t + timedelta(minutes=10)) == 600
    assert ten_failures(t + timedelta(minutes=30)) == 1200
    assert ten_failures(t + timedelta(hours=26)) == 300  # 24 quiet hours: the back-off starts again
    # failures spread further apart than the window never add up to a lock
    for i in range(12):
        assert store.record_login_failure([("user", "bruno")], limits={"user": 10}, lock_s=300, max_lock_s=86400,
                                          window_s=3600, now=t + timedelta(hours=2 * i)) == []


def test_a_client_trying_many_usernames_is_locked(store, monkeypatch):
    monkeypatch.setenv("QA_LOGIN_MAX_FAILURES_CLIENT", "5")
    for i in range(5):
        session.login(store, f"guess-{i}", "password", client_ip="192.0.2.10")
    assert not session.login(store, "anna", PASSWORD, client_ip="192.0.2.10").ok  # locked client, right password
    assert session.login(store, "anna", PASSWORD, client_ip="192.0.2.11").ok  # the account itself is fine
    lockout = next(a for a in store.audit_log() if a.action == "login_lockout")
    assert lockout.details["kind"] == "client" and lockout.details["key"] == "192.0.2.10"


def test_unknown_and_known_usernames_take_the_same_time(tmp_path, monkeypatch):
    """A wrong password for an existing user and for a name that does not exist go through the
    same steps (one argon2 verification, the same throttle and audit writes): the two timing
    samples, taken interleaved in random order, are indistinguishable (Mann-Whitney U). Before
    the dummy hash the unknown name returned in about a millisecond, and p was below 1e-5."""
    from scipy.stats import mannwhitneyu

    monkeypatch.setenv("QA_LOGIN_MAX_FAILURES", "100000")
    monkeypatch.setenv("QA_LOGIN_MAX_FAILURES_CLIENT", "100000")
    st = open_store(f"sqlite:///{tmp_path / 'timing.db'}")
    try:
        st.create_user("known", PASSWORD, "supervisor")
        for name in ("known", "unknown", "known", "unknown"):  # warm up: dummy hash, caches, throttle rows
            assert not session.login(st, name, "wrong-password", client_ip="10.1.1.1").ok
        order = ["known", "unknown"] * 15
        random.Random(2026).shuffle(order)
        times: dict[str, list[float]] = {"known": [], "unknown": []}
        for name in order:
            t0 = time.perf_counter()
            result = session.login(st, name, "wrong-password", client_ip="10.1.1.1")
            times[name].append(time.perf_counter() - t0)
            assert not result.ok and result.locked_until is None
        p = mannwhitneyu(times["known"], times["unknown"], alternative="two-sided").pvalue
        med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
        assert p > 1e-3, (p, med)
    finally:
        st.close()


# ----------------------------------------------------------------------------- secret, tokens
def test_the_session_secret_is_kept_in_the_data_dir_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QA_SESSION_SECRET", raising=False)
    cookie = session.sign_session("some-session-id")
    key = tmp_path / session.SECRET_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    assert session.unsign_session(cookie) == "some-session-id"
    # QA_SESSION_SECRET overrides it: cookies signed with the file's key no longer verify
    monkeypatch.setenv("QA_SESSION_SECRET", "x" * 40)
    assert session.unsign_session(cookie) is None
    monkeypatch.setenv("QA_SESSION_SECRET", "short")
    with pytest.raises(Exception, match="too short"):
        session.sign_session("x")


def test_csrf_logout_tokens_and_redirect_targets():
    value, token = session.new_csrf()
    assert session.csrf_ok(value, token)
    assert not session.csrf_ok(value, session.new_csrf()[1]) and not session.csrf_ok(None, token)
    cookie = session.sign_session("sid-1")
    assert session.logout_token_ok(cookie, session.logout_token(cookie))
    assert not session.logout_token_ok(session.sign_session("sid-2"), session.logout_token(cookie))
    assert not session.logout_token_ok(cookie, None)
    for good in ("/", "/call?call=DEMO-IT-01", "/trends"):
        assert session.safe_next(good) == good
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "evil", "/auth/login?next=/",
                "/x\r\nSet-Cookie: a=b", None, ""):
        assert session.safe_next(bad) == "/"


# --------------------------------------------------------------------------------- demo mark
def test_demo_accounts_are_marked(store):
    store.create_user("admin", "ascolto-demo", "admin", demo=True, created_by="demo")
    assert store.demo_accounts() == ["admin"]
    assert {u.username: u.is_demo for u in store.users()} == {"admin": True, "anna": False, "bruno": False}
    store.update_user("admin", active=False)
    assert store.demo_accounts() == []


def test_migration_marks_the_demo_accounts_of_an_older_store(store_url):  # noqa: F811
    """A store the demo filled before the mark existed: its accounts are found in the audit log."""
    from alembic import command
    from sqlalchemy import text

    from qa.demo import refuse_non_demo_store
    from qa.errors import QAError
    from qa.store.db import alembic_config, make_engine

    engine = make_engine(store_url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    with engine.begin() as conn:
        for name, by in (("admin", "demo"), ("qa", "demo"), ("real", "cli")):
            conn.execute(text("insert into users (username, password_hash, role, language, active, created_at) "
                              "values (:u, 'x', 'admin', 'it', :t, :now)"), {"u": name, "t": True, "now": utcnow()})
            details = '{"user": "%s", "role": "admin"}' % name
            conn.execute(text("insert into audit_log (at, username, action, details) values (:now, :by, "
                              "'user_create', :d)"), {"now": utcnow(), "by": by, "d": details})
    # `qa demo` reads an old store without upgrading it, and sees the real account
    with pytest.raises(QAError, match=r"non-demo data \(1 accounts\)"):
        refuse_non_demo_store(url=store_url)
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0003"
    engine.dispose()
    with open_store(store_url) as st:
        assert st.demo_accounts() == ["admin", "qa"]
        assert not st.get_user("real").is_demo


def test_qa_demo_refuses_a_store_with_non_demo_data_and_writes_nothing(tmp_path):
    import sqlite3
    import subprocess
    import sys

    data = tmp_path / "prod"
    with open_store(f"sqlite:///{data / 'ascolto.db'}") as st:
        st.create_user("maria", PASSWORD, "supervisor")
    db = data / "ascolto.db"

    def dump():
        with sqlite3.connect(db) as c:
            return list(c.iterdump())

    before, files = dump(), sorted(p.name for p in data.iterdir())
    env = {**os.environ, "QA_DATA_DIR": str(data)}
    env.pop("QA_DATABASE_URL", None)
    p = subprocess.run([sys.executable, "-m", "qa", "demo", "--no-serve", "--synthetic", "0"], capture_output=True,
                       text=True, env=env, timeout=300)
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
    assert len(p.stderr.strip().splitlines()) == 1 and "non-demo data (1 accounts)" in p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert dump() == before
    assert sorted(x.name for x in data.iterdir() if x.name not in ("ascolto.db-wal", "ascolto.db-shm")) == \
        [f for f in files if f not in ("ascolto.db-wal", "ascolto.db-shm")]
