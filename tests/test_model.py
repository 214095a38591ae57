"""The public formats of FORMATS.md: round-trips, validation, one-line errors."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import TranscriptFormatError
from qa.model import CriterionResult, Evaluation, Evidence, Transcript, compute_score

DOCS = Path(__file__).resolve().parents[1] / "docs"  # the project's own contract


def _examples_from_formats():
    text = (DOCS / "FORMATS.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    return json.loads(blocks[0]), json.loads(blocks[1].replace("…one or two sentences for the operator, in the call's language or the UI language…", "x"))


def test_transcript_example_of_formats_round_trips():
    data, _ = _examples_from_formats()
    t = Transcript.from_dict(data)
    assert t.call_id == "C-2026-000123"
    assert [s.speaker for s in t.segments] == ["agent", "customer"]
    again = t.to_dict()
    assert again["metadata"] == data["metadata"]
    assert [s["text"] for s in again["segments"]] == [s["text"] for s in data["segments"]]


def test_evaluation_example_of_formats_round_trips():
    _, data = _examples_from_formats()
    ev = Evaluation.from_dict(data)
    assert ev.criteria[0].evidence[0].speaker == "agent"
    assert ev.to_dict()["criteria"][0]["id"] == "saluto"


def test_unknown_metadata_and_segment_keys_are_kept(tmp_path):
    t = Transcript.from_dict({"call_id": 7, "metadata": {"crm_case": "X-1"},
                              "segments": [{"speaker": "unknown", "start": 0, "end": 1, "text": "ciao",
                                            "role_confidence": 0.4}], "source": "pbx"})
    p = t.save(tmp_path / "t.json")
    back = Transcript.load(p)
    assert back.call_id == "7"
    assert back.metadata["crm_case"] == "X-1"
    assert back.segments[0].extra["role_confidence"] == 0.4
    assert back.extra["source"] == "pbx"


@pytest.mark.parametrize("data, needle", [
    ({"segments": []}, "call_id"),
    ({"call_id": "a"}, "segments"),
    ({"call_id": "a", "segments": [{"speaker": "boss", "start": 0, "end": 1, "text": "x"}]}, "speaker"),
    ({"call_id": "a", "segments": [{"speaker": "agent", "start": 2, "end": 1, "text": "x"}]}, "start <= end"),
    ({"call_id": "a", "segments": [{"speaker": "agent", "start": "0", "end": 1, "text": "x"}]}, "number"),
    ({"call_id": "a", "segments": [{"speaker": "agent", "start": 0, "end": 1}]}, "text"),
    ([1, 2], "object"),
])
def test_invalid_transcripts_are_rejected_with_one_line(data, needle):
    with pytest.raises(TranscriptFormatError) as e:
        Transcript.from_dict(data, "x.json")
    msg = str(e.value)
    assert needle in msg and "\n" not in msg and msg.startswith("x.json: ")


def test_load_reports_bad_files(tmp_path):
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "bad.json").write_text('{"call_id": "a", ')
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00\x01")
    for name, needle in [("empty.json", "empty"), ("bad.json", "invalid JSON at line 1"),
                         ("bin.json", "UTF-8"), ("missing.json", "not found")]:
        with pytest.raises(TranscriptFormatError, match=needle):
            Transcript.load(tmp_path / name)


def test_score_follows_criteria_formula():
    rs = [CriterionResult("a", "2.1", "pass", 2.0, [Evidence("agent", 0, 1, "x")]),
          CriterionResult("b", "3.1", "fail", 1.0),
          CriterionResult("c", "4.2", "na", 5.0)]
    assert compute_score(rs) == pytest.approx(66.7)
    assert compute_score([CriterionResult("c", "4.2", "na", 5.0)]) is None


def test_cli_without_command_prints_help_and_usage_error():
    p = subprocess.run([sys.executable, "-m", "qa"], capture_output=True, text=True)
    assert p.returncode == 2 and "COMMAND" in p.stdout
    p = subprocess.run([sys.executable, "-m", "qa", "no-such-command"], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
