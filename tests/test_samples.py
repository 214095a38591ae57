"""The sample calls: regenerated from samples/scripts.yaml with espeak-ng, they decode, stereo
ones carry the agent on the left, durations and turn timings match the ground-truth
transcripts, they are stored with telephone codecs (GSM 06.10 WAV, FLAC of 8-bit samples) in
little space, and the committed CSVs are consistent with the committed files."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest

from qa.audio import load_audio
from qa.config import CALL_TYPES
from qa.errors import AudioError
from qa.model import Transcript
from samples.generate import CRITERIA_IDS, generate, load_scripts, synthesize_call

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CRITERIA_MD = ROOT.parent / "shared" / "CRITERIA.md"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    done = generate(out, quiet=True)
    return out, {d["call_id"]: d for d in done}


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sample_set_shape():
    calls = load_scripts()
    assert 6 <= len(calls) <= 10
    assert {c["language"] for c in calls} == {"it", "de", "fr", "en"}
    stereo = [c for c in calls if c["stereo"]]
    mono = [c for c in calls if not c["stereo"]]
    assert len(stereo) >= 3 and 2 <= len(mono) <= 3
    suffixes = {Path(c["file"]).suffix for c in calls}
    assert {".ogg", ".mp3", ".flac", ".m4a", ".wav"} <= suffixes
    assert {c["metadata"]["call_type"] for c in calls if c["metadata"]["call_type"]} == set(CALL_TYPES)
    # some calls leave metadata empty so that inference gets exercised
    assert any(not c["metadata"]["customer_name"] for c in calls)
    assert any(not c["metadata"]["call_type"] for c in calls)
    # good and poor operators: some calls pass nearly everything, some fail most criteria
    fails = [sum(v == "fail" for v in c["expected"].values()) for c in calls]
    assert min(fails) == 0 and max(fails) >= 7


# codec by suffix (PyAV decoder names); a mono 8 kHz .wav holds GSM 06.10
CODECS = {".ogg": "opus", ".mp3": "mp3float", ".m4a": "aac", ".flac": "flac", ".wav": "gsm_ms"}


def test_regenerated_audio_decodes_with_expected_layout_and_duration(regenerated):
    out, done = regenerated
    total_bytes = 0
    for call in load_scripts():
        path = out / call["file"]
        total_bytes += path.stat().st_size
        audio = load_audio(path)
        assert audio.codec == CODECS[path.suffix], call["file"]
        assert audio.n_channels == (2 if call["stereo"] else 1), call["file"]
        assert audio.source_sample_rate in (8000, 48000), call["file"]  # Opus always decodes at 48 kHz
        tr = Transcript.load(out / "transcripts" / f"{call['call_id']}.json")
        assert audio.duration == pytest.approx(tr.duration, abs=0.15), call["file"]
        assert 30.0 <= tr.duration <= 90.0, call["file"]
        assert [s.text for s in tr.segments] == [t[1] for t in call["turns"]]
        assert [s.speaker for s in tr.segments] == [t[0] for t in call["turns"]]
    # stored compressed: 0.57 MB (1.10 MB before shorter calls, MP3 ABR 14 kbit/s, AAC ~10 kbit/s,
    # 8-bit FLAC; 1.70 MB before GSM, Opus 8 kbit/s, A-law FLAC)
    assert total_bytes < 580_000


def test_stereo_calls_have_agent_left_customer_right(regenerated):
    out, _ = regenerated
    checked = 0
    for call in load_scripts():
        if not call["stereo"]:
            continue
        audio = load_audio(out / call["file"])
        left, right = audio.channels
        sr = audio.sample_rate
        tr = Transcript.load(out / "transcripts" / f"{call['call_id']}.json")
        for seg in tr.segments:
            a, b = int(seg.start * sr), int(seg.end * sr)
            own, other = (left, right) if seg.speaker == "agent" else (right, left)
            # the speaking party's channel is at least 20 dB louder than the other during its turn
            assert _rms(own[a:b]) > 10 * _rms(other[a:b]) + 1e-4, (call["file"], seg.speaker, seg.start)
            checked += 1
    assert checked > 40


def test_turn_timings_match_the_audio(regenerated):
    """Speech energy lies inside the transcript's turns; the pauses between turns are quiet."""
    out, _ = regenerated
    for call in load_scripts():
        audio = load_audio(out / call["file"])
        x = audio.mono()
        sr = audio.sample_rate
        tr = Transcript.load(out / "transcripts" / f"{call['call_id']}.json")
        inside = np.zeros(x.size, dtype=bool)
        for seg in tr.segments:
            inside[int(seg.start * sr): int(seg.end * sr)] = True
        speech = _rms(x[inside])
        # pauses, keeping 50 ms off each turn edge for codec pre-echo
        gaps = np.zeros(x.size, dtype=bool)
        for prev, nxt in zip(tr.segments, tr.segments[1:]):
            a, b = int((prev.end + 0.05) * sr), int((nxt.start - 0.05) * sr)
            if b > a:
                gaps[a:b] = True
        assert gaps.sum() > sr, call["file"]  # at least a second of pauses in all
        assert _rms(x[gaps]) < 0.05 * speech, call["file"]
        # and each turn really has speech in it
        for seg in tr.segments:
            assert _rms(x[int(seg.start * sr): int(seg.end * sr)]) > 0.2 * speech, (call["file"], seg.start)


