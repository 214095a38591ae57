"""Call list: filters, sorting, pagination over the whole store, CSV/Excel download (formula-like
text escaped, every download audited). Operators see only their own calls (the filter is forced
server-side by ``scope_filters``)."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import streamlit as st

from ...config import CALL_TYPES, LANGUAGES
from ...store import queries as q
from ...store.export import escape_frame, write_csv
from ..access import can, scope_filters
from ..app import context
from ..i18n import t
from .common import ICON, audited_download, lang_name

PAGE_SIZE = 50
CRITERIA = ("saluto", "nome_cliente", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione",
            "congedo", "protezione_dati", "identificazione", "empatia", "proposta_disdetta")
OPEN_KEY = "_open_from_list"  # the call a click in the table chose
TABLE_GEN = "_call_table_gen"
SORTS = ("-started_at", "started_at", "score", "-score", "-n_fail", "agent", "team", "-duration")


def _filters(store, principal, lang: str) -> q.CallFilters:
    choose = t("choose_options", lang)
    with st.expander(t("filters", lang), expanded=False, icon=":material/filter_list:"):
        c1, c2, c3 = st.columns(3)
        dates = c1.date_input(t("date_range", lang), value=(), key="f_dates", format="DD.MM.YYYY")
        teams = c2.multiselect(t("team", lang), q.distinct_values(store, "team"), key="f_team", placeholder=choose)
        agents = []
        if can(principal, "view_all_calls"):
            agents = c3.multiselect(t("agent", lang), q.distinct_values(store, "agent_id"), key="f_agent",
                                    placeholder=choose)
        c4, c5, c6 = st.columns(3)
        types = c4.multiselect(t("call_type", lang), CALL_TYPES, key="f_type", placeholder=choose)
        langs = c5.multiselect(t("call_language", lang), LANGUAGES, key="f_lang", placeholder=choose,
                               format_func=lambda c: lang_name(c, lang))
        lo, hi = c6.slider(t("score_range", lang), 0, 100, (0, 100), key="f_score")
        c7, c8, c9 = st.columns(3)
        failed = c7.selectbox(t("failed_criterion", lang), ("",) + CRITERIA, key="f_failed",
                              format_func=lambda c: c or t("any", lang), placeholder=t("choose_one", lang))
        compliance = c8.checkbox(t("compliance_only", lang), key="f_compliance")
        search = c9.text_input(t("search", lang), key="f_search", icon=ICON["search"])
    date_from = dates[0] if len(dates) >= 1 else None
    date_to = dates[1] if len(dates) == 2 else None
    return q.CallFilters(
        date_from=date_from, date_to=date_to, team=teams or None, agent_id=agents or None,
        call_type=types or None, language=langs or None,
        score_min=lo if lo > 0 else None, score_max=hi if hi < 100 else None,
        failed_criterion=failed or None, compliance=True if compliance else None, search=search or None)


def _frame(rows: list[dict]) -> pd.DataFrame:
    cols = ["call_id", "started_at", "agent_name", "team", "call_type", "language", "score", "compliance_flag",
            "n_fail", "open_disputes", "duration"]
    df = pd.DataFrame(rows, columns=[c for c in cols if not rows or c in rows[0]])
    return df


def _columns(lang: str) -> dict:
    cc = st.column_config
    return {
        "call_id": cc.TextColumn(t("call_id", lang)),
        "started_at": cc.DatetimeColumn(t("started_at", lang), format="YYYY-MM-DD HH:mm"),
        "agent_name": cc.TextColumn(t("agent", lang)),
        "team": cc.TextColumn(t("team", lang)),
        "call_type": cc.TextColumn(t("call_type", lang)),
        "language": cc.TextColumn(t("call_language", lang)),
        "score": cc.ProgressColumn(t("score", lang), min_value=0, max_value=100, format="%.0f"),
        "compliance_flag": cc.CheckboxColumn(t("compliance", lang)),
        "n_fail": cc.NumberColumn(t("n_fail", lang)),
        "open_disputes": cc.NumberColumn(t("open_disputes", lang)),
        "duration": cc.NumberColumn(t("duration", lang), format="%.0f"),
    }


def all_rows(store, filters: q.CallFilters, sort: str, limit: int = 100_000) -> list[dict]:
    """Every call matching the filters (up to ``limit``), page by page, for the downloads."""
    out, page = [], 1
    while len(out) < limit:
        rows, total = q.call_list(store, filters, sort=sort, page=page, page_size=1000)
        out += rows
        if not rows or len(out) >= total:
            break
        page += 1
    return out[:limit]


def to_excel(df: pd.DataFrame) -> bytes:
    """The table as an .xlsx file (time zones dropped: Excel has none; text a spreadsheet would
    evaluate, such as ``=...``, gets a leading quote and stays a text cell)."""
    buf = io.BytesIO()
    df = escape_frame(df)
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = df[c].dt.tz_localize(None) if getattr(df[c].dt, "tz", None) else df[c]
    df.to_excel(buf, index=False, sheet_name="chiamate")
    return buf.getvalue()


def export_files(rows: list[dict]) -> tuple[bytes, bytes]:
    """(CSV bytes, Excel bytes) of the list's rows, as the download buttons offer them."""
    df = _frame(rows)
    return write_csv(df).encode("utf-8"), to_excel(df)


