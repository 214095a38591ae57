"""Admin: accounts and roles (the same operations as `qa users`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...errors import QAError
from ..app import context, guard
from ..i18n import UI_LANGUAGES, t


def render() -> None:
    """The accounts page (admins): list users and add one."""
    store, principal, lang = context()
    guard(principal, "manage_users")
    st.title(t("page_users", lang))
    users = store.users()
    st.dataframe(pd.DataFrame([{"username": u.username, "role": u.role, "agent_id": u.agent_id,
                                "name": u.display_name, "language": u.language, "active": u.active}
                               for u in users]), hide_index=True)
    with st.form("add_user"):
        st.markdown(f"**{t('add_user', lang)}**")
        c1, c2, c3 = st.columns(3)
        username = c1.text_input(t("username", lang))
        password = c2.text_input(t("password", lang), type="password")
        role = c3.selectbox(t("role", lang), ["operator", "supervisor", "qa_lead", "admin"])
        c4, c5, c6 = st.columns(3)
        agent_id = c4.text_input("agent_id")
        name = c5.text_input("Nome / Name")
        ulang = c6.selectbox(t("language", lang), list(UI_LANGUAGES))
        if st.form_submit_button(t("save", lang)):
            try:
                if len(password) < 8:
                    raise QAError("password: at least 8 characters")
                store.create_user(username.strip(), password, role, agent_id=agent_id.strip() or None,
                                  display_name=name.strip() or None, language=ulang, created_by=principal.username)
                st.success(t("saved", lang))
                st.rerun()
            except QAError as e:
                st.error(str(e))
