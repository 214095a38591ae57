"""The multipage Streamlit app: session gate, language switch, pages per role.

Signing in happens on the server-rendered page of ``qa.dashboard.web`` (``/auth/login``), which
sets the session cookie. Every run of this script resolves that cookie against the sessions
table (``session.resolve``): the browser's HttpOnly cookie reaches the script through the
websocket handshake (``st.context.cookies``). The session state is tied to the session it was
made under: when the session ends or changes, everything in it (filters, prepared exports and
their download buttons, audio positions, jobs, the principal) is dropped before anything is shown.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

import streamlit as st

from . import session
from .access import Principal, can
from .i18n import UI_LANGUAGES, t

PAGES_DIR = Path(__file__).resolve().parent / "pages"
# Material icons (served with Streamlit, so they render without an emoji font)
PAGE_ICONS = {"calls": ":material/call:", "call": ":material/headphones:", "trends": ":material/monitoring:",
              "progress": ":material/trending_up:", "compliance": ":material/gpp_maybe:", "review": ":material/rate_review:",
              "sample": ":material/shuffle:", "disputes": ":material/gavel:", "upload": ":material/upload_file:",
              "rubrics": ":material/edit_document:", "calibration": ":material/tune:",
              "users": ":material/group:"}
BOUND_KEY = "_qa_bound"  # the session (``session.binding``) this session state belongs to
LOGOUT_KEY = "_qa_logout_to"


def get_store():
    """The store of ``QA_DATABASE_URL`` / ``QA_DATA_DIR``, opened once per server process."""
    return session.app_store()


def ui_lang() -> str:
    """The interface language chosen in this browser session (default Italian)."""
    return st.session_state.get("ui_lang", "it")


def _language_switch(default: str = "it") -> str:
    if "ui_lang" not in st.session_state:
        st.session_state["ui_lang"] = default if default in UI_LANGUAGES else "it"
    st.sidebar.selectbox(t("language", ui_lang()), list(UI_LANGUAGES), format_func=UI_LANGUAGES.get, key="ui_lang")
    return st.session_state["ui_lang"]


def _cookie() -> str | None:
    """The session cookie of this browser session. Under AppTest (which cannot send cookies)
    the value a test put in ``session.TEST_COOKIE_KEY``; it is resolved exactly like a cookie."""
    from streamlit import config

    if config.get_option("global.appTest"):
        return st.session_state.get(session.TEST_COOKIE_KEY)
    return st.context.cookies.get(session.COOKIE_NAME)


def _forget_everything(keep_test_cookie: bool = True) -> None:
    """Empty the session state (whatever the previous session left: exports, filters, jobs...)."""
    test_cookie = st.session_state.get(session.TEST_COOKIE_KEY) if keep_test_cookie else None
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if test_cookie:
        st.session_state[session.TEST_COOKIE_KEY] = test_cookie


def _redirect(url: str) -> None:
    """Send the browser to ``url`` (a full page load). Streamlit's own sign-in redirect message
    (``AuthRedirect``, what ``st.login``/``st.logout`` use); nothing under AppTest."""
    from streamlit import config
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or config.get_option("global.appTest"):
        return
    msg = ForwardMsg()
    msg.auth_redirect.url = url
    ctx.enqueue(msg)


def _current_path() -> str:
    url = st.context.url
    path = urlsplit(url).path if url else "/"
    query = st.query_params.to_dict()
    return session.safe_next(path + (f"?{urlencode(query)}" if query else ""))


def _signed_in(store) -> tuple[Principal | None, str | None]:
    """The principal of this browser's session (re-read from the store), or (None, reason)."""
    cookie = _cookie()
    user, reason = session.resolve(store, cookie)
    bound = session.binding(cookie) if user is not None else None
    if st.session_state.get(BOUND_KEY) != bound:
        _forget_everything()
        if bound:
            st.session_state[BOUND_KEY] = bound
    return (Principal.from_user(user) if user is not None else None), reason


