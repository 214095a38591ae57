"""Scoring throughput one call at a time on one core (issue 12: >= 50 calls per CPU-second per core).

Each call is scored on its own through the public API (``qa.rubric.score_transcripts([call])``),
CPU time of this process (``time.process_time``), pinned to one core (``taskset -c 0``,
OMP_NUM_THREADS=1: run it as below). Before timing, a warm-up loads what a long-running worker has
loaded after its first calls, and nothing of the timed calls: every rubric, language and model,
the speaker-role and call-type models included, by scoring the scripted dev set once with its
speakers hidden and its call type removed (so roles and call type are inferred, as on a mono call).
Then two passes over each set: the first is "first sight" (words new to the per-word caches), the
second "known words" (a worker that has seen such calls before). Sets: the 64 scripted held-out
calls (stereo: speakers known, call type in the metadata) and the 30 LUNA dev calls (mono, 62
segments on average: roles and call type inferred). Only timings are read from the held-out calls.

    taskset -c 0 env OMP_NUM_THREADS=1 python bench/throughput_calls.py

The plain reference paths, to see whether the hand-written speed layers are still needed for the
target (issue 12: prefer plain spaCy / scikit-learn where they reach it): ``QA_PLAIN_MATCHER=1``
(spaCy's Matcher instead of ``qa.rubric.anchored``) and ``QA_FAST_MODELS=0`` (scikit-learn's
predict_proba instead of ``qa.learning.fastpredict``), alone or together, in the environment.
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.learning.calibration import load_transcripts  # noqa: E402
from qa.rubric import score_transcripts  # noqa: E402

DATA = ROOT / "tests" / "data"


def as_mono(t):
    """The call as a mono recording with no metadata gives it: speakers unknown, no call type."""
    t = copy.deepcopy(t)
    for s in t.segments:
        s.speaker = "unknown"
    t.metadata.pop("call_type", None)
    return t


def one_at_a_time(calls) -> list[float]:
    per = []
    for t in calls:
        t0 = time.process_time()
        list(score_transcripts([t]))
        per.append(time.process_time() - t0)
    return per


def main() -> None:
    warm = [as_mono(t) for t in load_transcripts(DATA / "devset").values()]
    t0 = time.process_time()
    list(score_transcripts(warm))
    print(f"warm-up: {len(warm)} dev calls as mono, {time.process_time() - t0:.1f} s CPU (loads included)")
    sets = {"scripted held-out (64, stereo)": list(load_transcripts(DATA / "heldout").values()),
            "LUNA dev (30, mono, roles + call type inferred)": list(load_transcripts(DATA / "luna_dev" / "transcripts").values())}
    for name, calls in sets.items():
        segs = statistics.mean(len(t.segments) for t in calls)
        for label in ("first sight", "known words"):
            per = one_at_a_time(calls)
            print(f"{name:48s} {label:12s} {len(per) / sum(per):6.1f} calls/CPU-s   mean {1000 * statistics.mean(per):6.1f} ms"
                  f"   max {1000 * max(per):6.1f} ms   ({segs:.0f} segments/call)")


if __name__ == "__main__":
    main()
