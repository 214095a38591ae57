"""Supervisor queues: compliance (critical criteria failed, open disputes), a random sample of
N calls per agent per week for human review, and the disputes raised by operators."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st
from sqlalchemy import select

from ...store import queries as q
from ...store.schema import Call
from ..app import context, guard
from ..i18n import t


def _open_button(call_id: str, key: str) -> None:
    if st.button(f"{t('open_call', t_lang())} {call_id}", key=key):
        st.session_state["selected_call"] = call_id
        st.switch_page(st.session_state["_pages"]["call"], query_params={"call": call_id})


def t_lang() -> str:
    return st.session_state.get("ui_lang", "it")


def render_compliance() -> None:
    store, principal, lang = context()
    guard(principal, "queues")
    st.title(t("page_compliance", lang))
    rows, total = q.compliance_queue(store, page=1, page_size=200)
    st.caption(t("n_calls", lang, n=total))
    if not rows:
        st.info(t("no_calls", lang))
        return
    df = pd.DataFrame(rows)[["call_id", "started_at", "agent_name", "team", "score", "critical_failed", "open_disputes"]]
    st.dataframe(df, hide_index=True)
    pick = st.selectbox(t("open_call", lang), [r["call_id"] for r in rows], key="cq_pick")
    _open_button(pick, "cq_open")


def sample_calls(store, week_start: dt.date, per_agent: int) -> list[dict]:
    """N calls per agent in the ISO week starting ``week_start``, chosen by a stable hash, so the
    sample is random but the same for every supervisor who opens it."""
    lo = dt.datetime.combine(week_start, dt.time())
    hi = lo + dt.timedelta(days=7)
    with store.session() as s:
        rows = s.execute(select(Call.call_id, Call.agent_id, Call.agent_name, Call.team, Call.started_at, Call.score)
                         .where(Call.started_at >= lo, Call.started_at < hi, Call.agent_id.is_not(None))).all()
    by_agent: dict[str, list] = {}
    for r in rows:
        by_agent.setdefault(r.agent_id, []).append(r)
    out = []
    for agent, calls in sorted(by_agent.items()):
        calls.sort(key=lambda r: hashlib.sha1(f"{week_start}:{r.call_id}".encode()).hexdigest())
        out += [dict(r._mapping) for r in calls[:per_agent]]
    return out


def render_sample() -> None:
    store, principal, lang = context()
    guard(principal, "queues")
    st.title(t("page_sample", lang))
    today = dt.date.today()
    c1, c2 = st.columns(2)
    day = c1.date_input(t("date_range", lang), today - dt.timedelta(days=today.weekday()), key="sample_week")
    n = c2.number_input(t("per_agent_week", lang), 1, 20, 3, key="sample_n")
    week = day - dt.timedelta(days=day.weekday())
    rows = sample_calls(store, week, int(n))
    st.caption(f"{week.isoformat()} → {(week + dt.timedelta(days=6)).isoformat()} · {t('n_calls', lang, n=len(rows))}")
    if not rows:
        st.info(t("no_calls", lang))
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    pick = st.selectbox(t("open_call", lang), [r["call_id"] for r in rows], key="sample_pick")
    _open_button(pick, "sample_open")


def render_disputes() -> None:
    store, principal, lang = context()
    guard(principal, "decide_dispute")
    st.title(t("page_disputes", lang))
    disputes = store.disputes("open")
    if not disputes:
        st.info(t("no_disputes", lang))
        return
    with store.session() as s:
        call_ids = dict(s.execute(select(Call.id, Call.call_id).where(Call.id.in_([d.call_pk for d in disputes]))).all())
    for d in disputes:
        cid = call_ids.get(d.call_pk, "?")
        with st.container(border=True):
            st.markdown(f"**{cid}** · {d.criterion_id} · {d.raised_by} · {d.created_at:%Y-%m-%d %H:%M}")
            st.write(d.comment)
            c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
            note = c1.text_input(t("comment", lang), key=f"dn-{d.id}")
            if c2.button(t("accept", lang), key=f"da-{d.id}"):
                store.decide_dispute(d.id, True, principal.username, note or None)
                st.rerun()
            if c3.button(t("reject", lang), key=f"dr-{d.id}"):
                store.decide_dispute(d.id, False, principal.username, note or None)
                st.rerun()
            with c4:
                _open_button(cid, f"do-{d.id}")