def _sign_in_prompt(reason: str | None) -> None:
    """What a browser without a live session gets: a pointer to the sign-in page (and a redirect)."""
    from .web import login_url

    lang = "it"
    url = login_url(_current_path(), "expired" if reason == "expired" else None)
    st.title(t("app_title", lang))
    st.subheader(t("login_title", lang))
    if reason == "expired":
        st.warning(t("session_expired", lang))
    else:
        st.info(t("sign_in_to_continue", lang))
    st.markdown(f"[{t('login', lang)}]({url})")
    _redirect(url)


def _logout() -> None:
    """The sign-out button's callback (runs before the script): revoke the session, drop the
    session state, then the browser goes to /auth/logout, which clears the cookie."""
    from .web import base_path

    cookie, lang = _cookie(), ui_lang()
    session.logout(get_store(), cookie)
    _forget_everything(keep_test_cookie=False)
    if cookie:
        st.session_state[LOGOUT_KEY] = (f"{base_path()}/auth/logout?"
                                        + urlencode({"t": session.logout_token(cookie), "lang": lang}))


def main() -> None:
    """The app: session gate, language switch, the pages the signed-in role may use."""
    st.set_page_config(page_title="Ascolto", page_icon=":material/headphones:", layout="wide")
    store = get_store()
    logout_to = st.session_state.pop(LOGOUT_KEY, None)
    if logout_to:  # signed out in the previous run: nothing of the session is shown again
        st.info(t("signed_out", "it"))
        _redirect(logout_to)
        st.stop()
    principal, reason = _signed_in(store)
    if principal is None:
        _sign_in_prompt(reason)
        st.stop()
    _language_switch(principal.language)
    lang = ui_lang()
    st.session_state["_principal"] = principal  # read-only convenience for pages; re-derived every run
    st.sidebar.caption(t("signed_in_as", lang, name=principal.display_name, role=t(f"role_{principal.role}", lang)))
    st.sidebar.button(t("logout", lang), key="logout", on_click=_logout, icon=":material/logout:")
    if principal.role == "admin":
        demo = store.demo_accounts()
        if demo:
            st.warning(t("demo_accounts_banner", lang, names=", ".join(demo)), icon=":material/warning:")

    def page(name: str, title_key: str, **kw):
        return st.Page(str(PAGES_DIR / f"{name}.py"), title=t(title_key, lang), url_path=name,
                       icon=PAGE_ICONS.get(name), **kw)

    pages = [
        page("calls", "page_calls" if can(principal, "view_all_calls") else "page_my_calls", default=True),
        page("call", "page_call"),
    ]
    if can(principal, "trends"):
        pages.append(page("trends", "page_trends"))
    if principal.role == "operator":
        pages.append(page("progress", "page_my_trend"))
    if can(principal, "queues"):
        pages += [page("compliance", "page_compliance"), page("review", "page_review"), page("sample", "page_sample")]
    if can(principal, "decide_dispute"):
        pages.append(page("disputes", "page_disputes"))
    if can(principal, "upload"):
        pages.append(page("upload", "page_upload"))
    if can(principal, "edit_rubric"):
        pages.append(page("rubrics", "page_rubrics"))
    if can(principal, "calibration"):
        pages.append(page("calibration", "page_calibration"))
    if can(principal, "manage_users"):
        pages.append(page("users", "page_users"))
    st.session_state["_pages"] = {pg.url_path: pg for pg in pages}
    st.navigation(pages).run()


def context():
    """(store, principal, lang) for a page; the principal was verified by ``main`` in this run."""
    principal = st.session_state.get("_principal")
    if principal is None:  # a page run without main(): never show anything
        st.stop()
    return get_store(), principal, ui_lang()


def guard(principal, action: str) -> None:
    """Stop the page with a one-line refusal unless ``principal`` may do ``action``."""
    if not can(principal, action):
        st.error(t("access_denied_page", ui_lang()))
        st.stop()
