"""Supervisor queues: compliance (critical criteria failed, open disputes), the calls whose result a
call model doubts (review), a random sample of N calls per agent per week for human review, and the
disputes raised by operators."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ...errors import StoreError
from ...store import queries as q
from ..app import context, guard
from ..i18n import t
from .common import md_escape


def _open_button(call_id: str, key: str) -> None:
    if st.button(f"{t('open_call', t_lang())} {call_id}", key=key, icon=":material/open_in_new:"):
        st.session_state["selected_call"] = call_id
        st.switch_page(st.session_state["_pages"]["call"], query_params={"call": call_id})


def queue_columns(lang: str) -> dict:
    """Column headers of the queue tables in the interface language (unknown columns keep theirs)."""
    from .calls import _columns

    cc = st.column_config
    return {**_columns(lang), "critical_failed": cc.NumberColumn(t("critical_failed", lang)),
            "agent_id": cc.TextColumn(t("agent_id", lang))}


def t_lang() -> str:
    """The interface language of this session."""
    return st.session_state.get("ui_lang", "it")


def render_compliance() -> None:
    """The compliance queue: calls with a failed critical criterion or an open dispute."""
    store, principal, lang = context()
    guard(principal, "queues")
    st.title(t("page_compliance", lang))
    rows, total = q.compliance_queue(store, page=1, page_size=200)
    st.caption(t("n_calls", lang, n=total))
    if not rows:
        st.info(t("no_calls", lang))
        return
    df = pd.DataFrame(rows)[["call_id", "started_at", "agent_name", "team", "score", "critical_failed", "open_disputes"]]
    st.dataframe(df, hide_index=True, column_config=queue_columns(lang))
    pick = st.selectbox(t("open_call", lang), [r["call_id"] for r in rows], key="cq_pick",
                        placeholder=t("choose_one", lang))
    _open_button(pick, "cq_open")


def render_review() -> None:
    """The review queue: calls whose result a call model doubts (``second_opinion``)."""
    store, principal, lang = context()
    guard(principal, "queues")
    st.title(t("page_review", lang))
    st.caption(t("review_queue_help", lang))
    from ...store.doubts import review_queue

    rows, total = review_queue(store, page=1, page_size=200)
    st.caption(t("n_calls", lang, n=total))
    if not rows:
        st.info(t("no_calls", lang))
        return
    df = pd.DataFrame(rows)
    df["doubted"] = df["doubted"].map(", ".join)
    st.dataframe(df[["call_id", "started_at", "agent_name", "team", "score", "doubted"]], hide_index=True,
                 column_config={**queue_columns(lang), "doubted": st.column_config.TextColumn(t("doubted", lang))})
    pick = st.selectbox(t("open_call", lang), [r["call_id"] for r in rows], key="rq_pick",
                        placeholder=t("choose_one", lang))
    _open_button(pick, "rq_open")


def render_sample() -> None:
    """The weekly review sample: N random (but stable) calls per agent."""
    store, principal, lang = context()
    guard(principal, "queues")
    st.title(t("page_sample", lang))
    today = dt.date.today()
    c1, c2 = st.columns(2)
    day = c1.date_input(t("week_of", lang), today - dt.timedelta(days=today.weekday()), key="sample_week",
                        format="DD.MM.YYYY")
    n = c2.number_input(t("per_agent_week", lang), 1, 20, 3, key="sample_n")
    week = day - dt.timedelta(days=day.weekday())
    rows = q.review_sample(store, week, int(n))  # N calls per agent, the same for every supervisor
    st.caption(f"{week:%d.%m.%Y} → {week + dt.timedelta(days=6):%d.%m.%Y} · {t('n_calls', lang, n=len(rows))}")
    if not rows:
        st.info(t("no_calls", lang))
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=queue_columns(lang))
    pick = st.selectbox(t("open_call", lang), [r["call_id"] for r in rows], key="sample_pick",
                        placeholder=t("choose_one", lang))
    _open_button(pick, "sample_open")


def render_disputes() -> None:
    """Open disputes, each to accept (the result is overridden) or reject."""
    store, principal, lang = context()
    guard(principal, "decide_dispute")
    st.title(t("page_disputes", lang))
    disputes = q.dispute_queue(store, "open")
    if not disputes:
        st.info(t("no_disputes", lang))
        return
    for d in disputes:
        cid = d["call_id"] or "?"
        with st.container(border=True):
            st.markdown(f"**{md_escape(cid)}** · {md_escape(d['criterion_id'])} · {md_escape(d['raised_by'])} · "
                        f"{d['created_at']:%Y-%m-%d %H:%M}")
            st.markdown(md_escape(d["comment"]))  # the operator's words, never links or images
            c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
            note = c1.text_input(t("comment", lang), key=f"dn-{d['id']}")
            for col, accepted, key in ((c2, True, f"da-{d['id']}"), (c3, False, f"dr-{d['id']}")):
                if col.button(t("accept" if accepted else "reject", lang), key=key):
                    try:
                        store.decide_dispute(d["id"], accepted, principal.username, note or None)
                    except StoreError as e:  # decided meanwhile by someone else: one line
                        st.error(str(e))
                    else:
                        st.rerun()
            with c4:
                _open_button(cid, f"do-{d['id']}")
