"""`qa transcribe` as a user runs it: a real subprocess, real audio, real broken files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import jiwer
import pytest

from qa.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from qa.metadata import MetadataError, load_metadata

from .conftest import once_per_run


def qa(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("qa: error:")]


def norm(text: str) -> str:
    return " ".join("".join(c if c.isalnum() or c.isspace() else " " for c in text.lower()).split())


def very_long_flac(tmp_path_factory) -> Path:
    """4 h 30 s of silence as FLAC (2.7 MB; a second of CPU to encode): made once per test run,
    shared by the xdist workers; copy it, never write to it."""
    def encode(folder: Path) -> Path:
        path = folder / "very_long.flac"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "anullsrc=r=8000:cl=mono", "-t", str(4 * 3600 + 30), "-c:a", "flac", str(path)], check=True)
        return path

    return once_per_run(tmp_path_factory, "very-long-flac", encode)


@pytest.fixture()
def bad_inputs(tmp_path, tmp_path_factory, eval_audio_dir):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "empty.wav").write_bytes(b"")
    with wave.open(str(d / "silent0.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
    data = (eval_audio_dir / "leopard_test_de.wav").read_bytes()
    (d / "cut.wav").write_bytes(data[: len(data) // 2])
    (d / "notes.wav").write_text("this is a text file, not a recording\n")
    (d / "notes.txt").write_text("plain text\n")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=8x8",
                    "-frames:v", "1", "-f", "image2", "-c:v", "png", str(d / "logo.png")], check=True)
    shutil.copyfile(very_long_flac(tmp_path_factory), d / "very_long.flac")
    return {
        d / "missing.wav": "file not found",
        d / "empty.wav": "0 bytes",
        d / "silent0.wav": "zero length",
        d / "cut.wav": "truncated",
        d / "notes.wav": "not a recognised audio file",
        d / "notes.txt": "not a recognised audio file",
        d / "logo.png": "unsupported container",
        d / "very_long.flac": "too long",
    }


@pytest.mark.slow
def test_good_and_bad_files_in_one_command(tmp_path, eval_audio_dir, audio_references, bad_inputs):
    out = tmp_path / "out"
    good = eval_audio_dir / "stereo_diarization.wav"
    args = [good, *bad_inputs]
    r = qa("transcribe", *args, "-o", out)
    assert r.returncode == EXIT_PARTIAL, r.stderr
    assert "Traceback" not in r.stderr
    errors = error_lines(r.stderr)
    assert len(errors) == len(bad_inputs)
    for (path, reason), line in zip(bad_inputs.items(), errors):  # in input order, one line each
        assert line.startswith(f"qa: error: {path}: ") and reason in line, line
    # the good file was still written, with agent left and customer right
    t = json.loads((out / "stereo_diarization.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in out.iterdir()) == ["stereo_diarization.json"]
    ref = audio_references["stereo_diarization.wav"]["channels"]
    agent = " ".join(s["text"] for s in t["segments"] if s["speaker"] == "agent")
    customer = " ".join(s["text"] for s in t["segments"] if s["speaker"] == "customer")
    assert jiwer.wer(norm(ref["left"]), norm(agent)) <= 0.2
    assert jiwer.wer(norm(ref["right"]), norm(customer)) <= 0.2
    assert t["language"] == "en" and t["duration"] == pytest.approx(5.0, abs=0.01)


def test_all_failed_exits_3(bad_inputs, tmp_path):
    r = qa("transcribe", *list(bad_inputs)[:3], "-o", tmp_path / "out")
    assert r.returncode == EXIT_FAILED
    assert len(error_lines(r.stderr)) == 3 and "Traceback" not in r.stderr
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_metadata_csv_and_default_output_dir(tmp_path, eval_audio_dir):
    # inputs by relative path, output in the current directory (the default)
    work = tmp_path / "work"
    (work / "rec").mkdir(parents=True)
    shutil.copy(eval_audio_dir / "leopard_test_fr.wav", work / "rec" / "appel.wav")
    # a mono recording: one Whisper channel, where a stereo one would cost two for the same check
    shutil.copy(eval_audio_dir / "leopard_test_de.wav", work / "rec" / "call2.wav")
    csv = work / "calls.csv"
    csv.write_text(
        "file;call_id;agent_id;agent_name;team;customer_name;call_type;direction;started_at\n"
        "rec/appel.wav;C-2026-000777;A17;Laura Bernasconi;Assistenza Romandie;Marc Rossi;assistenza;"
        "inbound;2026-11-02T10:15:00+01:00\n"
        "call2.wav;;A18;Luca Moser;Assistenza Ticino;;fidelizzazione;outbound;2026-11-03T09:00:00+01:00\n",
        encoding="utf-8-sig",
    )
    r = qa("transcribe", "rec/appel.wav", "rec/call2.wav", "--metadata", "calls.csv", "--language", "auto", cwd=work)
    assert r.returncode == EXIT_OK, r.stderr
    t = json.loads((work / "C-2026-000777.json").read_text(encoding="utf-8"))
    assert t["call_id"] == "C-2026-000777" and t["language"] == "fr"
    assert t["metadata"] == {"agent_id": "A17", "agent_name": "Laura Bernasconi", "team": "Assistenza Romandie",
                             "customer_name": "Marc Rossi", "call_type": "assistenza", "direction": "inbound",
                             "started_at": "2026-11-02T10:15:00+01:00"}
    assert {s["speaker"] for s in t["segments"]} <= {"unknown", "agent", "customer"}
    t2 = json.loads((work / "call2.json").read_text(encoding="utf-8"))  # call_id defaults to the stem
    assert t2["metadata"]["agent_name"] == "Luca Moser" and "customer_name" not in t2["metadata"]


@pytest.mark.parametrize("content,reason", [
    ("agent_id,call_id\nA1,C1\n", "no 'file' column"),
    ("file,call_type\na.wav,vendita\n", "call_type 'vendita'"),
    ("file,started_at\na.wav,yesterday\n", "not an ISO 8601"),
    ("file,direction\na.wav,sideways\n", "direction 'sideways'"),
    ("file,call_id\na.wav,C1\nb.wav,C1\n", "call_id 'C1' already used on line 2"),
    ("file,call_id\na.wav,C1\na.wav,C2\n", "already listed on line 2"),
    ("file,call_id\na.wav\n", "1 fields, the header has 2"),
    ("file,call_id\n\"a.wav,C1\n", "not valid CSV"),
    ("", "empty file"),
])
def test_bad_metadata_csv(tmp_path, content, reason):
    p = tmp_path / "calls.csv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(MetadataError) as info:
        load_metadata(p)
    assert reason in str(info.value) and "\n" not in str(info.value)


def test_bad_metadata_csv_from_the_command_line(tmp_path, eval_audio_dir):
    p = tmp_path / "calls.csv"
    p.write_bytes("file,agent_name\nx.wav,Jos\xe9\n".encode("latin-1"))
    r = qa("transcribe", eval_audio_dir / "leopard_test_it.wav", "--metadata", p, "-o", tmp_path)
    assert r.returncode == EXIT_FAILED
    assert r.stderr.strip() == f"qa: error: {p}: not UTF-8 text (save the CSV as UTF-8)"
    assert not list(tmp_path.glob("*.json"))


def test_metadata_lookup_by_name_with_or_without_folder(tmp_path):
    p = tmp_path / "calls.csv"
    p.write_text("file,agent_id\ncalls/a.wav,A1\nb.wav,A2\n", encoding="utf-8")
    table = load_metadata(p)
    assert table.lookup("/data/calls/a.wav") == {"agent_id": "A1"}
    assert table.lookup("other/a.wav") is None  # the row names a folder: it must match
    assert table.lookup("/x/y/b.wav") == {"agent_id": "A2"}
    assert table.lookup("b.wav") == {"agent_id": "A2"}
    assert table.lookup("c.wav") is None


def test_usage_errors_are_one_line(eval_audio_dir, tmp_path):
    r = qa("transcribe", eval_audio_dir / "leopard_test_it.wav", "--language", "es", "-o", tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = qa("transcribe", eval_audio_dir / "leopard_test_it.wav", "--model", "no-such-model", "-o", tmp_path)
    assert r.returncode == EXIT_FAILED
    assert r.stderr.strip().startswith("qa: error: unknown Whisper model 'no-such-model'")
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_mono_without_role_model_keeps_unknown_speakers(tmp_path, eval_audio_dir):
    """No role model available (empty models folder): the transcript is still written, speakers
    'unknown', with one warning line and exit 0."""
    import os

    env = dict(os.environ, QA_MODELS_DIR=str(tmp_path / "no-models"))
    (tmp_path / "no-models").mkdir()
    r = subprocess.run([sys.executable, "-m", "qa", "transcribe", str(eval_audio_dir / "leopard_test_it.wav"),
                        "-o", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == EXIT_OK, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: warning: ") and "speakers left unknown" in lines[0]
    t = json.loads((tmp_path / "leopard_test_it.json").read_text(encoding="utf-8"))
    assert {s["speaker"] for s in t["segments"]} == {"unknown"}
    assert t["roles"]["assigned"] is False
