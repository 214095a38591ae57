"""The store's named reads that replaced raw queries elsewhere (rescore candidates and progress,
human reviews as labels, the dashboard's competences / weekly sample / dispute queue, call
metrics, synthetic history), on real rows in a SQLite file and a PostgreSQL schema."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

import pytest

from qa.errors import StoreError
from qa.store import open_store
from qa.store.labels import latest_reviews
from qa.store.queries import criterion_competences, dispute_queue, review_sample
from qa.store.rescoring import current_rubric_versions, rescore_progress
from qa.store.synthetic import populate_store, synthetic_calls

from .pg import store_url  # noqa: F401  (fixture)
from .test_store import LUNA_FILES, RESULTS, evaluation, luna, record


def _ids(*ns: int) -> list[str]:
    return [LUNA_FILES[n - 1].stem for n in ns]


@pytest.fixture
def store(store_url):  # noqa: F811
    st = open_store(store_url)
    yield st
    st.close()


def test_current_rubric_versions_and_rescore_progress(store):
    c1, c2, c3, c4, c5, c6 = _ids(1, 2, 3, 4, 5, 6)
    t1 = luna(1, started_at="2026-11-02T10:15:00+01:00")
    store.add_call(record(t1, evaluation(t1, RESULTS, version="v1")))
    t2 = luna(2, started_at="2026-11-20T10:15:00+01:00")
    store.add_call(record(t2, evaluation(t2, RESULTS, version="v1")))
    store.add_evaluation(c2, evaluation(t2, RESULTS, version="v2"))  # rescored: v2 is current, v1 history
    t3 = luna(3, started_at="2026-11-25T08:00:00Z")
    store.add_call(record(t3))  # transcribed, not scored
    t4 = luna(4, started_at="2026-11-05T08:00:00Z")
    ev4 = evaluation(t4, RESULTS, version="v1")
    ev4.rubric = "acquisizione"
    store.add_call(record(t4, ev4))
    t5 = luna(5, started_at="")  # no start time
    store.add_call(record(t5, evaluation(t5, RESULTS, version="v1")))
    t6 = luna(6, started_at="2026-11-03T08:00:00Z")
    ev6 = evaluation(t6, RESULTS, version="v0")
    ev6.rubric = "acquisizione"
    store.add_call(record(t6, ev6))
    store.add_evaluation(c6, evaluation(t6, RESULTS, version="v1"))  # now on assistenza: its history is not

    assert current_rubric_versions(store) == {
        c1: ("assistenza", "v1"), c2: ("assistenza", "v2"), c3: (None, None), c4: ("acquisizione", "v1"),
        c5: ("assistenza", "v1"), c6: ("assistenza", "v1")}
    assert current_rubric_versions(store, since=datetime(2026, 11, 10)) == {
        c2: ("assistenza", "v2"), c3: (None, None)}
    # an aware bound is compared in UTC: c2 started 09:15 UTC
    cet = timezone(timedelta(hours=1))
    assert c2 in current_rubric_versions(store, since=datetime(2026, 11, 20, 10, 15, tzinfo=cet))
    assert c2 not in current_rubric_versions(store, since=datetime(2026, 11, 20, 10, 16, tzinfo=cet))
    assert current_rubric_versions(store, rubric="assistenza") == {
        c1: ("assistenza", "v1"), c2: ("assistenza", "v2"), c5: ("assistenza", "v1"), c6: ("assistenza", "v1")}
    assert current_rubric_versions(store, rubric="assistenza", since=datetime(2026, 11, 1)) == {
        c1: ("assistenza", "v1"), c2: ("assistenza", "v2"), c6: ("assistenza", "v1")}
    assert current_rubric_versions(store, rubric="nessuna") == {}
    with store.session() as s:  # an open session works as the source too
        assert current_rubric_versions(s, rubric="acquisizione") == {c4: ("acquisizione", "v1")}

    assert rescore_progress(store, "assistenza", "v2") == (1, 4)
    assert rescore_progress(store, "assistenza", "v1") == (3, 4)
    assert rescore_progress(store, "acquisizione", "v1") == (1, 1)
    assert rescore_progress(store, "nessuna", "v1") == (0, 0)


def test_latest_reviews_newest_per_call_and_criterion(store):
    c1, c2 = _ids(1, 2)
    for n in (1, 2):
        t = luna(n)
        store.add_call(record(t, evaluation(t, RESULTS)))
    store.override(c1, "riepilogo", "pass", "anna", "ha riassunto")
    store.override(c1, "saluto", "fail", "anna")
    store.override(c1, "riepilogo", "fail", "bruno", "non proprio")
    store.override(c2, "comprensione", "fail", "anna")
    t2 = luna(2)
    store.add_evaluation(c2, evaluation(t2, RESULTS, version="2026-12-01.1"))  # the review above is carried over
    store.override(c2, "empatia", "fail", "carla")

    rows = latest_reviews(store)
    assert [(r["call_id"], r["criterion_id"], r["new_result"], r["auto_result"]) for r in rows] == [
        (c1, "riepilogo", "fail", "fail"), (c1, "saluto", "fail", "pass"), (c2, "comprensione", "fail", "pass"),
        (c2, "empatia", "fail", "na")]
    first = rows[0]
    assert first["language"] == luna(1).language and first["feedback"] == "manca" and first["evidence"] == []
    assert rows[1]["evidence"][0]["text"] == luna(1).segments[0].text  # the tool's evidence of its pass
    assert rows[0]["review_id"] > rows[1]["review_id"]  # the newest review of riepilogo, not the first

    current = latest_reviews(store, current_only=True)  # the carried-over review counts for the new evaluation
    assert [(r["call_id"], r["criterion_id"]) for r in current] == [
        (c1, "riepilogo"), (c1, "saluto"), (c2, "comprensione"), (c2, "empatia")]
    assert [(r["call_id"], r["criterion_id"]) for r in latest_reviews(store, criteria=["comprensione", "riepilogo"])
            ] == [(c1, "riepilogo"), (c2, "comprensione")]
    stamps = sorted(r["reviewed_at"] for r in rows)
    assert latest_reviews(store, since=stamps[-1] + timedelta(seconds=1)) == []
    assert len(latest_reviews(store, since=stamps[0])) == 4


def test_criterion_competences_over_stored_results(store):
    t1, t2 = luna(1), luna(2)
    store.add_call(record(t1, evaluation(t1, RESULTS)))
    ev2 = evaluation(t2, RESULTS)
    ev2.criteria[0].competence = "2.1,3.2"  # saluto, in a later rubric version, counts for two competences
    store.add_call(record(t2, ev2))
    assert criterion_competences(store) == {**{c: "2.1" for c in RESULTS}, "saluto": "2.1,3.2"}


def test_review_sample_is_n_per_agent_of_the_week_and_stable(store):
    week = date(2026, 11, 2)  # a Monday
    plan = {1: ("A1", "2026-11-02T08:00:00Z"), 2: ("A1", "2026-11-04T08:00:00Z"), 3: ("A1", "2026-11-08T23:59:00Z"),
            4: ("A2", "2026-11-03T08:00:00Z"), 5: ("A2", "2026-11-09T00:00:00Z"),  # next week
            6: ("", "2026-11-03T09:00:00Z"),  # no agent
            7: ("A0", "2026-11-01T23:59:59Z")}  # the week before
    for n, (agent, when) in plan.items():
        store.add_call(record(luna(n, agent_id=agent, started_at=when)))
    a1 = _ids(1, 2, 3)
    rows = review_sample(store, week, 2)
    assert rows == review_sample(store, week, 2)  # the same sample every time
    assert [r["agent_id"] for r in rows] == ["A1", "A1", "A2"]
    first_by_hash = sorted(a1, key=lambda cid: hashlib.sha1(f"{week}:{cid}".encode()).hexdigest())[:2]
    assert [r["call_id"] for r in rows] == first_by_hash + _ids(4)
    assert set(rows[0]) == {"call_id", "agent_id", "agent_name", "team", "started_at", "score"}
    assert rows[2]["started_at"] == datetime(2026, 11, 3, 8, 0) and rows[2]["agent_name"] == "Laura Bernasconi"
    assert [r["call_id"] for r in review_sample(store, week, 5)] == \
        sorted(a1, key=lambda cid: hashlib.sha1(f"{week}:{cid}".encode()).hexdigest()) + _ids(4)
    assert [r["call_id"] for r in review_sample(store, week + timedelta(days=7), 5)] == _ids(5)


def test_dispute_queue_and_call_metrics(store):
    from qa.analysis.metrics import compute_metrics

    c1, c2 = _ids(1, 2)
    t1, t2 = luna(1), luna(2)
    metrics = compute_metrics(t1, with_sentiment=False)
    store.add_call(record(t1, evaluation(t1, RESULTS), metrics=metrics))
    store.add_call(record(t2, evaluation(t2, RESULTS)))
    store.create_user("op17", "pw", "operator", agent_id="A17")
    d1 = store.open_dispute(c1, "riepilogo", "Ho riassunto", raised_by="op17")
    d2 = store.open_dispute(c2, "saluto", "Ho salutato", raised_by="op17")
    queue = dispute_queue(store)
    assert [(d["id"], d["call_id"], d["criterion_id"], d["raised_by"], d["comment"], d["status"]) for d in queue] == [
        (d1.id, c1, "riepilogo", "op17", "Ho riassunto", "open"), (d2.id, c2, "saluto", "op17", "Ho salutato", "open")]
    assert queue[0]["created_at"] <= queue[1]["created_at"]
    store.decide_dispute(d1.id, True, "lead")
    assert [d["id"] for d in dispute_queue(store)] == [d2.id]
    [accepted] = dispute_queue(store, "accepted")
    assert (accepted["call_id"], accepted["decided_by"]) == (c1, "lead")

    assert store.load_metrics(c1) == metrics
    assert store.load_metrics(c2) is None
    with pytest.raises(StoreError, match="no call"):
        store.load_metrics("nessuna")


def test_synthetic_history_counted_and_added_in_one_transaction(store):
    assert synthetic_calls(store) == 0
    store.add_call(record(luna(1)))
    assert populate_store(store, 25, seed=1, n_agents=3, days=10) == 25
    assert synthetic_calls(store) == 25 and store.count_calls() == 26
