"""The store on a real SQLite file and a real PostgreSQL schema (see tests/pg.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from qa.errors import StoreError
from qa.model import CriterionResult, Evaluation, Evidence, Transcript
from qa.store import CallRecord, head_revision, open_store
from qa.store.schema import Call, CriterionResultRow, EvaluationRow

from .pg import store_url  # noqa: F401  (fixture)

LUNA = Path("/work/shared/eval/luna")


LUNA_FILES = sorted(LUNA.glob("LUNA-*.json"))


def luna(n: int = 1, **metadata) -> Transcript:
    t = Transcript.load(LUNA_FILES[n - 1])
    t.metadata.update({"agent_id": "A17", "agent_name": "Laura Bernasconi", "team": "Assistenza Ticino",
                       "call_type": "assistenza", "started_at": "2026-11-02T10:15:00+01:00"}, **metadata)
    return t


def evaluation(t: Transcript, results: dict[str, str], version: str = "2026-11-29.1",
               critical: set[str] = frozenset()) -> Evaluation:
    seg = t.segments[0]
    crits = []
    for cid, res in results.items():
        ev = [Evidence(seg.speaker, seg.start, seg.end, seg.text)] if res == "pass" else []
        crits.append(CriterionResult(id=cid, competence="2.1", result=res, weight=1.0, evidence=ev,
                                     feedback="" if res != "fail" else "manca", critical=cid in critical))
    from qa.model import compute_score

    return Evaluation(call_id=t.call_id, rubric="assistenza", rubric_version=version, criteria=crits,
                      score=compute_score(crits), flags=[])


def record(t: Transcript, ev: Evaluation | None = None, **kw) -> CallRecord:
    checksum = hashlib.sha256(t.to_json().encode()).hexdigest()
    return CallRecord(checksum=checksum, transcript=t, evaluation=ev, file_name=f"{t.call_id}.json",
                      source_kind="transcript", **kw)


RESULTS = {"saluto": "pass", "comprensione": "pass", "riepilogo": "fail", "congedo": "pass", "empatia": "na"}


def test_open_store_creates_schema_at_head_and_reopens(store_url):
    store = open_store(store_url)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert {"calls", "transcripts", "evaluations", "criterion_results", "call_metrics", "reviews", "disputes",
                "users", "audit_log", "failures", "rubric_versions", "alembic_version"} <= tables
        with store.engine.connect() as c:
            assert c.execute(text("select version_num from alembic_version")).scalar() == head_revision()
        if store.dialect == "sqlite":
            with store.engine.connect() as c:
                assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()
    again = open_store(store_url)  # second open: already at head, nothing to do
    assert again.count_calls() == 0
    again.close()


def test_default_url_is_sqlite_file_in_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_DATABASE_URL", raising=False)
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    store = open_store()
    assert store.dialect == "sqlite"
    store.close()
    assert (tmp_path / "data" / "ascolto.db").is_file()


def test_bad_url_is_one_line_store_error(tmp_path):
    with pytest.raises(StoreError) as e:
        open_store("postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert "\n" not in str(e.value) and "cannot open the store" in str(e.value)


def test_add_call_stores_everything_once(store_url):
    store = open_store(store_url)
    t = luna(1, customer_name="Marco Rossi", crm_ticket="T-991")
    ev = evaluation(t, RESULTS)
    from qa.analysis.metrics import compute_metrics

    metrics = compute_metrics(t)
    rec = record(t, ev, metrics=metrics)
    pk = store.add_call(rec)
    assert pk is not None
    assert store.add_call(rec) is None  # same checksum: nothing added
    assert store.count_calls() == 1
    call = store.get_call(t.call_id)
    assert call.team == "Assistenza Ticino" and call.agent_id == "A17" and call.customer_name == "Marco Rossi"
    assert call.started_at == datetime(2026, 11, 2, 9, 15)  # stored as naive UTC
    assert call.extra["crm_ticket"] == "T-991"
    assert call.score == 75.0 and call.n_fail == 1 and call.status == "scored"
    assert store.load_transcript(t.call_id).to_dict() == t.to_dict()
    back = store.load_evaluation(t.call_id)
    assert [(c.id, c.result) for c in back.criteria] == list(RESULTS.items())
    assert back.criteria[0].evidence[0].text == t.segments[0].text
    with store.session() as s:
        m = s.get(Call, pk).metrics
        assert m.silence_ratio == metrics["non_talk_share"] and m.overtalk_seconds == metrics["overtalk"]["duration"]
        assert m.data["talk_time"] == metrics["talk_time"]
        crit = s.scalars(select(CriterionResultRow).where(CriterionResultRow.call_pk == pk)).all()
        assert {c.team for c in crit} == {"Assistenza Ticino"} and all(c.is_current for c in crit)
    store.close()


def test_same_call_id_different_recording_is_refused(store_url):
    store = open_store(store_url)
    t = luna(2)
    store.add_call(record(t))
    other = record(t)
    other.checksum = "0" * 64
    with pytest.raises(StoreError, match="already stored for a different recording"):
        store.add_call(other)
    assert store.count_calls() == 1
    store.close()


def test_rescore_keeps_history_and_moves_current(store_url):
    store = open_store(store_url)
    t = luna(3)
    store.add_call(record(t, evaluation(t, RESULTS)))
    new = evaluation(t, {**RESULTS, "riepilogo": "pass"}, version="2026-12-01.1")
    store.add_evaluation(t.call_id, new)
    hist = store.evaluation_history(t.call_id)
    assert [(h.rubric_version, h.is_current, h.score) for h in hist] == [
        ("2026-11-29.1", False, 75.0), ("2026-12-01.1", True, 100.0)]
    assert store.get_call(t.call_id).score == 100.0
    with store.session() as s:
        current = s.scalars(select(CriterionResultRow.evaluation_id).where(CriterionResultRow.is_current)).all()
        assert set(current) == {hist[1].id}
        assert s.scalar(select(EvaluationRow.rubric_version).where(EvaluationRow.is_current)) == "2026-12-01.1"
    store.close()


def test_override_recomputes_score_and_dispute_flow(store_url):
    store = open_store(store_url)
    t = luna(4)
    store.add_call(record(t, evaluation(t, RESULTS, critical={"riepilogo"})))
    assert store.get_call(t.call_id).compliance_flag is True  # a critical criterion failed
    store.create_user("lead", "s3cret!", "qa_lead", display_name="Lea")
    store.create_user("op17", "pw", "operator", agent_id="A17")

    d = store.open_dispute(t.call_id, "riepilogo", "Ho riassunto al minuto 3", raised_by="op17")
    assert store.get_call(t.call_id).open_disputes == 1
    assert [x.id for x in store.disputes("open")] == [d.id]
    store.decide_dispute(d.id, accepted=True, decided_by="lead", comment="giusto")
    call = store.get_call(t.call_id)
    assert call.open_disputes == 0 and call.score == 100.0 and call.compliance_flag is False
    ev = store.load_evaluation(t.call_id)
    assert ev.result("riepilogo").result == "pass" and ev.extra["overridden"] == ["riepilogo"]
    assert ev.extra["auto_score"] == 75.0
    with pytest.raises(StoreError, match="already accepted"):
        store.decide_dispute(d.id, accepted=False, decided_by="lead")

    store.override(t.call_id, "saluto", "fail", reviewer="lead", comment="niente nome")
    assert store.get_call(t.call_id).score == 75.0
    reviews = store.reviews(t.call_id)
    assert [(r.criterion_id, r.old_result, r.new_result, r.reviewer) for r in reviews] == [
        ("riepilogo", "fail", "pass", "lead"), ("saluto", "pass", "fail", "lead")]
    d2 = store.open_dispute(t.call_id, "saluto", "Ho salutato", raised_by="op17")
    store.decide_dispute(d2.id, accepted=False, decided_by="lead", comment="no")
    assert store.get_call(t.call_id).score == 75.0
    with pytest.raises(StoreError):
        store.override(t.call_id, "saluto", "maybe", reviewer="lead")
    with pytest.raises(StoreError, match="no current result"):
        store.open_dispute(t.call_id, "inesistente", "x", raised_by="op17")
    actions = [a.action for a in store.audit_log(t.call_id)]
    assert actions[::-1][:2] == ["ingest", "dispute"] and "dispute_rejected" in actions
    store.close()


def test_users_and_passwords(store_url):
    store = open_store(store_url)
    u = store.create_user("sup", "correct horse", "supervisor", display_name="Sara", language="de")
    assert u.password_hash.startswith("$argon2")
    assert store.authenticate("sup", "correct horse").language == "de"
    assert store.authenticate("sup", "wrong") is None
    assert store.authenticate("nobody", "x") is None
    with pytest.raises(StoreError, match="already exists"):
        store.create_user("sup", "x", "admin")
    with pytest.raises(StoreError, match="role"):
        store.create_user("x", "x", "boss")
    with pytest.raises(StoreError, match="agent_id"):
        store.create_user("op", "x", "operator")
    store.update_user("sup", active=False)
    assert store.authenticate("sup", "correct horse") is None
    store.update_user("sup", active=True, password="new one")
    assert store.authenticate("sup", "new one") is not None
    assert [x.username for x in store.users()] == ["sup"]
    store.close()


def test_failures_are_recorded_counted_and_cleared(store_url):
    store = open_store(store_url)
    store.record_failure("/in/a.wav", "empty file")
    store.record_failure("/in/a.wav", "still empty")
    store.record_failure("/in/b.mp3", "not audio", checksum="ab" * 32)
    f = {x.file_name: x for x in store.failures()}
    assert f["a.wav"].attempts == 2 and f["a.wav"].reason == "still empty" and f["b.mp3"].checksum == "ab" * 32
    t = luna(5)
    store.add_call(record(t, audio_path="/in/a.wav"))  # a later success removes the failure
    assert [x.file_name for x in store.failures()] == ["b.mp3"]
    store.clear_failure("/in/b.mp3")
    assert store.failures() == []
    store.close()


def test_rubric_versions_publish_retires_previous(store_url):
    store = open_store(store_url)
    store.save_rubric_version("assistenza", "1", "rubric: assistenza\nversion: 1\n", status="published",
                              username="lead")
    store.save_rubric_version("assistenza", "2", "rubric: assistenza\nversion: 2\n")
    store.publish_rubric_version("assistenza", "2", username="lead")
    rows = store.rubric_versions("assistenza")
    assert [(r.version, r.status, r.published_by) for r in rows] == [("1", "retired", "lead"),
                                                                    ("2", "published", "lead")]
    with pytest.raises(StoreError, match="publish a new version"):
        store.save_rubric_version("assistenza", "2", "changed")
    store.close()


def test_iter_transcripts_since(store_url):
    store = open_store(store_url)
    store.add_call(record(luna(6, started_at="2026-01-05T09:00:00Z")))
    store.add_call(record(luna(7, started_at="2026-06-05T09:00:00Z")))
    assert [t.call_id for t in store.iter_transcripts()] == [LUNA_FILES[5].stem, LUNA_FILES[6].stem]
    assert [t.call_id for t in store.iter_transcripts(since=datetime(2026, 3, 1))] == [LUNA_FILES[6].stem]
    store.close()


def test_migration_0002_backfills_rollups_from_existing_rows(store_url):
    """A store created at revision 0001 with calls in it is upgraded on open: rollups and
    failed_criteria are filled from the stored criterion results."""
    from alembic import command
    from sqlalchemy import MetaData

    from qa.store.db import alembic_config, make_engine
    from qa.store.rollups import rollup_counts
    from qa.store.queries import CallFilters

    engine = make_engine(store_url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    md = MetaData()
    md.reflect(engine)
    assert "criterion_daily" not in md.tables
    calls, evs, crs = md.tables["calls"], md.tables["evaluations"], md.tables["criterion_results"]
    started = datetime(2026, 3, 4, 10, 0)
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(calls.insert().values(id=i + 1, call_id=f"C{i}", source_kind="audio", audio_sha256=f"{i:064d}",
                                               ingested_at=started, status="scored", compliance_flag=False,
                                               n_fail=1, open_disputes=0, team="T", agent_id="A1",
                                               started_at=started if i else None))
            conn.execute(evs.insert().values(id=i + 1, call_pk=i + 1, rubric="r", rubric_version="1", created_at=started,
                                             is_current=True, compliance_flag=False, team="T", agent_id="A1"))
            for j, (cid, res) in enumerate([("saluto", "pass"), ("riepilogo", "fail"), ("empatia", "na")]):
                conn.execute(crs.insert().values(evaluation_id=i + 1, call_pk=i + 1, position=j, criterion_id=cid,
                                                 result=res, auto_result=res, overridden=False, weight=1.0,
                                                 critical=False, is_current=True, team="T", agent_id="A1",
                                                 started_at=started if i else None))
    engine.dispose()
    store = open_store(store_url)  # upgrades 0001 -> head
    try:
        with store.session() as s:
            counts = rollup_counts(s, ("criterion_id",), CallFilters(), None, None)
            assert dict(counts) == {("saluto",): [3, 0], ("riepilogo",): [0, 3], ("empatia",): [0, 0]}
            in_march = rollup_counts(s, ("criterion_id",), CallFilters(), datetime(2026, 3, 1), datetime(2026, 4, 1))
            assert in_march[("riepilogo",)] == [0, 2]  # the call without started_at is not in March
            assert set(s.scalars(select(Call.failed_criteria))) == {",riepilogo,"}
    finally:
        store.close()
