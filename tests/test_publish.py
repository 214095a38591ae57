"""Publishing a rubric version from the editor: validation, versioning, the agreement gate (the
candidate against the current rubric on the held-out labelled calls), preview of flips, and
re-scoring of the stored calls (library level; the page is in AppTest)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa import config
from qa.learning.publish import PublishRefused, preview, publish_rubric
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
    monkeypatch.delenv("QA_HELDOUT_SETS", raising=False)
    monkeypatch.delenv("QA_GATE_MACRO_TOLERANCE", raising=False)
    monkeypatch.delenv("QA_GATE_CRITERION_DROP", raising=False)
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


def test_publish_preview_and_rescore(store, monkeypatch):
    from qa.ingest import rescore

    monkeypatch.setenv("QA_HELDOUT_SETS", "")  # no held-out data: no gate (this edit would not pass it)

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


def test_gate_refuses_a_rubric_that_breaks_a_criterion_on_held_out_calls(store):
    # default held-out data: the frozen scripted held-out set and the LUNA held-out calls
    before = load_rubric("assistenza").version
    with pytest.raises(PublishRefused) as exc:
        publish_rubric(store, "assistenza", _edited("2099-03-01.1"), "lead")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("not published: ")
    assert re.search(r"riepilogo \d\.\d{3} -> \d\.\d{3}", msg), msg
    assert "held-out calls (heldout, luna_dev)" in msg
    assert load_rubric("assistenza").version == before
    assert not (config.data_dir() / "rubriche").exists()
    assert not [v for v in store.rubric_versions("assistenza") if v.version == "2099-03-01.1"]


def test_gate_result_names_the_criterion_and_the_drop(store):
    from qa.learning.publish import agreement_gate
    from qa.rubric import load_rubric_text

    gate = agreement_gate(load_rubric_text(_edited("2099-03-02.1"), "assistenza.yaml"))
    assert not gate.passed
    assert gate.n_calls >= 16  # the 16 scripted held-out assistenza calls, and LUNA calls inferred as such
    assert [c for c, _, _ in gate.drops] == ["riepilogo"]
    (_, current, candidate), = gate.drops
    assert current - candidate > 0.10
    assert gate.current_macro_kappa is not None and gate.macro_kappa < gate.current_macro_kappa
    # the change, paired on the same calls: the interval holds it and lies at or under zero (no draw of
    # the calls in which the broken rubric does better; on 26 calls the drop is -0.037 in [-0.069, 0.000])
    low, high = gate.difference_ci
    assert low < gate.macro_kappa - gate.current_macro_kappa <= high <= 0
    assert "95 % interval [" in gate.message and "\n" not in gate.message


def test_gate_passes_an_unchanged_rubric_and_compares_with_the_published_one(store):
    text = re.sub(r"(?m)^version:.*$", "version: 2099-04-01.1",
                  (config.bundled_rubrics_dir() / "assistenza.yaml").read_text(encoding="utf-8"))
    rub, gate = publish_rubric(store, "assistenza", text, "lead")
    assert rub.version == "2099-04-01.1"
    assert gate.passed and gate.macro_kappa == gate.current_macro_kappa, gate.message
    assert "no criterion drops more than 0.1" in gate.message
    assert gate.difference_ci == (0.0, 0.0) and "change +0.000, 95 % interval [0.000–0.000]" in gate.message

    # the lead forces a worse version live (gate off); the gate now compares with that one, so
    # going back to the good rubric is an improvement and passes
    publish_rubric(store, "assistenza", _edited("2099-04-02.1"), "lead", gate=False)
    good = re.sub(r"(?m)^version:.*$", "version: 2099-04-03.1", text)
    rub, gate = publish_rubric(store, "assistenza", good, "lead")
    assert gate.passed and gate.macro_kappa > gate.current_macro_kappa, gate.message
    assert load_rubric("assistenza").version == "2099-04-03.1"


def test_gate_tolerances_come_from_the_environment(store, monkeypatch):
    from qa.learning.publish import agreement_gate
    from qa.rubric import load_rubric_text

    candidate = load_rubric_text(_edited("2099-05-01.1"), "assistenza.yaml")
    monkeypatch.setenv("QA_GATE_CRITERION_DROP", "1.5")
    monkeypatch.setenv("QA_GATE_MACRO_TOLERANCE", "1.5")
    assert agreement_gate(candidate).passed  # nothing can drop by more than 1.5
    monkeypatch.setenv("QA_GATE_CRITERION_DROP", "ten")
    with pytest.raises(PublishRefused, match="QA_GATE_CRITERION_DROP='ten' is not a number"):
        agreement_gate(candidate)


def test_gate_on_a_sites_own_held_out_folder(store, tmp_path, monkeypatch):
    import shutil

    from qa.errors import EXIT_GATE, GateRefused

    site = tmp_path / "site_heldout"
    site.mkdir()
    heldout = ROOT / "tests" / "data" / "heldout"
    ids = [f.stem for f in sorted(heldout.glob("heldout-*.json"))
           if json.loads(f.read_text())["metadata"].get("call_type") == "assistenza"]
    for cid in ids:
        shutil.copy(heldout / f"{cid}.json", site / f"{cid}.json")
    rows = (heldout / "labels.csv").read_text(encoding="utf-8").splitlines()
    (site / "labels.csv").write_text("\n".join([rows[0]] + [r for r in rows[1:] if r.split(",")[0] in ids]) + "\n",
                                     encoding="utf-8")
    monkeypatch.setenv("QA_HELDOUT_SETS", str(site))
    with pytest.raises(PublishRefused, match=rf"on {len(ids)} held-out calls \(site_heldout\)") as exc:
        publish_rubric(store, "assistenza", _edited("2099-06-01.1"), "lead")
    assert isinstance(exc.value, GateRefused) and EXIT_GATE == 4  # the CLI's exit code for a refused gate
    monkeypatch.setenv("QA_HELDOUT_SETS", str(tmp_path / "nowhere"))
    with pytest.raises(PublishRefused, match="held-out set .*nowhere: no labels.csv"):
        publish_rubric(store, "assistenza", _edited("2099-06-02.1"), "lead")
