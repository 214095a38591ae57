"""The sample calls: the committed recordings are what samples/manifest.json says (rendered from
the current scripts with the recorded voices, each file unchanged since: SHA-256, codec, rate,
channels, duration read back from the bytes), they decode with the expected telephone codecs and
layout in little space, stereo ones carry the agent on the left, the reference transcripts' turn
timings match the audio, agent and customer speak with audibly different voices (a different pair
in every call), and the committed CSVs are what the scripts say. Rendering with Kokoro takes
minutes, so one slow test renders one call again and compares it with its manifest entry."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest

from qa.audio import load_audio
from qa.config import CALL_TYPES
from qa.errors import AudioError
from qa.model import Transcript
from samples.generate import (CRITERIA_IDS, audio_facts, calls_csv_text, expected_csv_text, generate, load_manifest,
                              load_scripts, script_sha256, synthesize_call)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CRITERIA_MD = ROOT / "docs" / "CRITERIA.md"
RENDER = "python -m samples.generate --only {}"


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _pitch(x: np.ndarray, sr: int) -> float:
    """Median fundamental frequency (Hz) of the voiced 40 ms frames of ``x`` (every 20 ms; YIN's
    cumulative mean normalised difference below 0.15, 70-400 Hz); nan without voiced frames."""
    from numpy.lib.stride_tricks import sliding_window_view

    if sr > 8000:  # the telephone band fits 8 kHz
        step = sr // 8000
        x, sr = x[::step], sr // step
    frame, lo, hi = int(0.04 * sr), int(sr / 400), int(sr / 70)
    w = frame - hi
    f0 = []
    for i in range(0, x.size - frame, int(0.02 * sr)):
        a = x[i: i + frame].astype(np.float64)
        if _rms(a) < 0.01:
            continue
        d = ((sliding_window_view(a, w)[1: hi + 1] - a[:w]) ** 2).sum(axis=1)  # lags 1..hi
        cmnd = d * np.arange(1, hi + 1) / np.maximum(np.cumsum(d), 1e-12)
        below = np.nonzero(cmnd[lo - 1:] < 0.15)[0]
        if below.size:
            t = below[0] + lo - 1
            while t + 1 < cmnd.size and cmnd[t + 1] < cmnd[t]:
                t += 1
            f0.append(sr / (t + 1))
    return float(np.median(f0)) if f0 else float("nan")


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


def test_manifest_matches_the_scripts_and_the_committed_recordings():
    """A script edited without rendering again, a voice changed, or a recording replaced or
    re-encoded: the manifest no longer agrees, and the test says which call to render again."""
    calls = load_scripts()
    manifest = load_manifest()
    assert list(manifest) == [c["call_id"] for c in calls], "manifest.json and scripts.yaml list other calls"
    for call in calls:
        cid, entry = call["call_id"], manifest[call["call_id"]]
        assert entry["file"] == call["file"], cid
        assert entry["script_sha256"] == script_sha256(call), \
            f"{cid}: scripts.yaml changed since the recording was rendered; run {RENDER.format(cid)}"
        assert entry["voices"] == call["voices"], cid
        assert all("kokoro" in v for v in call["voices"].values()), cid  # Kokoro-82M's neural voices
        facts = audio_facts(SAMPLES / call["file"])
        assert facts == {k: entry[k] for k in facts}, \
            f"{call['file']} is not the recording the manifest describes; run {RENDER.format(cid)}"


def test_committed_audio_decodes_with_expected_layout_and_duration():
    total_bytes = 0
    manifest = load_manifest()
    for call in load_scripts():
        path = SAMPLES / call["file"]
        total_bytes += path.stat().st_size
        audio = load_audio(path)
        assert audio.codec == CODECS[path.suffix], call["file"]
        assert audio.n_channels == (2 if call["stereo"] else 1), call["file"]
        assert audio.source_sample_rate in (8000, 48000), call["file"]  # Opus always decodes at 48 kHz
        tr = Transcript.load(SAMPLES / "transcripts" / f"{call['call_id']}.json")
        assert audio.duration == pytest.approx(tr.duration, abs=0.15), call["file"]
        assert audio.duration == pytest.approx(manifest[call["call_id"]]["duration"], abs=0.15), call["file"]
        assert 30.0 <= tr.duration <= 90.0, call["file"]
        assert [s.text for s in tr.segments] == [t[1] for t in call["turns"]]
        assert [s.speaker for s in tr.segments] == [t[0] for t in call["turns"]]
    # stored compressed at telephone bit rates: ~0.5 MB (0.57 MB with the espeak-ng voices; 1.10 MB
    # before shorter calls, MP3 ABR 14 kbit/s, AAC ~10 kbit/s, 8-bit FLAC)
    assert total_bytes < 600_000


def test_stereo_calls_have_agent_left_customer_right():
    checked = 0
    for call in load_scripts():
        if not call["stereo"]:
            continue
        audio = load_audio(SAMPLES / call["file"])
        left, right = audio.channels
        sr = audio.sample_rate
        tr = Transcript.load(SAMPLES / "transcripts" / f"{call['call_id']}.json")
        for seg in tr.segments:
            a, b = int(seg.start * sr), int(seg.end * sr)
            own, other = (left, right) if seg.speaker == "agent" else (right, left)
            # the speaking party's channel is at least 20 dB louder than the other during its turn
            assert _rms(own[a:b]) > 10 * _rms(other[a:b]) + 1e-4, (call["file"], seg.speaker, seg.start)
            checked += 1
    assert checked > 40


def test_turn_timings_match_the_audio():
    """Speech energy lies inside the transcript's turns; the pauses between turns are quiet."""
    for call in load_scripts():
        audio = load_audio(SAMPLES / call["file"])
        x = audio.mono()
        sr = audio.sample_rate
        tr = Transcript.load(SAMPLES / "transcripts" / f"{call['call_id']}.json")
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


