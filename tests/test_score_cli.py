"""`qa score` end to end on the sample calls (samples/expected.csv), the Evaluation JSON, bad
inputs (one-line errors, EXIT_PARTIAL / EXIT_FAILED), and real mono help-desk calls (LUNA)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from qa.cli import main as qa_main
from qa.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from qa.model import Evaluation, Transcript
from qa.rubric import score_transcript

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
from tests.conftest import EVAL_DIR

LUNA = EVAL_DIR / "luna"


def _expected() -> dict[str, dict[str, str]]:
    with (SAMPLES / "expected.csv").open(encoding="utf-8", newline="") as fh:
        return {r["call_id"]: {k: v for k, v in r.items() if k != "call_id"} for r in csv.DictReader(fh)}


def test_samples_give_expected_results_with_evidence_and_feedback(tmp_path, capsys):
    expected = _expected()
    files = [str(SAMPLES / "transcripts" / f"{cid}.json") for cid in expected]
    assert qa_main(["score", *files, "-o", str(tmp_path)]) == EXIT_OK
    for cid, row in expected.items():
        ev = Evaluation.load(tmp_path / f"{cid}.eval.json")
        assert ev.call_id == cid and ev.rubric_version
        lang = Transcript.load(SAMPLES / "transcripts" / f"{cid}.json").language
        for crit, want in row.items():
            r = ev.result(crit)
            assert r is not None and r.result == want, (cid, crit, want, r and r.result)
            if r.result == "pass":
                assert r.evidence and all(e.text and e.end >= e.start for e in r.evidence)
            if r.result == "fail":
                assert r.feedback.split(" — ")[0] in r.competence.split(", "), (cid, crit, r.feedback)
        assert ev.extra["language"] == lang
        critical_fail = any(c.critical and c.result == "fail" for c in ev.criteria)
        assert ("compliance" in ev.flags) == critical_fail


def test_stdout_json_lines_and_rubric_option(capsys):
    f = SAMPLES / "transcripts" / "DEMO-IT-01.json"
    assert qa_main(["score", str(f), str(f), "--rubric", "fidelizzazione"]) == EXIT_OK
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    d = json.loads(lines[0])
    assert d["rubric"] == "fidelizzazione" and d["call_id"] == "DEMO-IT-01"
    assert set(d) >= {"call_id", "rubric", "rubric_version", "score", "flags", "criteria"}
    assert {c["id"] for c in d["criteria"]} >= set(_expected()["DEMO-IT-01"])


def test_bad_files_one_line_error_others_scored(tmp_path, capsys):
    good = SAMPLES / "transcripts" / "DEMO-EN-01.json"
    broken = tmp_path / "broken.json"
    broken.write_text('{"call_id": "X", "segments": [{"speaker": "robot", "start": 0, "end": 1, "text": "hi"}]}')
    missing = tmp_path / "missing.json"
    out = tmp_path / "out"
    assert qa_main(["score", str(broken), str(good), str(missing), "-o", str(out)]) == EXIT_PARTIAL
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("qa: error: ") for line in err)
    assert "speaker" in err[0] and "not found" in err[1]
    assert [p.name for p in out.iterdir()] == ["DEMO-EN-01.eval.json"]
    assert qa_main(["score", str(broken), str(missing)]) == EXIT_FAILED


def test_unknown_rubric_is_one_line(capsys):
    f = SAMPLES / "transcripts" / "DEMO-IT-01.json"
    assert qa_main(["score", str(f), "--rubric", "inesistente"]) == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rubric not found" in err[0]


def test_luna_mono_calls_roles_inferred_no_crash():
    files = sorted(LUNA.glob("*.json"))[:12]
    assert files, f"LUNA transcripts not found in {LUNA} (set QA_EVAL_DIR)"
    for f in files:
        ev = score_transcript(Transcript.load(f))
        assert ev.extra["roles_inferred"] is True
        assert ev.rubric in ("acquisizione", "assistenza", "fidelizzazione", "riacquisizione")
        assert ev.score is None or 0 <= ev.score <= 100
        assert len(ev.criteria) >= 11
        for c in ev.criteria:
            if c.result == "pass":
                assert c.evidence
    # the greeting of a help desk ("helpdesk buongiorno sono <PER>") is found in the agent's turn
    first = score_transcript(Transcript.load(LUNA / "LUNA-0703000001.json"))
    assert first.result("saluto").result == "pass"
    assert first.result("saluto").evidence[0].speaker == "agent"
