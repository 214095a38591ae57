"""Render the held-out scripted calls as speech (Kokoro) and transcribe them (Whisper); cache the transcripts.

    python bench/heldout_speech.py [--limit N] [--calls ID ...]

Each call of tests/data/heldout is spoken by Kokoro-82M (``samples.generate.synthesize_call`` with
``samples.kokoro_tts.KOKORO_VOICES``: agent on the left channel, customer on the right, 8 kHz
telephone band), then transcribed by the default engine (``qa.transcribe.transcribe_file``:
faster-whisper base, language auto-detected, agent channel left), the call's metadata re-attached.
The Whisper transcript is saved as ``bench/results/heldout_speech/<call_id>.json`` (committed:
small), so that ``bench/agreement.py --speech`` re-scores them with the current engine in seconds.
A call already there is skipped. The audio goes to bench/out/heldout_speech_audio/ (not committed).

Calls are done in a balanced order: one call of every (call type, language) pair, call types
outermost, then a second one of every pair, and so on; a run cut short leaves a subset balanced
over languages first, then call types.

The held-out set is frozen and never tuned on: this script prints no per-call comparison with
labels, only progress.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HELDOUT = ROOT / "tests" / "data" / "heldout"
CACHE = ROOT / "bench" / "results" / "heldout_speech"
AUDIO = ROOT / "bench" / "out" / "heldout_speech_audio"


def balanced_order(transcripts):
    """The calls interleaved over (call type, language): the i-th call of every pair before any (i+1)-th,
    the four languages of a call type next to each other."""
    groups: dict[tuple, list] = {}
    for t in sorted(transcripts, key=lambda t: t.call_id):
        groups.setdefault((str(t.metadata.get("call_type")), t.language or "?"), []).append(t)
    out, i = [], 0
    while any(len(g) > i for g in groups.values()):
        out += [g[i] for _, g in sorted(groups.items()) if len(g) > i]
        i += 1
    return out


def render_and_transcribe(t, cache: Path = CACHE, audio_dir: Path = AUDIO):
    """Speak ``t`` with Kokoro, transcribe it, save and return the Whisper transcript."""
    from qa.transcribe import TranscribeOptions, transcribe_file
    from samples.generate import synthesize_call
    from samples.kokoro_tts import KOKORO_VOICES

    audio_dir.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    wav = audio_dir / f"{t.call_id}.wav"
    if not wav.exists():
        tmp = wav.with_name(wav.stem + ".part.wav")
        synthesize_call([(s.speaker, s.text) for s in t.segments if s.text.strip()], tmp, t.language or "it",
                        stereo=True, voices=KOKORO_VOICES.get(t.language))
        os.replace(tmp, wav)
    asr = transcribe_file(wav, TranscribeOptions(language=None, agent_channel="left"),
                          metadata=dict(t.metadata), call_id=t.call_id)
    out = cache / f"{t.call_id}.json"
    tmp = out.with_name(out.name + ".tmp")
    asr.save(tmp)
    os.replace(tmp, out)
    return asr


def render_missing(calls, cache: Path, render) -> None:
    """``render(call)`` for each of ``calls`` whose transcript is not yet in ``cache``, with progress."""
    todo = [t for t in calls if not (cache / f"{t.call_id}.json").exists()]
    print(f"{len(calls) - len(todo)} of {len(calls)} calls already transcribed; {len(todo)} to do", flush=True)
    t_all = time.time()
    for i, t in enumerate(todo, 1):
        if (cache / f"{t.call_id}.json").exists():  # done meanwhile by another run
            continue
        t0 = time.time()
        asr = render(t)
        print(f"[{i}/{len(todo)}] {t.call_id}: {len(asr.segments)} segments, {time.time() - t0:.0f}s "
              f"(total {time.time() - t_all:.0f}s)", flush=True)


def select_calls(calls, ids=None, limit=None, what: str = "calls"):
    """``calls`` (in their order) cut to ``ids`` (in that order) and then to the first ``limit``;
    ValueError with a one-line message for an id that is not among them."""
    if ids:
        by_id = {t.call_id: t for t in calls}
        unknown = sorted(set(ids) - set(by_id))
        if unknown:
            raise ValueError(f"error: not {what}: {', '.join(unknown)}")
        calls = [by_id[cid] for cid in ids]
    return calls[:limit] if limit else calls


def main(argv=None) -> int:
    """Command line: see the module docstring."""
    from qa.model import Transcript

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="at most N calls (in the balanced order)")
    ap.add_argument("--calls", nargs="*", help="only these call ids, in this order")
    args = ap.parse_args(argv)
    calls = balanced_order([Transcript.load(p) for p in sorted(HELDOUT.glob("heldout-*.json"))])
    try:
        calls = select_calls(calls, args.calls, args.limit, "held-out calls")
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    render_missing(calls, CACHE, render_and_transcribe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
