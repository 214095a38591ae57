"""Operator: their own trend, strongest and weakest competences, coaching report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...store import queries as q
from ..app import context
from ..i18n import t
from ..report import operator_report_html
from .common import audited_download, competence_rates
from .trends import competence_columns


def render_trend() -> None:
    """An operator's own page: score over time, strongest and weakest competences, report."""
    store, principal, lang = context()
    st.title(t("page_my_trend", lang))
    if not principal.agent_id:
        st.info(t("no_calls", lang))
        return
    f = q.CallFilters(agent_id=principal.agent_id)  # always the signed-in operator's own calls
    trend = pd.DataFrame(q.agent_trend(store, principal.agent_id, "week", f))
    if trend.empty:
        st.info(t("no_calls", lang))
        return
    st.subheader(t("score_over_time", lang))
    st.line_chart(trend.set_index("period")["avg_score"], x_label=t("period_week", lang).capitalize(),
                  y_label=t("avg_score", lang))
    comp = competence_rates(q.heatmap_agents_criteria(store, f), q.criterion_competences(store)).dropna()
    if not comp.empty:
        ranked = comp.sort_values("pass_rate")
        c1, c2 = st.columns(2)
        c1.subheader(t("strongest", lang))
        c1.dataframe(ranked.tail(3)[::-1], hide_index=True, column_config=competence_columns(lang))
        c2.subheader(t("weakest", lang))
        c2.dataframe(ranked.head(3), hide_index=True, column_config=competence_columns(lang))
    audited_download(store, principal, t("report", lang), operator_report_html(store, principal.agent_id, lang),
                     f"feedback-{principal.agent_id}.html", "text/html", key="dl_report",
                     details={"format": "html", "report": "operator", "agent_id": principal.agent_id})
