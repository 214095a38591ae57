"""The sign-in routes and the session middleware over real HTTP: a `qa serve` subprocess on a
real SQLite store, requests made with http.client (nothing follows redirects or keeps cookies
for us). Cookie attributes, CSRF, one answer for every failure, no open redirect, sign-out only
with the session's token, what needs a session and what stays public."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.security

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "sup-pass-0001"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serving(cmd: list[str], env: dict, log_path: Path, cwd: Path = ROOT):
    """Run a dashboard server command until the block ends; its port."""
    port = _free_port()
    log = open(log_path, "wb")
    proc = subprocess.Popen([*cmd, "--server.port" if "streamlit" in cmd else "--port", str(port)], cwd=cwd,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{cmd} exited: " + log_path.read_text(errors="replace")[-2000:])
            try:
                if _req(port, "GET", "/_stcore/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{cmd} did not answer within 120 s")
            time.sleep(0.3)
        yield port
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(port, store): `qa serve` on a free port over a store with one supervisor; the server and
    this process share QA_SESSION_SECRET, so tests can check cookies and tokens."""
    import secrets

    from qa.store import open_store

    data = tmp_path_factory.mktemp("http")
    url = f"sqlite:///{data / 'qa.db'}"
    store = open_store(url)
    store.create_user("sup", PASSWORD, "supervisor", display_name="Sara Supervisor")
    mp = pytest.MonkeyPatch()
    mp.setenv("QA_SESSION_SECRET", secrets.token_hex(32))
    env = {**os.environ, "QA_DATA_DIR": str(data), "QA_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    try:
        with _serving([sys.executable, "-m", "qa", "serve"], env, data / "server.log") as port:
            yield port, store
    finally:
        store.close()
        mp.undo()


def _req(port, method, path, body=None, headers=None, cookies=None):
    """(status, headers as a list of pairs, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = dict(headers or {})
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        body = urlencode(body)
        h["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    out = r.status, r.getheaders(), r.read().decode("utf-8", "replace")
    conn.close()
    return out


def _header(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def _set_cookie(headers, name):
    found = [v for v in _header(headers, "set-cookie") if v.startswith(name + "=")]
    return found[0] if found else None


def _cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1].strip('"')


def _form(port, path="/auth/login"):
    """GET the login page: (csrf cookie value, csrf form token, html)."""
    status, headers, html = _req(port, "GET", path)
    assert status == 200
    csrf_cookie = _cookie_value(_set_cookie(headers, "ascolto_csrf"))
    token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    return csrf_cookie, token, html


def _login(port, username, password, next_path="/", origin=True, headers=None):
    csrf_cookie, token, _ = _form(port)
    h = {"Origin": f"http://127.0.0.1:{port}"} if origin else {}
    h.update(headers or {})
    return _req(port, "POST", "/auth/login", {"username": username, "password": password, "csrf": token,
                                              "next": next_path, "lang": "it"},
                headers=h, cookies={"ascolto_csrf": csrf_cookie})


def _message(html):
    m = re.search(r'<div class="msg [a-z]+" role="[a-z]+">([^<]*)</div>', html)
    return m and m.group(1)


def test_sign_in_sets_an_httponly_samesite_strict_cookie_and_goes_where_asked(server):
    port, store = server
    status, headers, _ = _login(port, "sup", PASSWORD, next_path="/call?call=X-1")
    assert status == 303 and _header(headers, "location") == ["/call?call=X-1"]
    cookie = _set_cookie(headers, "ascolto_session")
    attrs = {a.strip().split("=")[0].lower(): a.strip() for a in cookie.split(";")[1:]}
    assert "httponly" in attrs and attrs["samesite"].lower() == "samesite=strict" and attrs["path"] == "Path=/"
    assert "secure" not in attrs and "max-age" not in attrs and "expires" not in attrs  # plain http; browser session
    # with the cookie the app's pages load; the page a browser without it asked for comes after the login
    session_cookie = {"ascolto_session": _cookie_value(cookie)}
    assert _req(port, "GET", "/call?call=X-1", cookies=session_cookie)[0] == 200
    status, headers, _ = _req(port, "GET", "/call?call=X-1")
    assert status == 303 and _header(headers, "location") == ["/auth/login?next=%2Fcall%3Fcall%3DX-1"]
    # signed in already: the login page sends the browser straight on
    status, headers, _ = _req(port, "GET", "/auth/login?next=/trends", cookies=session_cookie)
    assert status == 303 and _header(headers, "location") == ["/trends"]


def test_the_cookie_is_secure_behind_https(server):
    port, _ = server
    # a TLS proxy on this machine (uvicorn trusts X-Forwarded-* from 127.0.0.1)
    status, headers, _ = _login(port, "sup", PASSWORD, headers={"X-Forwarded-Proto": "https"})
    assert status == 303
    assert "secure" in [a.strip().lower() for a in _set_cookie(headers, "ascolto_session").split(";")]


def test_every_failure_gets_the_same_answer(server):
    port, store = server
    answers = []
    for username, password in (("sup", "wrong-password"), ("nobody-at-all", "wrong-password"), ("", "x")):
        status, headers, html = _login(port, username, password)
        assert _set_cookie(headers, "ascolto_session") is None
        answers.append((status, _message(html)))
    assert answers == [(401, "Accesso non riuscito: nome utente o password non validi, oppure troppi tentativi "
                             "(riprova più tardi).")] * 3
    assert "nobody-at-all" in [a.username for a in store.audit_log(limit=10) if a.action == "login_failed"]
    store.clear_login_failures("user", "sup")


def test_the_form_needs_its_csrf_token_and_our_origin(server):
    port, store = server
    csrf_cookie, token, _ = _form(port)
    form = {"username": "sup", "password": PASSWORD, "next": "/", "lang": "it"}
    cases = [
        ({**form, "csrf": token}, {"Origin": "http://evil.example"}, {"ascolto_csrf": csrf_cookie}),
        ({**form, "csrf": token}, {"Origin": "null"}, {"ascolto_csrf": csrf_cookie}),
        ({**form, "csrf": token}, {}, {}),  # no cookie (another site's form)
        ({**form, "csrf": "0" * 64}, {}, {"ascolto_csrf": csrf_cookie}),
        (form, {}, {"ascolto_csrf": csrf_cookie}),
    ]
    for body, headers, cookies in cases:
        status, resp_headers, html = _req(port, "POST", "/auth/login", body, headers=headers, cookies=cookies)
        assert status == 403 and _set_cookie(resp_headers, "ascolto_session") is None, (headers, cookies)
        assert _message(html).startswith("Accesso non riuscito")
    assert store.live_sessions("sup") == [] or all(s.client_ip == "127.0.0.1" for s in store.live_sessions("sup"))


def test_no_redirect_to_another_site(server):
    port, _ = server
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/auth/logout"):
        status, headers, _ = _login(port, "sup", PASSWORD, next_path=target)
        assert status == 303 and _header(headers, "location") == ["/"], target


def test_the_login_page_is_escaped_localised_and_not_framable(server):
    port, _ = server
    status, headers, html = _req(port, "GET", '/auth/login?next=/x"><script>alert(1)</script>&lang=de')
    assert status == 200 and "<script>" not in html
    assert "Anmeldung" in html and 'for="username">Benutzername' in html
    h = {k.lower(): v for k, v in headers}
    assert h["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["cache-control"] == "no-store"
    _, _, html = _req(port, "GET", "/auth/login", headers={"Accept-Language": "fr-CH,fr;q=0.9"})
    assert "Connexion" in html and 'lang="fr"' in html
    _, _, html = _req(port, "GET", "/auth/login?reason=expired")
    assert _message(html) == "Sessione scaduta: accedi di nuovo."


def test_sign_out_needs_the_sessions_token(server):
    port, store = server
    status, headers, _ = _login(port, "sup", PASSWORD)
    cookie = {"ascolto_session": _cookie_value(_set_cookie(headers, "ascolto_session"))}
    from qa.dashboard import session

    # a link on another site: no token (and a real browser would not even send the Strict cookie)
    status, headers, _ = _req(port, "GET", "/auth/logout", cookies=cookie)
    assert status == 303 and _set_cookie(headers, "ascolto_session") is None
    assert session.resolve(store, cookie["ascolto_session"])[0] is not None
    status, headers, _ = _req(port, "GET", "/auth/logout?t=" + "0" * 32, cookies=cookie)
    assert session.resolve(store, cookie["ascolto_session"])[0] is not None
    # without any cookie nothing is cleared either
    status, headers, _ = _req(port, "GET", "/auth/logout")
    assert status == 303 and _set_cookie(headers, "ascolto_session") is None
    # the dashboard's sign-out: revoked, cookie cleared, back to the login page
    token = session.logout_token(cookie["ascolto_session"])
    status, headers, _ = _req(port, "POST", "/auth/logout", {"t": token}, cookies=cookie)
    assert status == 303 and _header(headers, "location") == ["/auth/login?reason=bye&lang=it"]
    cleared = _set_cookie(headers, "ascolto_session")
    assert cleared and "max-age=0" in cleared.lower()
    assert session.resolve(store, cookie["ascolto_session"]) == (None, "revoked")
    assert _req(port, "GET", "/", cookies=cookie)[0] == 303


def test_what_needs_a_session(server):
    port, store = server
    for path in ("/_stcore/health", "/_stcore/host-config", "/favicon.png", "/auth/login"):
        assert _req(port, "GET", path)[0] == 200, path
    # the frontend probes health below a page's path too: Streamlit's own answer, not a login redirect
    assert _req(port, "GET", "/call/_stcore/health")[0] == 404
    for path in ("/media/abc.wav", "/_stcore/upload_file/x/y", "/component/x/index.html", "/_stcore/metrics"):
        status, _, body = _req(port, "GET", path)
        assert status == 401 and body == "sign in first", path
    assert _req(port, "PUT", "/_stcore/upload_file/x/y")[0] == 401
    for path in ("/", "/trends", "/call?call=DEMO-IT-01"):
        status, headers, body = _req(port, "GET", path)
        assert status == 303 and _header(headers, "location")[0].startswith("/auth/login") and body == ""
    # a revoked or forged cookie is no session
    from qa.dashboard import session

    for value in ("forged", session.sign_session("never-issued")):
        assert _req(port, "GET", "/media/abc.wav", cookies={"ascolto_session": value})[0] == 401


def test_streamlit_run_serves_the_same_sign_in(tmp_path):
    """`streamlit run app_streamlit.py` (from another folder) is the same server as `qa serve`:
    sign-in routes, middleware, the demo warning."""
    from qa.store import open_store

    url = f"sqlite:///{tmp_path / 'qa.db'}"
    with open_store(url) as st:
        st.create_user("admin", "ascolto-demo", "admin", demo=True, created_by="demo")
    env = {**os.environ, "QA_DATA_DIR": str(tmp_path), "QA_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app_streamlit.py"), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    with _serving(cmd, env, tmp_path / "server.log", cwd=tmp_path) as port:
        assert _req(port, "GET", "/auth/login")[0] == 200
        status, headers, _ = _req(port, "GET", "/trends")
        assert status == 303 and _header(headers, "location") == ["/auth/login?next=%2Ftrends"]
        status, headers, _ = _login(port, "admin", "ascolto-demo")
        assert status == 303 and "httponly" in _set_cookie(headers, "ascolto_session").lower()
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "WARNING: demo accounts with the public demo password are active in this store: admin" in log