def test_committed_samples_match_regeneration(regenerated):
    out, _ = regenerated
    rows = _read_csv(SAMPLES / "calls.csv")
    assert [r["call_id"] for r in rows] == [c["call_id"] for c in load_scripts()]
    for row in rows:
        committed = SAMPLES / row["file"]
        assert committed.is_file(), row["file"]
        a = load_audio(committed)
        b = load_audio(out / row["file"])
        assert a.n_channels == b.n_channels and a.duration == pytest.approx(b.duration, abs=0.01)
        mine = json.loads((SAMPLES / "transcripts" / f"{row['call_id']}.json").read_text(encoding="utf-8"))
        again = json.loads((out / "transcripts" / f"{row['call_id']}.json").read_text(encoding="utf-8"))
        # same turns; timings equal up to float noise of another platform's espeak-ng/scipy build
        assert [(s["speaker"], s["text"]) for s in mine["segments"]] == \
            [(s["speaker"], s["text"]) for s in again["segments"]], row["call_id"]
        for a_seg, b_seg in zip(mine["segments"], again["segments"]):
            assert a_seg["start"] == pytest.approx(b_seg["start"], abs=0.05)
            assert a_seg["end"] == pytest.approx(b_seg["end"], abs=0.05)
        assert mine["metadata"] == again["metadata"] and mine["duration"] == pytest.approx(again["duration"], abs=0.05)
    assert (SAMPLES / "calls.csv").read_text(encoding="utf-8") == (out / "calls.csv").read_text(encoding="utf-8")
    assert (SAMPLES / "expected.csv").read_text(encoding="utf-8") == (out / "expected.csv").read_text(encoding="utf-8")


def test_gsm_wav_sample_cut_short_is_one_clear_error(tmp_path):
    """The GSM 06.10 WAV sample (65-byte blocks of 320 samples) cut on a block boundary is
    reported as truncated (the RIFF header still declares the whole call), cut inside a block
    as corrupt: one line naming the file either way, never a traceback."""
    wav = next(SAMPLES / c["file"] for c in load_scripts() if c["file"].endswith(".wav"))
    data = wav.read_bytes()
    start = data.index(b"data") + 8
    on_block = tmp_path / "on_block.wav"
    on_block.write_bytes(data[: start + 65 * 200])  # 8 s of 40
    with pytest.raises(AudioError) as info:
        load_audio(on_block)
    assert str(info.value).startswith(str(on_block)) and "truncated" in str(info.value)
    assert "\n" not in str(info.value)
    mid_block = tmp_path / "mid_block.wav"
    mid_block.write_bytes(data[: start + 65 * 200 + 30])
    with pytest.raises(AudioError) as info:
        load_audio(mid_block)
    assert str(info.value).startswith(str(mid_block)) and "\n" not in str(info.value)
    assert "truncated" in str(info.value) or "corrupt" in str(info.value)


