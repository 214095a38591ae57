"""Trends per team and agent: score over time, pass rate per criterion as a heat map (criteria x
weeks, or criteria x teams) and per competence, agents x criteria heat map."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ...store import queries as q
from ..app import context, guard
from ..i18n import t
from ..report import operator_report_html
from .common import audited_download, competence_rates

PERIODS = ("week", "day", "month")
WINDOW = {"week": 12, "day": 31, "month": 12}  # columns of the criteria x periods heat map


def heatmap_frame(store, by: str, period: str, filters: q.CallFilters) -> pd.DataFrame:
    """The data of the per-criterion heat map: one row per criterion x column (a period's first
    day, or a team), with passed, failed and pass rate; from the store's rollup queries."""
    if by == "team":
        rows = q.pass_rate_by_criterion_team(store, filters)
        return pd.DataFrame(rows, columns=["criterion_id", "team", "passed", "failed", "pass_rate"]) \
            .rename(columns={"team": "column"})
    rows = q.criterion_period_heatmap(store, period, filters, last=WINDOW[period])
    return pd.DataFrame(rows, columns=["criterion_id", "period", "passed", "failed", "pass_rate"]) \
        .rename(columns={"period": "column"})


def heatmap_chart(df: pd.DataFrame, lang: str, column_title: str, temporal: bool) -> alt.Chart:
    """Criteria (rows) x weeks or teams (columns), cells coloured by pass rate, red to green."""
    x = alt.X("column:O", title=column_title, sort=None,
              axis=alt.Axis(labelAngle=-45))
    rate = t("pass_rate_pct", lang)
    data = df.assign(n=df["passed"] + df["failed"])
    base = alt.Chart(data).encode(
        x=x, y=alt.Y("criterion_id:N", title=t("criterion", lang), sort=None),
        tooltip=[alt.Tooltip("criterion_id:N", title=t("criterion", lang)),
                 alt.Tooltip("column:O", title=column_title),
                 alt.Tooltip("pass_rate:Q", title=rate, format=".1f"),
                 alt.Tooltip("passed:Q", title=t("passed", lang)),
                 alt.Tooltip("failed:Q", title=t("failed", lang))])
    cells = base.mark_rect().encode(
        color=alt.Color("pass_rate:Q", title=rate, scale=alt.Scale(scheme="redyellowgreen", domain=[0, 100])))
    labels = base.mark_text(fontSize=10).encode(
        text=alt.Text("pass_rate:Q", format=".0f"),
        color=alt.condition("datum.pass_rate < 25 || datum.pass_rate > 85", alt.value("white"), alt.value("black")))
    n_rows = max(1, df["criterion_id"].nunique())
    return (cells + labels).properties(height=min(28 * n_rows + 40, 700))


def render() -> None:
    """The trends page (supervisors, QA leads, admins)."""
    store, principal, lang = context()
    guard(principal, "trends")
    st.title(t("page_trends", lang))
    choose = t("choose_options", lang)
    c1, c2, c3 = st.columns(3)
    teams = c1.multiselect(t("team", lang), q.distinct_values(store, "team"), key="tr_team", placeholder=choose)
    agents = c2.multiselect(t("agent", lang), q.distinct_values(store, "agent_id"), key="tr_agent",
                            placeholder=choose)
    period = c3.selectbox(t("period", lang), PERIODS, key="tr_period", format_func=lambda p: t(f"period_{p}", lang))
    f = q.CallFilters(team=teams or None, agent_id=agents or None)
    period_title = t(f"period_{period}", lang).capitalize()

    st.subheader(t("score_over_time", lang))
    tt = pd.DataFrame(q.team_trend(store, period, f))
    if not tt.empty:
        st.altair_chart(alt.Chart(tt).mark_line(point=True).encode(
            x=alt.X("period:T", title=period_title),
            y=alt.Y("avg_score:Q", title=t("avg_score", lang), scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("team:N", title=t("team", lang)),
            tooltip=[alt.Tooltip("team:N", title=t("team", lang)), alt.Tooltip("period:T", title=period_title),
                     alt.Tooltip("calls:Q", title=t("calls", lang)),
                     alt.Tooltip("avg_score:Q", title=t("avg_score", lang))]), width="stretch")
    for agent in agents:
        at = pd.DataFrame(q.agent_trend(store, agent, period, f))
        if not at.empty:
            st.caption(f"{t('agent', lang)} {agent}")
            st.altair_chart(alt.Chart(at).mark_line(point=True).encode(
                x=alt.X("period:T", title=period_title),
                y=alt.Y("avg_score:Q", title=t("avg_score", lang), scale=alt.Scale(domain=[0, 100]))),
                width="stretch")
        # the coaching report of this operator, for the supervisor's feedback session
        audited_download(store, principal, t("dl_report_for", lang, report=t("report", lang), agent=agent),
                         operator_report_html(store, agent, lang), f"feedback-{agent}.html", "text/html",
                         key=f"dl_report_{agent}", details={"format": "html", "report": "operator", "agent_id": agent})

    st.subheader(t("pass_rate_criterion", lang))
    by = st.segmented_control(t("heatmap_by", lang), ("period", "team"), key="tr_heat_by", default="period",
                              format_func=lambda b: period_title.lower() if b == "period" else t("by_team", lang))
    by = by or "period"
    hm = heatmap_frame(store, by, period, f)
    if by == "period":
        st.caption(t(f"last_{period}", lang, n=WINDOW[period]))
    if not hm.empty:
        title = period_title if by == "period" else t("team", lang)
        st.altair_chart(heatmap_chart(hm, lang, title, by == "period"), width="stretch")
    pr = q.pass_rate_by_criterion_team(store, f)
    if pr:
        st.subheader(t("pass_rate_competence", lang))
        st.dataframe(competence_rates(pr, q.criterion_competences(store)), hide_index=True,
                     column_config=competence_columns(lang))

    st.subheader(t("heatmap", lang))
    ha = pd.DataFrame(q.heatmap_agents_criteria(store, f))
    if not ha.empty:
        rate = t("pass_rate_pct", lang)
        st.altair_chart(alt.Chart(ha).mark_rect().encode(
            x=alt.X("criterion_id:N", title=t("criterion", lang)), y=alt.Y("agent_id:N", title=t("agent", lang)),
            color=alt.Color("pass_rate:Q", title=rate, scale=alt.Scale(scheme="redyellowgreen", domain=[0, 100])),
            tooltip=[alt.Tooltip("agent_id:N", title=t("agent", lang)),
                     alt.Tooltip("criterion_id:N", title=t("criterion", lang)),
                     alt.Tooltip("passed:Q", title=t("passed", lang)), alt.Tooltip("failed:Q", title=t("failed", lang)),
                     alt.Tooltip("pass_rate:Q", title=rate)]), width="stretch")


def competence_columns(lang: str) -> dict:
    """Column headers of a ``competence_rates`` table in the interface language."""
    cc = st.column_config
    return {"competence": cc.TextColumn(t("competence", lang)),
            "pass_rate": cc.NumberColumn(t("pass_rate_pct", lang), format="%.1f"),
            "n": cc.NumberColumn(t("n_results", lang))}
