"""Admin: accounts and roles (the same operations as `qa users`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...errors import QAError
from ..app import context, guard
from ..i18n import UI_LANGUAGES, t
from .common import role_name


def render() -> None:
    """The accounts page (admins): list users and add one."""
    store, principal, lang = context()
    guard(principal, "manage_users")
    st.title(t("page_users", lang))
    users = store.users()
    cc = st.column_config
    st.dataframe(pd.DataFrame([{"username": u.username, "role": role_name(u.role, lang), "agent_id": u.agent_id,
                                "name": u.display_name, "language": UI_LANGUAGES.get(u.language, u.language),
                                "active": u.active} for u in users]), hide_index=True,
                 column_config={"username": cc.TextColumn(t("username", lang)), "role": cc.TextColumn(t("role", lang)),
                                "agent_id": cc.TextColumn(t("agent_id", lang)),
                                "name": cc.TextColumn(t("display_name", lang)),
                                "language": cc.TextColumn(t("language", lang)),
                                "active": cc.CheckboxColumn(t("active", lang))})
    with st.form("add_user"):
        st.markdown(f"**{t('add_user', lang)}**")
        c1, c2, c3 = st.columns(3)
        username = c1.text_input(t("username", lang))
        password = c2.text_input(t("password", lang), type="password")
        role = c3.selectbox(t("role", lang), ["operator", "supervisor", "qa_lead", "admin"],
                            format_func=lambda r: role_name(r, lang))
        c4, c5, c6 = st.columns(3)
        agent_id = c4.text_input(t("agent_id", lang))
        name = c5.text_input(t("display_name", lang))
        ulang = c6.selectbox(t("language", lang), list(UI_LANGUAGES), format_func=UI_LANGUAGES.get)
        if st.form_submit_button(t("save", lang)):
            try:
                if len(password) < 8:
                    raise QAError(t("new_user_password_short", lang))
                store.create_user(username.strip(), password, role, agent_id=agent_id.strip() or None,
                                  display_name=name.strip() or None, language=ulang, created_by=principal.username)
                st.success(t("saved", lang))
                st.rerun()
            except QAError as e:
                st.error(str(e))
