"""Publishing a rubric version from the editor: validation, versioning, the gold-set gate,
preview of flips, and re-scoring of the stored calls (library level; the page is in AppTest)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa import config
from qa.publish import PublishRefused, preview, publish_rubric
from qa.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "data" / "devset"


@pytest.fixture()
def store(tmp_path, monkeypatch):
    from qa.ingest import ingest
    from qa.store import open_store

    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QA_RUBRICS_DIR", raising=False)
    monkeypatch.delenv("QA_GOLD_LABELS", raising=False)
    st = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    files = [f for f in sorted(DEVSET.glob("dev-*.json"))
             if json.loads(f.read_text())["metadata"].get("call_type") == "assistenza"][:6]
    assert ingest([str(f) for f in files], st, workers=1, progress=False).stored == len(files)
    yield st
    st.close()


def _edited(new_version: str) -> str:
    text = (config.bundled_rubrics_dir() / "assistenza.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^version:.*$", f"version: {new_version}", text)
    # the QA lead makes every call fail "riepilogo": an impossible summary phrase
    return text + """
criteria:
  riepilogo:
    rule:
      said: {by: agent, any_of: {it: ["xyzzy riassunto impossibile"], de: ["xyzzy"], fr: ["xyzzy"], en: ["xyzzy"]}}
"""


def test_publish_preview_and_rescore(store):
    from qa.ingest import rescore

    current = load_rubric("assistenza")
    ids = [r.call_id for r in store.iter_transcripts()]
    text = _edited("2099-01-01.1")
    try:
        rows = preview(store, text, ids, "assistenza")
    except Exception as e:  # the override syntax above must be valid rubric language
        pytest.fail(f"edited rubric rejected: {e}")
    flipped = [r for r in rows if any(c == "riepilogo" for c, _, _ in r.flips)]
    passed_before = [cid for cid in ids if store.load_evaluation(cid).result("riepilogo").result == "pass"]
    assert {r.call_id for r in flipped} == set(passed_before)
    assert all(r.delta is not None and r.delta <= 0 for r in flipped)

    rub, gate = publish_rubric(store, "assistenza", text, "lead")
    assert rub.version == "2099-01-01.1" and gate is None
    assert (config.data_dir() / "rubriche" / "assistenza.yaml").read_text(encoding="utf-8") == text
    assert (config.bundled_rubrics_dir() / "assistenza.yaml").read_text(encoding="utf-8") != text
    versions = {(v.version, v.status) for v in store.rubric_versions("assistenza")}
    assert ("2099-01-01.1", "published") in versions and (str(current.version), "retired") in versions

    report = rescore(store, progress=False)
    assert report.rescored == len(ids)
    for cid in ids:
        ev = store.load_evaluation(cid)
        assert ev.rubric_version == "2099-01-01.1" and ev.result("riepilogo").result == "fail"
        assert len(store.evaluation_history(cid)) == 2  # the earlier evaluation stays as history

    with pytest.raises(PublishRefused, match="current one"):
        publish_rubric(store, "assistenza", text, "lead")


def test_publish_refuses_invalid_and_mismatched_rubrics(store):
    with pytest.raises(PublishRefused, match="invalid rubric"):
        publish_rubric(store, "assistenza", "rubric: assistenza\nversion: 9\ncriteria: [\n", "lead")
    with pytest.raises(PublishRefused, match="not 'assistenza'"):
        publish_rubric(store, "assistenza", _edited("2099-02-01.1").replace("rubric: assistenza", "rubric: altro"),
                       "lead")
    assert not (config.data_dir() / "rubriche").exists()


def test_publish_gate_on_the_gold_set(store, monkeypatch):
    monkeypatch.setenv("QA_GOLD_LABELS", str(DEVSET / "labels.csv"))
    monkeypatch.setenv("QA_GOLD_TRANSCRIPTS", str(DEVSET))
    monkeypatch.setenv("QA_MIN_KAPPA", "0.99")
    with pytest.raises(PublishRefused, match="below the required 0.99"):
        publish_rubric(store, "assistenza", _edited("2099-03-01.1"), "lead")
    assert load_rubric("assistenza").version != "2099-03-01.1"
