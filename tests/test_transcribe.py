"""transcribe_file and the faster-whisper engine on real speech (Whisper base, int8, CPU)."""

from __future__ import annotations

import gzip
import importlib.util
import re
import unicodedata
import wave
from pathlib import Path

import jiwer
import numpy as np
import pytest

from qa.errors import QAError
from qa.model import Transcript
from qa.transcribe import ENGINES, TranscribeOptions, get_engine, transcribe_file

ASTERISK_IT = Path("/usr/share/asterisk/sounds/it")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-it/core-sounds-it.txt.gz")


def norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(norm(reference), norm(hypothesis))


def cer(reference: str, hypothesis: str) -> float:
    return jiwer.cer(norm(reference), norm(hypothesis))


def text_of(transcript: Transcript, speaker: str | None = None) -> str:
    return " ".join(s.text for s in transcript.segments if speaker is None or s.speaker == speaker)


def check_well_formed(t: Transcript) -> None:
    """Segments in time order, sane times, words inside their segment, confidences in [0, 1],
    and the JSON form passes the FORMATS.md validation."""
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts)
    for s in t.segments:
        assert 0 <= s.start <= s.end <= t.duration + 0.05
        assert s.text.strip()
        assert s.confidence is not None and 0.0 < s.confidence <= 1.0
        assert s.words, "word timestamps are on"
        for w in s.words:
            assert s.start - 0.01 <= w.start <= w.end <= s.end + 0.01
            assert 0.0 <= w.probability <= 1.0
    again = Transcript.from_dict(t.to_dict(), "roundtrip")
    assert len(again.segments) == len(t.segments)


# ----- a dual-channel 8 kHz "call" built from real Italian telephone prompts -----

def asterisk_text() -> dict[str, str]:
    out = {}
    with gzip.open(ASTERISK_TEXT, "rt", encoding="utf-8-sig") as f:
        for line in f:
            if ":" in line and not line.startswith(";"):
                k, v = line.split(":", 1)
                out[k.strip()] = v.strip()
    return out


def read_8k(name: str) -> np.ndarray:
    with wave.open(str(ASTERISK_IT / f"{name}.wav")) as w:
        assert w.getframerate() == 8000 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def make_call(path: Path, left: list[tuple[float, str]], right: list[tuple[float, str]], length: float) -> None:
    """Stereo 8 kHz 16-bit WAV: prompts placed at the given seconds on each channel, silence elsewhere."""
    n = int(length * 8000)
    data = np.zeros((n, 2), dtype="<i2")
    for ch, placed in enumerate((left, right)):
        for at, name in placed:
            x = read_8k(name)
            i = int(at * 8000)
            data[i:i + len(x), ch] = x[: n - i]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(data.tobytes())


AGENT_PROMPTS = [(0.5, "agent-newlocation"), (8.0, "transfer"), (15.4, "demo-thanks")]
CUSTOMER_PROMPTS = [(4.2, "all-circuits-busy-now"), (11.2, "privacy-prompt")]


@pytest.fixture(scope="module")
def call_8k(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("calls") / "call_8k.wav"
    make_call(p, AGENT_PROMPTS, CUSTOMER_PROMPTS, 20.0)
    return p


# ----- tests -----

@pytest.mark.slow
def test_stereo_channels_become_agent_and_customer(eval_audio_dir, audio_references):
    t = transcribe_file(eval_audio_dir / "stereo_diarization.wav")
    ref = audio_references["stereo_diarization.wav"]
    check_well_formed(t)
    assert t.call_id == "stereo_diarization"
    assert t.language == ref["language"]
    assert t.duration == pytest.approx(5.0, abs=0.01)
    assert {s.speaker for s in t.segments} == {"agent", "customer"}
    assert all(s.extra["channel"] == ("left" if s.speaker == "agent" else "right") for s in t.segments)
    assert wer(ref["channels"]["left"], text_of(t, "agent")) <= 0.2
    assert wer(ref["channels"]["right"], text_of(t, "customer")) <= 0.2
    engine = t.to_dict()["engine"]
    assert engine["name"] == "faster-whisper" and engine["model"] == "base" and engine["version"]


@pytest.mark.slow
def test_agent_on_the_right(eval_audio_dir, audio_references):
    t = transcribe_file(eval_audio_dir / "stereo_diarization.wav", TranscribeOptions(agent_channel="right"))
    ref = audio_references["stereo_diarization.wav"]["channels"]
    assert wer(ref["right"], text_of(t, "agent")) <= 0.2
    assert wer(ref["left"], text_of(t, "customer")) <= 0.2
    assert all(s.extra["channel"] == "right" for s in t.segments if s.speaker == "agent")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["it", "de", "fr"])
def test_language_is_detected_and_text_matches(eval_audio_dir, audio_references, lang):
    name = f"leopard_test_{lang}.wav"
    ref = audio_references[name]
    t = transcribe_file(eval_audio_dir / name)
    check_well_formed(t)
    assert t.language == lang == ref["language"]
    hyp = text_of(t)
    # Whisper base on one read sentence: a few word-level slips ("Leichenhaler"), close in characters
    assert wer(ref["transcript"], hyp) <= 0.35, hyp
    assert cer(ref["transcript"], hyp) <= 0.10, hyp


@pytest.mark.slow
def test_mono_recording_single_pass(eval_audio_dir):
    t = transcribe_file(eval_audio_dir / "leopard_test_it.wav", TranscribeOptions(language="it"))
    assert t.language == "it" and t.segments
    assert all("channel" not in s.extra for s in t.segments)
    if importlib.util.find_spec("qa.analysis.roles") is None:
        assert {s.speaker for s in t.segments} == {"unknown"}
    else:
        assert {s.speaker for s in t.segments} <= {"agent", "customer", "unknown"}
    assert t.to_dict()["audio"]["agent_channel"] == "mono"