def _open(call_id: str) -> None:
    """Go to the call page of ``call_id`` (its URL carries the id: reload and share keep it)."""
    st.session_state["selected_call"] = call_id
    st.switch_page(st.session_state.get("_pages", {}).get("call", "call"), query_params={"call": call_id})


def render() -> None:
    """The call list page (or the call page, for a deep link with ``?call=``)."""
    if st.query_params.get("call"):  # a deep link to one call, from the list page's URL
        from .detail import render as render_detail

        return render_detail()
    store, principal, lang = context()
    target = st.session_state.pop(OPEN_KEY, None)
    if target:  # a row was clicked in the previous run (``_picked``)
        _open(target)
    own_only = not can(principal, "view_all_calls")
    st.title(t("page_my_calls" if own_only else "page_calls", lang))
    filters = q.CallFilters(**scope_filters(principal, _filters(store, principal, lang).__dict__))
    c1, c2 = st.columns([3, 1])
    sort = c1.selectbox(t("sort_by", lang), SORTS, key="sort", format_func=lambda k: t("sort_" + k, lang))
    # one query gives the page and the total; only a page past the end (filters narrowed) asks again
    page = int(st.session_state.get("page", 1))
    rows, total = q.call_list(store, filters, sort=sort, page=page, page_size=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        st.session_state["page"] = page = pages
        rows, total = q.call_list(store, filters, sort=sort, page=page, page_size=PAGE_SIZE)
    c2.number_input(f"{t('page', lang)} (1–{pages})", 1, pages, key="page")
    st.caption(t("n_calls", lang, n=f"{total:,}".replace(",", "'")))
    if not rows:
        st.info(t("no_calls", lang))
        return
    df = _frame(rows)
    ids = [r["call_id"] for r in rows]
    # one click on a row (its marker or any cell) opens the call: the selection callback runs
    # before the next script run, which switches page. The table's key changes with each
    # opening, so coming back to the list shows no stale selection (that would open it again).
    gen = int(st.session_state.get(TABLE_GEN, 0))
    table_key = f"call_table::{gen}"

    def _picked() -> None:
        sel = (st.session_state.get(table_key) or {}).get("selection") or {}
        picked = list(sel.get("rows") or []) + [c[0] for c in sel.get("cells") or []]
        if picked and 0 <= picked[0] < len(ids):
            st.session_state[OPEN_KEY] = ids[picked[0]]
            st.session_state[TABLE_GEN] = gen + 1

    st.caption(t("click_to_open", lang))
    shown = df.assign(**{c: df[c].fillna("") for c in ("team", "call_type", "agent_name") if c in df})
    if "language" in shown:
        shown["language"] = shown["language"].map(lambda c: lang_name(c, lang) if isinstance(c, str) else "")
    st.dataframe(shown, hide_index=True, on_select=_picked, selection_mode=["single-row", "single-cell"],
                 key=table_key, column_config=_columns(lang))
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox(t("open_call", lang), ids, index=0, key="pick_call", placeholder=t("choose_one", lang))
    if c2.button(t("open_call", lang), key="open_call_btn", icon=ICON["open"]):
        _open(pick)

    c1, c2, _ = st.columns([1, 1, 3])
    if c1.button(t("download_csv", lang) + " / " + t("download_xlsx", lang), key="prepare_export"):
        full = all_rows(store, filters, sort)
        st.session_state["export"] = (*export_files(full), len(full))
    if "export" in st.session_state:
        csv_bytes, xlsx, n_rows = st.session_state["export"]
        stamp = dt.date.today().isoformat()
        details = {"rows": n_rows, "filters": {k: str(v) for k, v in filters.__dict__.items() if v not in (None, [])}}
        with c1:
            audited_download(store, principal, t("download_csv", lang), csv_bytes, f"chiamate-{stamp}.csv",
                             "text/csv", key="dl_csv", details={"format": "csv", **details})
        with c2:
            audited_download(store, principal, t("download_xlsx", lang), xlsx, f"chiamate-{stamp}.xlsx",
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx",
                             details={"format": "xlsx", **details})