def test_agent_and_customer_speak_with_audibly_different_voices():
    """A different voice pair in every call; in each call one voice is pitched far below the other
    (a male and a female voice, or mixtures leaning each way: the two parties of a mono call must be told apart by ear and by
    qa.analysis.roles' voice clusters)."""
    calls = load_scripts()
    pairs = [(c["voices"]["agent"]["kokoro"], c["voices"]["customer"]["kokoro"]) for c in calls]
    assert len(set(pairs)) == len(pairs)
    for call in calls:
        audio = load_audio(SAMPLES / call["file"])
        tr = Transcript.load(SAMPLES / "transcripts" / f"{call['call_id']}.json")
        sr = audio.sample_rate
        pitch = {}
        for who in ("agent", "customer"):
            x = audio.channels[0 if who == "agent" else 1] if audio.n_channels == 2 else audio.mono()
            x = np.concatenate([x[int(s.start * sr): int(s.end * sr)] for s in tr.segments if s.speaker == who])
            pitch[who] = _pitch(x, sr)
        low, high = sorted(pitch.values())
        assert high > 1.4 * low, (call["call_id"], pitch)  # measured: 1.46 (DEMO-DE-02, mixed voices) to 2.64


def test_committed_csvs_and_transcripts_are_what_the_scripts_say():
    calls = load_scripts()
    assert (SAMPLES / "calls.csv").read_text(encoding="utf-8") == calls_csv_text(calls)
    assert (SAMPLES / "expected.csv").read_text(encoding="utf-8") == expected_csv_text(calls)
    for call in calls:
        tr = Transcript.load(SAMPLES / "transcripts" / f"{call['call_id']}.json")
        assert tr.language == call["language"]
        assert tr.metadata == {k: v for k, v in call["metadata"].items() if v not in (None, "")}


@pytest.mark.slow
def test_one_call_rendered_again_matches_its_manifest_entry(tmp_path):
    """The generator, run again on the shortest call, gives the recording the manifest describes:
    the same script hash, container, codec, rate and channels, the same duration and turn timings,
    and the same sound. Kokoro is deterministic on one CPU (there the file comes back byte for byte
    and the decoded samples match), but another CPU picks other int8 kernels in ONNX Runtime: on an
    AMD EPYC the manifest's Intel-made call came back with turns up to 50 ms longer or shorter, so the
    samples no longer line up (SNR -2.7 dB). Across CPUs the check is per turn, on each turn's own
    timings: the level within 1.5 dB and the long-term average spectrum (log power, 512-point
    frames) at cosine >= 0.998 (same turns re-rendered: >= 0.999; another voice's turns: 0.990-0.997)."""
    manifest = load_manifest()
    call = min(load_scripts(), key=lambda c: manifest[c["call_id"]]["duration"])
    cid = call["call_id"]
    generate(tmp_path, only=[cid], quiet=True)
    again, entry = load_manifest(tmp_path / "manifest.json")[cid], manifest[cid]
    assert list(load_manifest(tmp_path / "manifest.json")) == [cid]
    for key in ("file", "script_sha256", "voices", "format", "codec", "sample_rate", "channels"):
        assert again[key] == entry[key], key
    assert again["duration"] == pytest.approx(entry["duration"], abs=0.1)
    assert again["bytes"] == pytest.approx(entry["bytes"], rel=0.05)
    mine = Transcript.load(SAMPLES / "transcripts" / f"{cid}.json")
    new = Transcript.load(tmp_path / "transcripts" / f"{cid}.json")
    assert [(s.speaker, s.text) for s in new.segments] == [(s.speaker, s.text) for s in mine.segments]
    for a, b in zip(mine.segments, new.segments):
        assert (b.start, b.end) == (pytest.approx(a.start, abs=0.1), pytest.approx(a.end, abs=0.1))
    x, y = load_audio(SAMPLES / call["file"]), load_audio(tmp_path / call["file"])
    if again.get("sha256") == entry.get("sha256"):  # the same CPU: the same samples
        return
    sr = x.sample_rate

    def turn(audio, seg):
        ch = audio.channels[0 if len(audio.channels) == 1 or seg.speaker == "agent" else 1]
        return ch[int(seg.start * sr):int(seg.end * sr)]

    def ltas(sig, n=512):
        frames = sig[:len(sig) // n * n].reshape(-1, n) * np.hanning(n)
        p = np.log10((np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0) + 1e-10)
        return p - p.mean()

    for a, b in zip(mine.segments, new.segments):
        u, v = turn(x, a), turn(y, b)
        level = 20 * np.log10(np.sqrt(np.mean(u ** 2)) / np.sqrt(np.mean(v ** 2)))
        assert abs(level) < 1.5, (a.text, level)
        pu, pv = ltas(u), ltas(v)
        assert pu @ pv / np.linalg.norm(pu) / np.linalg.norm(pv) >= 0.998, a.text
    assert (tmp_path / "calls.csv").read_text(encoding="utf-8") == (SAMPLES / "calls.csv").read_text(encoding="utf-8")
    assert (tmp_path / "expected.csv").read_text(encoding="utf-8") == \
        (SAMPLES / "expected.csv").read_text(encoding="utf-8")


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
