"""Trends per team and agent: score over time, pass rate per criterion and competence, heat map."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ...store import queries as q
from ..app import context, guard
from ..i18n import t
from ..report import operator_report_html
from .common import audited_download, competence_rates


def render() -> None:
    """The trends page (supervisors, QA leads, admins)."""
    store, principal, lang = context()
    guard(principal, "trends")
    st.title(t("page_trends", lang))
    c1, c2, c3 = st.columns(3)
    teams = c1.multiselect(t("team", lang), q.distinct_values(store, "team"), key="tr_team")
    agents = c2.multiselect(t("agent", lang), q.distinct_values(store, "agent_id"), key="tr_agent")
    period = c3.selectbox("⏱", ["week", "day", "month"], key="tr_period")
    f = q.CallFilters(team=teams or None, agent_id=agents or None)

    st.subheader(t("score_over_time", lang))
    tt = pd.DataFrame(q.team_trend(store, period, f))
    if not tt.empty:
        st.altair_chart(alt.Chart(tt).mark_line(point=True).encode(
            x=alt.X("period:T", title=None), y=alt.Y("avg_score:Q", title=t("score", lang), scale=alt.Scale(domain=[0, 100])),
            color="team:N", tooltip=["team", "period", "calls", "avg_score"]), use_container_width=True)
    for agent in agents:
        at = pd.DataFrame(q.agent_trend(store, agent, period, f))
        if not at.empty:
            st.caption(f"{t('agent', lang)} {agent}")
            st.line_chart(at.set_index("period")["avg_score"])
        # the coaching report of this operator, for the supervisor's feedback session
        audited_download(store, principal, f"{t('report', lang)} — {agent}", operator_report_html(store, agent, lang),
                         f"feedback-{agent}.html", "text/html", key=f"dl_report_{agent}",
                         details={"format": "html", "report": "operator", "agent_id": agent})

    st.subheader(t("pass_rate_criterion", lang))
    pr = q.pass_rate_by_criterion_team(store, f)
    prdf = pd.DataFrame(pr)
    if not prdf.empty:
        st.altair_chart(alt.Chart(prdf).mark_bar().encode(
            y=alt.Y("criterion_id:N", title=None), x=alt.X("pass_rate:Q", title="%", scale=alt.Scale(domain=[0, 100])),
            color="team:N", yOffset="team:N", tooltip=["criterion_id", "team", "passed", "failed", "pass_rate"]),
            use_container_width=True)
        st.subheader(t("pass_rate_competence", lang))
        st.dataframe(competence_rates(pr, q.criterion_competences(store)), hide_index=True)

    st.subheader(t("heatmap", lang))
    hm = pd.DataFrame(q.heatmap_agents_criteria(store, f))
    if not hm.empty:
        st.altair_chart(alt.Chart(hm).mark_rect().encode(
            x=alt.X("criterion_id:N", title=None), y=alt.Y("agent_id:N", title=None),
            color=alt.Color("pass_rate:Q", scale=alt.Scale(scheme="redyellowgreen", domain=[0, 100])),
            tooltip=["agent_id", "criterion_id", "passed", "failed", "pass_rate"]), use_container_width=True)
