"""Real-time factor of the faster-whisper engine (Whisper base, int8, CPU) on a dual-channel
8 kHz call, with and without VAD, batched (BatchedInferencePipeline) and not.

The call (60 s, stereo, 8 kHz) is built from the real Italian telephone prompts of
asterisk-core-sounds-it: agent prompts on the left, other prompts on the right, turns
alternating with pauses, so each channel is silent about half the time, as in a real call.

RTF = wall-clock seconds to transcribe the whole call (both channels) / call duration.
Model loading is excluded (done once before). Prints the figures and writes
bench/results/transcribe_faster.md.

    python bench/transcribe_faster.py [--repeat N] [--threads N]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import resource
import sys
import tempfile
import time
import unicodedata
import wave
from pathlib import Path

import jiwer
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.transcribe import TranscribeOptions, get_engine, transcribe_file  # noqa: E402

SOUNDS = Path("/usr/share/asterisk/sounds/it")
TEXT = Path("/usr/share/doc/asterisk-core-sounds-it/core-sounds-it.txt.gz")
AGENT = ["agent-newlocation", "transfer", "privacy-prompt", "conf-getpin", "demo-thanks", "queue-thankyou",
         "pbx-invalid", "conf-onlyperson"]
CUSTOMER = ["all-circuits-busy-now", "call-fwd-on-busy", "vm-login", "check-number-dial-again", "queue-holdtime",
            "call-fwd-no-ans", "call-waiting", "hello-world", "vm-goodbye"]
LENGTH_S = 60.0


def texts() -> dict[str, str]:
    out = {}
    with gzip.open(TEXT, "rt", encoding="utf-8-sig") as f:
        for line in f:
            if ":" in line and not line.startswith(";"):
                k, v = line.split(":", 1)
                out[k.strip()] = v.strip()
    return out


def read(name: str) -> np.ndarray:
    with wave.open(str(SOUNDS / f"{name}.wav")) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def build_call(path: Path) -> tuple[str, str, int]:
    """Alternate agent/customer turns with 0.6-1.5 s pauses until 60 s; return the reference texts
    and the number of turns."""
    rng = np.random.default_rng(7)
    n = int(LENGTH_S * 8000)
    data = np.zeros((n, 2), dtype="<i2")
    t, refs = 0.4, {0: [], 1: []}
    queues = {0: list(AGENT), 1: list(CUSTOMER)}
    ch = 0
    tx = texts()
    while queues[ch]:
        x = read(queues[ch][0])
        i = int(t * 8000)
        if i + len(x) > n:
            break
        name = queues[ch].pop(0)
        data[i:i + len(x), ch] = x
        refs[ch].append(tx[name])
        t += len(x) / 8000 + float(rng.uniform(0.6, 1.5))
        ch = 1 - ch
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(data.tobytes())
    return " ".join(refs[0]), " ".join(refs[1]), len(refs[0]) + len(refs[1])


def norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    return " ".join(re.sub(r"[^\w\s']", " ", text).split())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="CTranslate2 cpu_threads per worker (0 = the engine default: all cores)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    call = tmp / "call_60s_8k_stereo.wav"
    ref_agent, ref_customer, n_turns = build_call(call)
    speech = {}
    for ch in (0, 1):
        with wave.open(str(call)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)[:, ch]
        speech[ch] = float((np.abs(x.reshape(-1, 80)).max(axis=1) > 300).mean())

    configs = [
        ("VAD, channels in parallel (default)", {"vad": True, "batched": False}),
        ("VAD, channels one after the other", {"vad": True, "batched": False, "workers": 1}),
        ("VAD threshold 0.5 (Silero's default), channels in parallel", {"vad": True, "batched": False,
                                                                       "vad_threshold": 0.5}),
        ("VAD, speech glued end to end (vad_gap_s=0, faster-whisper's vad_filter), channels in parallel",
         {"vad": True, "batched": False, "vad_gap_s": 0}),
        ("no VAD, channels in parallel", {"vad": False, "batched": False}),
        ("VAD, batched (batch 8), one after the other", {"vad": True, "batched": True, "workers": 1}),
        ("no VAD, batched (batch 8), one after the other", {"vad": False, "batched": True, "workers": 1}),
    ]
    rows = []
    for label, opts in configs:
        opts = {"cpu_threads": args.threads, **opts}
        engine = get_engine("faster-whisper", "base", **opts)  # load once, not timed
        label = f"{label} [{engine.workers} worker(s) x {engine.cpu_threads} thread(s)]"
        walls, cpus = [], []
        for _ in range(args.repeat):
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            tr = transcribe_file(call, TranscribeOptions(engine_options=opts))
            walls.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            cpus.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        agent = " ".join(s.text for s in tr.segments if s.speaker == "agent")
        customer = " ".join(s.text for s in tr.segments if s.speaker == "customer")
        w_a = jiwer.wer(norm(ref_agent), norm(agent))
        w_c = jiwer.wer(norm(ref_customer), norm(customer))
        rows.append((label, min(walls) / LENGTH_S, min(cpus) / LENGTH_S, w_a, w_c, tr.language, len(tr.segments)))
        print(f"{label:28s} RTF {min(walls) / LENGTH_S:.3f} (wall, best of {args.repeat})  "
              f"CPU-s/s {min(cpus) / LENGTH_S:.3f}  WER agent {w_a:.3f} customer {w_c:.3f}  "
              f"lang {tr.language}  segments {len(tr.segments)}", flush=True)

    base = rows[0][1]
    lines = [
        "# faster-whisper (Whisper base, int8, CPU): real-time factor on a dual-channel call",
        "",
        f"Measured by `bench/transcribe_faster.py` on {platform.machine()}, {os.cpu_count()} CPU cores "
        f"(shared with other work while it ran, so wall times are noisy: best of {args.repeat}), "
        "workers (channels decoded at the same time) and CTranslate2 threads per worker as each row says.",
        f"Call: {LENGTH_S:.0f} s, stereo, 8 kHz, 16-bit, built from the real Italian prompts of "
        "asterisk-core-sounds-it (agent prompts left, other prompts right, alternating turns with "
        f"pauses, {n_turns} turns); speech on the left {speech[0]:.0%} of the time, on the right {speech[1]:.0%}.",
        "RTF = wall seconds to transcribe the whole call (both channels, language detection included) "
        "/ 60 s of call; model load excluded. CPU-s/s = CPU seconds (all threads) per second of call.",
        "",
        f"| configuration | RTF (wall) | vs default | CPU-s/s | WER agent | WER customer | language | segments ({n_turns} turns) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, rtf, cpu, w_a, w_c, lang, nseg in rows:
        lines.append(f"| {label} | {rtf:.3f} | {rtf / base:.2f}x | {cpu:.3f} | {w_a:.3f} | {w_c:.3f} | {lang} | {nseg} |")
    lines.append("")
    out = ROOT / "bench" / "results" / "transcribe_faster.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
