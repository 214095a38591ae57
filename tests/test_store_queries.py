"""Dashboard queries on a synthetic store, checked against a brute-force count of the raw
criterion rows (so the rollups must stay exact through overrides and rescoring)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import select

from qa.model import CriterionResult, Evaluation, compute_score
from qa.store import open_store
from qa.store.queries import (
    CallFilters,
    agent_trend,
    call_detail,
    call_list,
    compliance_queue,
    heatmap_agents_criteria,
    pass_rate_by_criterion_team,
)
from qa.store.schema import Call, CriterionResultRow
from qa.store.synthetic import populate

from .pg import store_url  # noqa: F401  (fixture)

END = datetime(2026, 11, 29, 18, 0)


def brute(store, group, lo=None, hi=None, **dims):
    with store.session() as s:
        rows = s.execute(select(CriterionResultRow).where(CriterionResultRow.is_current)).scalars().all()
    c: Counter = Counter()
    for r in rows:
        if lo is not None and (r.started_at is None or r.started_at < lo):
            continue
        if hi is not None and (r.started_at is None or r.started_at >= hi):
            continue
        if any(getattr(r, k) != v for k, v in dims.items()) or r.result == "na":
            continue
        c[(tuple(getattr(r, g) for g in group), r.result)] += 1
    keys = sorted({k for k, _ in c})
    return {k: (c[(k, "pass")], c[(k, "fail")]) for k in keys}


def as_map(rows, group):
    return {tuple(r[g] for g in group): (r["passed"], r["failed"]) for r in rows}


@pytest.fixture
def store(store_url):  # noqa: F811
    st = open_store(store_url)
    with st.session() as s:
        assert populate(s, 400, seed=3, n_agents=12, days=200, end=END) == 400
    yield st
    st.close()


def test_pass_rates_match_raw_rows_through_overrides_and_rescore(store):
    g = ("criterion_id", "team")
    assert as_map(pass_rate_by_criterion_team(store), g) == brute(store, g)
    # change some results the ways the app does
    with store.session() as s:
        calls = s.scalars(select(Call.call_id).order_by(Call.id).limit(3)).all()
    store.override(calls[0], "riepilogo", "pass", reviewer="lead")
    store.override(calls[1], "saluto", "fail", reviewer="lead")
    ev = store.load_evaluation(calls[2])
    new = [CriterionResult(c.id, c.competence, "pass" if c.result != "na" else "na", c.weight) for c in ev.criteria]
    store.add_evaluation(calls[2], Evaluation(calls[2], ev.rubric, "v2", new, compute_score(new)))
    assert store.get_call(calls[2]).score == 100.0
    assert as_map(pass_rate_by_criterion_team(store), g) == brute(store, g)
    # date windows: whole months, days at both ends, a bound inside a day
    for lo, hi in [(datetime(2026, 7, 1), datetime(2026, 9, 1)), (datetime(2026, 6, 17), datetime(2026, 10, 3)),
                   (datetime(2026, 6, 17, 13, 30), datetime(2026, 10, 3, 9)), (None, datetime(2026, 8, 9)),
                   (datetime(2026, 8, 9, 0, 0, 1), None), (datetime(2026, 8, 9, 8), datetime(2026, 8, 9, 16))]:
        f = CallFilters(date_from=lo, date_to=hi)
        assert as_map(pass_rate_by_criterion_team(store, f), g) == brute(store, g, lo, hi), (lo, hi)
    team = "Fidelizzazione"
    h = ("agent_id", "criterion_id")
    f = CallFilters(team=team, date_from=date(2026, 6, 17), date_to=date(2026, 10, 2))
    assert as_map(heatmap_agents_criteria(store, f), h) == brute(store, h, datetime(2026, 6, 17),
                                                                  datetime(2026, 10, 3), team=team)


def test_call_list_filters_sort_and_paging(store):
    with store.session() as s:
        all_calls = s.scalars(select(Call)).all()
    rows, total = call_list(store, CallFilters(team="Vendite Zurigo", score_max=60), sort="-score", page=1,
                            page_size=10)
    expected = sorted([c for c in all_calls if c.team == "Vendite Zurigo" and c.score is not None
                       and c.score <= 60], key=lambda c: (-c.score, -c.id))
    assert total == len(expected) and [r["call_id"] for r in rows] == [c.call_id for c in expected[:10]]
    rows2, _ = call_list(store, CallFilters(team="Vendite Zurigo", score_max=60), sort="-score", page=2,
                         page_size=10)
    assert [r["call_id"] for r in rows2] == [c.call_id for c in expected[10:20]]
    rows, total = call_list(store, CallFilters(failed_criterion="riepilogo", language="it"), page_size=1000)
    with store.session() as s:
        fails = set(s.scalars(select(CriterionResultRow.call_pk).where(
            CriterionResultRow.is_current, CriterionResultRow.criterion_id == "riepilogo",
            CriterionResultRow.result == "fail")))
    assert {r["id"] for r in rows} == {c.id for c in all_calls if c.id in fails and c.language == "it"}
    assert total == len(rows)
    rows, total = call_list(store, CallFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 29)),
                            sort="started_at")
    assert all(datetime(2026, 11, 1) <= r["started_at"] < datetime(2026, 11, 30) for r in rows)
    assert [r["started_at"] for r in rows] == sorted(r["started_at"] for r in rows)
    with pytest.raises(ValueError):
        call_list(store, sort="password")


def test_trend_queue_and_detail(store):
    with store.session() as s:
        mine = s.scalars(select(Call).where(Call.agent_id == "A005")).all()
    trend = agent_trend(store, "A005", period="month")
    assert sum(p["calls"] for p in trend) == len(mine)
    months = Counter(c.started_at.strftime("%Y-%m-01") for c in mine)
    assert {p["period"]: p["calls"] for p in trend} == dict(months)
    weeks = agent_trend(store, "A005", period="week")
    assert all(date.fromisoformat(w["period"]).weekday() == 0 for w in weeks)
    rows, total = compliance_queue(store, page_size=500)
    with store.session() as s:
        flagged = s.scalars(select(Call.call_id).where(Call.compliance_flag)).all()
    assert total == len(flagged) and {r["call_id"] for r in rows} == set(flagged)
    assert all(r["critical_failed"] for r in rows)
    d = call_detail(store, rows[0]["call_id"])
    assert d["call"]["call_id"] == rows[0]["call_id"] and len(d["evaluation"]["criteria"]) == 11
    assert d["transcript"]["document"]["call_id"] == rows[0]["call_id"] and d["metrics"]["agent_wpm"] > 0
    assert call_detail(store, "nope") is None


def test_search_is_case_insensitive_substring_of_ids_and_names(store):
    with store.session() as s:
        all_calls = s.scalars(select(Call)).all()
    want = {c.call_id for c in all_calls if any("müller" in (v or "").casefold()
                                                for v in (c.call_id, c.agent_name, c.customer_name, c.file_name))}
    rows, total = call_list(store, CallFilters(search="  MÜLLER "), page_size=1000)
    assert want and {r["call_id"] for r in rows} == want and total == len(want)
    rows, total = call_list(store, CallFilters(search="syn-3-000012"), page_size=1000)
    assert total == 10 and all(r["call_id"].startswith("SYN-3-000012") for r in rows)
    assert call_list(store, CallFilters(search="%"))[1] == 0  # a literal %, not a wildcard