def test_flac_sample_holds_8_bit_samples():
    """The FLAC call stores 8-bit linear samples (an 8-bit call logger's recording, losslessly):
    the STREAMINFO block says 8 bits per sample at 8 kHz, and the decoded 16-bit samples take at
    most 256 values, all multiples of 256."""
    import av

    flac = next(SAMPLES / c["file"] for c in load_scripts() if c["file"].endswith(".flac"))
    data = flac.read_bytes()
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO first
    fields = int.from_bytes(data[18:26], "big")  # sample rate (20 bits), channels-1 (3), bits-1 (5), ...
    assert fields >> 44 == 8000
    assert ((fields >> 41) & 0x7) + 1 == 2
    assert ((fields >> 36) & 0x1F) + 1 == 8
    with av.open(str(flac)) as container:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert pcm.dtype == np.int16 and pcm.size > 2 * 8000 * 30
    values = np.unique(pcm)
    assert len(values) <= 256 and not (values % 256).any()
    assert len(values) > 100  # speech over the whole range, not a few levels


def test_calls_csv_is_what_the_metadata_reader_takes():
    from qa.metadata import load_metadata

    table = load_metadata(SAMPLES / "calls.csv")
    rows = _read_csv(SAMPLES / "calls.csv")
    assert list(rows[0].keys()) == ["file", "call_id", "agent_id", "agent_name", "team", "customer_name",
                                    "call_type", "direction", "started_at"]
    for row in rows:
        md = table.lookup(SAMPLES / row["file"])
        assert md is not None and md["call_id"] == row["call_id"]
        assert row["direction"] in ("inbound", "outbound")
        assert row["call_type"] in CALL_TYPES + ("",)
        assert dt.datetime.fromisoformat(row["started_at"]).tzinfo is not None
        tr = Transcript.load(SAMPLES / "transcripts" / f"{row['call_id']}.json")
        assert tr.call_id == row["call_id"]
        assert tr.metadata.get("customer_name", "") == row["customer_name"]
        assert {s.speaker for s in tr.segments} == {"agent", "customer"}


def test_expected_csv_covers_every_criterion_with_valid_results():
    text = CRITERIA_MD.read_text(encoding="utf-8")
    ids_in_criteria = re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.M)
    assert tuple(ids_in_criteria) == CRITERIA_IDS
    rows = _read_csv(SAMPLES / "expected.csv")
    assert len(rows) == len(load_scripts())
    for row in rows:
        assert set(row) == {"call_id", *CRITERIA_IDS}
        assert all(row[c] in ("pass", "fail", "na") for c in CRITERIA_IDS)
        # always-applicable criteria are never na
        for c in ("saluto", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione", "congedo"):
            assert row[c] != "na", (row["call_id"], c)
    for c in CRITERIA_IDS:  # every criterion is exercised
        assert any(r[c] == "pass" for r in rows), c
        assert any(r[c] == "fail" for r in rows), c


def test_synthesize_call_renders_another_script(tmp_path):
    turns = [("agent", "Buongiorno, servizio clienti, sono Paola."), {"speaker": "customer", "text": "Buongiorno."}]
    timings = synthesize_call(turns, tmp_path / "x.flac", "it", stereo=True,
                              voices={"agent": {"variant": "f1", "pitch": 70}}, seed=1)
    assert [t[0] for t in timings] == ["agent", "customer"]
    assert 0 < timings[0][1] < timings[0][2] < timings[1][1] < timings[1][2]
    audio = load_audio(tmp_path / "x.flac")
    assert audio.n_channels == 2 and audio.source_sample_rate == 8000
    assert audio.duration == pytest.approx(timings[-1][2], abs=1.0)
    mono = synthesize_call(turns, tmp_path / "y.wav", "it", stereo=False, sample_rate=16000, seed=1)
    audio = load_audio(tmp_path / "y.wav")
    assert audio.n_channels == 1 and audio.source_sample_rate == 16000
    assert [t[0] for t in mono] == ["agent", "customer"]
