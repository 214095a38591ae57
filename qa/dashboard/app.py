"""The multipage Streamlit app: login gate, language switch, pages per role."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from . import session
from .access import can
from .i18n import UI_LANGUAGES, t

PAGES_DIR = Path(__file__).resolve().parent / "pages"


@st.cache_resource(show_spinner=False)
def _store_for(url: str):
    from ..store import open_store

    return open_store(url)


def get_store():
    """The store of ``QA_DATABASE_URL`` / ``QA_DATA_DIR``, opened once per server process."""
    from ..config import database_url

    return _store_for(database_url())


def ui_lang() -> str:
    """The interface language chosen in this browser session (default Italian)."""
    return st.session_state.get("ui_lang", "it")


def _language_switch(default: str = "it") -> str:
    pending = st.session_state.pop("_pending_lang", None)
    if pending in UI_LANGUAGES:
        st.session_state["ui_lang"] = pending
    if "ui_lang" not in st.session_state:
        st.session_state["ui_lang"] = default if default in UI_LANGUAGES else "it"
    st.sidebar.selectbox(t("language", ui_lang()), list(UI_LANGUAGES), format_func=UI_LANGUAGES.get, key="ui_lang")
    return st.session_state["ui_lang"]


def _login_form(store, reason: str | None) -> None:
    lang = ui_lang()
    st.title(t("app_title", lang))
    st.subheader(t("login_title", lang))
    if reason == "expired":
        st.warning(t("session_expired", lang))
    with st.form("login"):
        username = st.text_input(t("username", lang), key="login_user")
        password = st.text_input(t("password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(t("login", lang))
    if submitted:
        principal = session.login(st.session_state, store, username, password)
        if principal is None:
            st.error(t("login_failed", lang))
        else:
            st.session_state["_pending_lang"] = principal.language
            st.rerun()


def main() -> None:
    """The app: sign-in gate, language switch, the pages the signed-in role may use."""
    st.set_page_config(page_title="Ascolto", page_icon="🎧", layout="wide")
    store = get_store()
    principal, reason = session.current(st.session_state, store)
    _language_switch(principal.language if principal else "it")
    if principal is None:
        st.session_state.pop("_principal", None)
        _login_form(store, reason)
        st.stop()
    lang = ui_lang()
    st.session_state["_principal"] = principal  # read-only convenience for pages; re-derived every run
    st.sidebar.caption(t("signed_in_as", lang, name=principal.display_name, role=principal.role))
    if st.sidebar.button(t("logout", lang), key="logout"):
        session.logout(st.session_state, store)
        st.rerun()

    def page(name: str, title_key: str, **kw):
        return st.Page(str(PAGES_DIR / f"{name}.py"), title=t(title_key, lang), url_path=name, **kw)

    pages = [
        page("calls", "page_calls" if can(principal, "view_all_calls") else "page_my_calls", default=True),
        page("call", "page_call"),
    ]
    if can(principal, "trends"):
        pages.append(page("trends", "page_trends"))
    if principal.role == "operator":
        pages.append(page("progress", "page_my_trend"))
    if can(principal, "queues"):
        pages += [page("compliance", "page_compliance"), page("sample", "page_sample")]
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