@pytest.mark.slow
def test_dual_channel_8khz_call(call_8k):
    texts = asterisk_text()
    t = transcribe_file(call_8k, metadata={"agent_id": "A17", "call_type": "assistenza"}, call_id="C-1")
    check_well_formed(t)
    assert t.call_id == "C-1" and t.metadata == {"agent_id": "A17", "call_type": "assistenza"}
    assert t.language == "it"
    assert t.duration == pytest.approx(20.0, abs=0.01)
    assert t.to_dict()["audio"]["sample_rate"] == 8000
    for speaker, prompts in (("agent", AGENT_PROMPTS), ("customer", CUSTOMER_PROMPTS)):
        ref = " ".join(texts[name] for _, name in prompts)
        assert wer(ref, text_of(t, speaker)) <= 0.3, text_of(t, speaker)
        segs = [s for s in t.segments if s.speaker == speaker]
        # every segment lies over one of the prompts of its channel (VAD skipped the silence)
        spans = [(at, at + len(read_8k(name)) / 8000) for at, name in prompts]
        for s in segs:
            mid = (s.start + s.end) / 2
            assert any(a - 0.5 <= mid <= b + 0.5 for a, b in spans), (s.start, s.end, s.text)
    # the turns alternate as placed: agent, customer, agent, customer, agent
    first_speakers = [s.speaker for s in t.segments]
    compact = [sp for i, sp in enumerate(first_speakers) if i == 0 or sp != first_speakers[i - 1]]
    assert compact == ["agent", "customer", "agent", "customer", "agent"]


@pytest.mark.slow
def test_channels_in_parallel_give_the_same_transcript_as_one_after_the_other(call_8k):
    # one thread per worker in both runs, so only the concurrency differs
    parallel_engine = get_engine("faster-whisper", "base", cpu_threads=1, workers=2)
    assert parallel_engine.parallel_channels == 2
    seen: list[float] = []
    parallel = transcribe_file(call_8k, TranscribeOptions(engine_options={"cpu_threads": 1, "workers": 2}),
                               progress=seen.append)
    sequential = transcribe_file(call_8k, TranscribeOptions(engine_options={"cpu_threads": 1, "workers": 1}))
    assert get_engine("faster-whisper", "base", cpu_threads=1, workers=1).parallel_channels == 1
    assert [(s.speaker, s.start, s.end, s.text) for s in parallel.segments] == \
        [(s.speaker, s.start, s.end, s.text) for s in sequential.segments]
    assert {s.speaker for s in parallel.segments} == {"agent", "customer"}
    # progress sums both channels: never goes back, never passes the two channels' length
    assert seen and seen == sorted(seen) and seen[-1] <= 2 * parallel.duration + 1e-6
    assert parallel.to_dict()["engine"]["workers"] == 2


def test_default_engine_gives_every_worker_all_cores(monkeypatch):
    # a mono file is decoded by one worker: it must not be left with a share of the cores
    import os

    from qa.transcribe import core
    from qa.transcribe.faster import FasterWhisperEngine

    # the product's default, not the share of the cores tests/conftest.py gives an xdist worker
    monkeypatch.delenv("QA_WHISPER_THREADS", raising=False)
    monkeypatch.setattr(core, "_engines", {})  # a fresh engine, not one cached with the setting
    engine = get_engine("faster-whisper", "base")
    assert engine.cpu_threads == (os.cpu_count() or 1)
    assert engine.model.model.num_workers == engine.workers == 2
    assert engine.describe()["cpu_threads"] == engine.cpu_threads
    # QA_WHISPER_THREADS replaces that default
    monkeypatch.setenv("QA_WHISPER_THREADS", "1")
    assert FasterWhisperEngine("base").cpu_threads == 1
    # a value that is no number is a one-line error naming the setting, before any model is loaded
    from qa.errors import QAError

    monkeypatch.setenv("QA_WHISPER_THREADS", "tanti")
    with pytest.raises(QAError) as err:
        FasterWhisperEngine("base")
    assert str(err.value) == "QA_WHISPER_THREADS must be a whole number of threads (0: every core), not 'tanti'"


@pytest.mark.slow
def test_stereo_downmixed_when_asked(call_8k):
    t = transcribe_file(call_8k, TranscribeOptions(agent_channel="mono", language="it"))
    assert t.segments and all("channel" not in s.extra for s in t.segments)
    assert t.to_dict()["audio"]["agent_channel"] == "mono"


@pytest.mark.slow
def test_silent_channel_gives_no_segments(tmp_path):
    p = tmp_path / "one_sided.wav"
    make_call(p, [(1.0, "agent-newlocation")], [], 8.0)
    t = transcribe_file(p)
    assert t.segments and {s.speaker for s in t.segments} == {"agent"}
    assert t.language == "it"


@pytest.mark.slow
def test_engine_on_pure_silence():
    engine = get_engine("faster-whisper", "base")
    r = engine.transcribe_channel(np.zeros(16000 * 5, dtype=np.float32))
    assert r.segments == [] and r.language is None


@pytest.mark.slow
def test_engines_are_cached_per_process():
    assert get_engine("faster-whisper", "base") is get_engine("faster-whisper", "base")


def test_engine_registry():
    assert ENGINES["openai-whisper"][:2] == ("qa.transcribe.openai_engine", "OpenAIWhisperEngine")
    with pytest.raises(QAError, match="unknown engine"):
        get_engine("kaldi", "base")
    with pytest.raises(QAError, match="unsupported language"):
        TranscribeOptions(language="es").normalised()
    with pytest.raises(QAError, match="agent channel"):
        TranscribeOptions(agent_channel="middle").normalised()
