"""The HTTP side of signing in, mounted on Streamlit's own server by ``app_streamlit.py``
(``st.App(..., routes=routes(), middleware=middleware(), lifespan=lifespan)``).

- ``GET /auth/login``: a small server-rendered sign-in page (it/de/fr/en) with a double-submit
  CSRF token; ``POST /auth/login`` checks it and the credentials (``session.login``: lockout,
  constant-time unknown users, audit) and answers with the session cookie
  (``HttpOnly; SameSite=Strict; Path=/``, ``Secure`` over https) and a redirect to the page the
  user asked for. One message for every failure.
- ``GET|POST /auth/logout?t=TOKEN``: revokes the session and clears the cookie. The token is bound
  to the session, and a cross-site request carries no SameSite=Strict cookie, so another site
  cannot sign a user out.
- ``AuthGate`` (middleware): a page load, a media file (recordings, downloads), an upload or a
  component request without a live session goes to the login page (pages) or gets 401 (the
  rest). Streamlit's health checks and its static bundle stay public. The websocket is left to
  the script, which resolves the same cookie on every run (``qa.dashboard.app``).
"""

from __future__ import annotations

import html
import sys
from contextlib import asynccontextmanager
from urllib.parse import urlencode, urlsplit

from . import session
from .i18n import UI_LANGUAGES, t

PUBLIC_FILES = {"/favicon.png", "/manifest.json", "/robots.txt"}
PUBLIC_SUFFIXES = ("/_stcore/health", "/_stcore/host-config", "/_stcore/script-health-check")
NOT_PAGES = ("/_stcore/", "/media/", "/component/", "/bidi-components/")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # not no-referrer: Chromium then sends "Origin: null" with the form
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}


def base_path() -> str:
    """Streamlit's ``server.baseUrlPath`` as ``/base`` ('' when none)."""
    try:
        from streamlit import config

        base = (config.get_option("server.baseUrlPath") or "").strip("/")
    except Exception:  # noqa: BLE001 - config not loaded (imported outside a server)
        base = ""
    return f"/{base}" if base else ""


def login_url(next_path: str | None = None, reason: str | None = None, lang: str | None = None) -> str:
    """The sign-in page's URL, with where to go afterwards."""
    query = {k: v for k, v in (("next", next_path), ("reason", reason), ("lang", lang)) if v}
    return f"{base_path()}/auth/login" + (f"?{urlencode(query)}" if query else "")


def _lang(request) -> str:
    lang = request.query_params.get("lang")
    if lang in UI_LANGUAGES:
        return lang
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in UI_LANGUAGES:
            return code
    return "it"


def _secure(request) -> bool:
    import os

    return request.url.scheme == "https" or os.environ.get("QA_COOKIE_SECURE") == "1"


def _client(request) -> str | None:
    return request.client.host if request.client else None


PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f7f9;color:#1f2430;margin:0}}
main{{max-width:380px;margin:8vh auto;background:#fff;padding:2rem 2.2rem;border-radius:10px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}}
h1{{font-size:1.15rem;margin:0 0 .3rem}} h2{{font-size:1.5rem;margin:.2rem 0 1.2rem}}
label{{display:block;font-size:.9rem;margin:.9rem 0 .3rem}}
input[type=text],input[type=password]{{width:100%;box-sizing:border-box;padding:.55rem;font-size:1rem;
border:1px solid #c4c8d0;border-radius:6px}}
button{{margin-top:1.3rem;width:100%;padding:.6rem;font-size:1rem;border:0;border-radius:6px;background:#ff4b4b;
color:#fff;cursor:pointer}}
.msg{{padding:.6rem .8rem;border-radius:6px;margin:.8rem 0;font-size:.92rem}}
.error{{background:#fde8e8;color:#8a1c1c}} .info{{background:#e8f0fd;color:#1c3d8a}}
nav{{margin-top:1.2rem;font-size:.85rem;text-align:center}} nav a{{margin:0 .35rem;color:#555}}
</style></head>
<body><main>
<h1>{app_title}</h1>
<h2>{heading}</h2>
{message}
<form method="post" action="{action}" autocomplete="on">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<input type="hidden" name="lang" value="{lang}">
<label for="username">{username_label}</label>
<input type="text" id="username" name="username" autocomplete="username" maxlength="{max_user}" required autofocus>
<label for="password">{password_label}</label>
<input type="password" id="password" name="password" autocomplete="current-password" maxlength="{max_password}" required>
<button type="submit">{button}</button>
</form>
<nav>{languages}</nav>
</main></body></html>
"""


def render_login(lang: str, csrf_token: str, next_path: str, message: str | None = None,
                 kind: str = "error") -> str:
    """The sign-in page's HTML (every value escaped)."""
    e = html.escape
    langs = " ".join(
        f'<a href="{e(login_url(next_path if next_path != "/" else None, lang=code))}" lang="{code}">{e(name)}</a>'
        for code, name in UI_LANGUAGES.items())
    role = "alert" if kind == "error" else "status"
    return PAGE.format(
        lang=e(lang), title=e(f"{t('login_title', lang)} — Ascolto"), app_title=e(t("app_title", lang)),
        heading=e(t("login_title", lang)),
        message=f'<div class="msg {kind}" role="{role}">{e(message)}</div>' if message else "",
        action=e(f"{base_path()}/auth/login"), csrf=e(csrf_token), next=e(next_path),
        username_label=e(t("username", lang)), password_label=e(t("password", lang)), button=e(t("login", lang)),
        max_user=session.MAX_USERNAME, max_password=session.MAX_PASSWORD, languages=langs)


def _login_response(request, lang: str, next_path: str, message: str | None = None, kind: str = "error",
                    status: int = 200):
    from starlette.responses import HTMLResponse

    csrf_cookie = request.cookies.get(session.CSRF_COOKIE_NAME)
    if not csrf_cookie or len(csrf_cookie) > 100:
        csrf_cookie, token = session.new_csrf()
    else:  # keep the browser's value: two login tabs both stay valid
        token = session.csrf_token(csrf_cookie)
    resp = HTMLResponse(render_login(lang, token, next_path, message, kind), status_code=status,
                        headers=SECURITY_HEADERS)
    resp.set_cookie(session.CSRF_COOKIE_NAME, csrf_cookie, path=f"{base_path()}/auth/", httponly=True,
                    samesite="strict", secure=_secure(request))
    return resp


def _same_origin(request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # old browsers, curl: the CSRF token still has to match
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def login_endpoint(request):
    """GET: the sign-in page (or straight on when already signed in); POST: sign in."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    store = await run_in_threadpool(session.app_store)
    if request.method != "POST":
        lang = _lang(request)
        next_path = session.safe_next(request.query_params.get("next"), base_path() or "/")
        cookie = request.cookies.get(session.COOKIE_NAME)
        if cookie:
            user, _ = await run_in_threadpool(session.resolve, store, cookie)
            if user is not None:
                return RedirectResponse(next_path, status_code=303)
        reason = request.query_params.get("reason")
        message = {"expired": (t("session_expired", lang), "info"), "bye": (t("signed_out", lang), "info"),
                   "signin": (t("sign_in_to_continue", lang), "info")}.get(reason)
        return _login_response(request, lang, next_path, *(message or (None,)))

    form = await request.form(max_files=0, max_fields=10)
    lang = form.get("lang") if form.get("lang") in UI_LANGUAGES else _lang(request)
    next_path = session.safe_next(form.get("next"), base_path() or "/")
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    if not (_same_origin(request) and session.csrf_ok(request.cookies.get(session.CSRF_COOKIE_NAME),
                                                      str(form.get("csrf") or ""))):
        await run_in_threadpool(store.audit, "login_failed", username.strip()[:session.MAX_USERNAME] or None, None,
                                {"client": _client(request), "reason": "csrf"})
        return _login_response(request, lang, next_path, t("login_failed_generic", lang), status=403)
    result = await run_in_threadpool(session.login, store, username, password, _client(request),
                                     request.headers.get("user-agent"))
    if not result.ok:
        return _login_response(request, lang, next_path, t("login_failed_generic", lang), status=401)
    resp = RedirectResponse(next_path, status_code=303, headers={"Cache-Control": "no-store"})
    resp.set_cookie(session.COOKIE_NAME, result.cookie, path="/", httponly=True, samesite="strict",
                    secure=_secure(request))
    resp.delete_cookie(session.CSRF_COOKIE_NAME, path=f"{base_path()}/auth/", httponly=True, samesite="strict",
                       secure=_secure(request))
    return resp


async def logout_endpoint(request):
    """End the session (with the token the dashboard's sign-out button sends) and clear the cookie."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    store = await run_in_threadpool(session.app_store)
    token = request.query_params.get("t")
    if request.method == "POST":
        token = str((await request.form(max_files=0, max_fields=5)).get("t") or token or "")
    lang = request.query_params.get("lang") if request.query_params.get("lang") in UI_LANGUAGES else _lang(request)
    cookie = request.cookies.get(session.COOKIE_NAME)
    if cookie:
        user, _ = await run_in_threadpool(session.resolve, store, cookie)
        if user is not None:
            if not session.logout_token_ok(cookie, token):
                return RedirectResponse(base_path() or "/", status_code=303)  # not our sign-out button
            await run_in_threadpool(session.logout, store, cookie, "logout")
    resp = RedirectResponse(login_url(reason="bye", lang=lang), status_code=303, headers={"Cache-Control": "no-store"})
    if cookie:
        resp.delete_cookie(session.COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return resp


def routes() -> list:
    """The sign-in routes for ``st.App(routes=...)``."""
    from starlette.routing import Route

    base = base_path()
    return [Route(f"{base}/auth/login", login_endpoint, methods=["GET", "HEAD", "POST"]),
            Route(f"{base}/auth/logout", logout_endpoint, methods=["GET", "POST"])]


def _public(path: str) -> bool:
    return (path.startswith("/auth/") or path.startswith("/static/") or path in PUBLIC_FILES
            or path.endswith(PUBLIC_SUFFIXES))


class AuthGate:
    """ASGI middleware: HTTP requests need a live session except the login routes, Streamlit's
    health checks and its static bundle (see the module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse, RedirectResponse

        base = base_path()
        path = scope.get("path", "")
        rel = path[len(base):] if base and path.startswith(base) else path
        if _public(rel or "/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(session.COOKIE_NAME)
        reason = None
        if cookie:
            store = await run_in_threadpool(session.app_store)
            user, reason = await run_in_threadpool(session.resolve, store, cookie)
            if user is not None:
                await self.app(scope, receive, send)
                return
        if scope.get("method") in ("GET", "HEAD") and not any(p in rel for p in NOT_PAGES):
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            response = RedirectResponse(login_url(target if rel not in ("", "/") else None,
                                                  "expired" if reason == "expired" else None),
                                        status_code=303, headers={"Cache-Control": "no-store"})
        else:
            response = PlainTextResponse("sign in first", status_code=401, headers={"Cache-Control": "no-store"})
        await response(scope, receive, send)


def middleware() -> list:
    """The middleware for ``st.App(middleware=...)``."""
    from starlette.middleware import Middleware

    return [Middleware(AuthGate)]


def startup_checks() -> list[str]:
    """Open the store and the session secret once at start; the warnings to print (demo accounts)."""
    from ..store.users import dummy_hash

    store = session.app_store()
    session.secret()
    dummy_hash()  # made now, so the first unknown-user sign-in takes no longer than the others
    demo = store.demo_accounts()
    if not demo:
        return []
    return [f"WARNING: demo accounts with the public demo password are active in this store: {', '.join(demo)}. "
            "Deactivate them before real use: qa users remove NAME"]


@asynccontextmanager
async def lifespan(_app):
    """``st.App(lifespan=...)``: the start-up checks, warnings on stderr."""
    from starlette.concurrency import run_in_threadpool

    for line in await run_in_threadpool(startup_checks):
        print(line, file=sys.stderr, flush=True)
    yield None
