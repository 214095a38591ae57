"""Turns Whisper lost: how often a turn's words are missing from the transcript of its channel.

For every cached Kokoro + Whisper transcript (``bench/results/heldout_speech``: the held-out calls;
``bench/results/tuned_speech``: tuned-on batch calls), each reference turn of three words or more is
``lost`` when fewer than a third of its words (letters only) appear anywhere in the Whisper text of
its party's channel. Reported apart for the last turn of each party (where Whisper is known to drop
the end of the audio) and for the other turns. Transcription only, no labels: aggregates.

    python bench/lost_turns.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORD = re.compile(r"[^\W\d_]+")


def reference_of(path: Path, which: str):
    from qa.model import Transcript

    if which == "heldout":
        return Transcript.load(ROOT / "tests" / "data" / "heldout" / path.name)
    src = path.with_name(path.stem + ".src.json")  # the call as spoken (masks replaced)
    batch = "batch" + re.match(r"fresh(\d+)", path.stem).group(1)
    return Transcript.load(src if src.exists() else ROOT / "tests" / "data" / "rules_fresh" / batch / path.name)


def lost_turns(reference, asr) -> dict[str, list[int]]:
    """{"last": [turns, lost], "other": [turns, lost]} of one call."""
    out = {"last": [0, 0], "other": [0, 0]}
    for party in ("agent", "customer"):
        heard = set(WORD.findall(" ".join(s.text for s in asr.segments if s.speaker == party).lower()))
        turns = [s for s in reference.segments if s.speaker == party]
        for i, s in enumerate(turns):
            words = WORD.findall(s.text.lower())
            if len(words) < 3:
                continue
            key = "last" if i == len(turns) - 1 else "other"
            out[key][0] += 1
            out[key][1] += sum(w in heard for w in words) / len(words) < 1 / 3
    return out


def main() -> int:
    from qa.model import Transcript

    for which in ("heldout", "tuned"):
        folder = ROOT / "bench" / "results" / f"{which}_speech"
        total = {"last": [0, 0], "other": [0, 0]}
        paths = [p for p in sorted(folder.glob("*.json")) if not p.name.endswith(".src.json")]
        for p in paths:
            for k, (n, lost) in lost_turns(reference_of(p, which), Transcript.load(p)).items():
                total[k][0] += n
                total[k][1] += lost
        print(f"{which} ({len(paths)} calls): " + "; ".join(
            f"{k} turn of a party: {lost} of {n} lost ({lost / max(1, n):.1%})" for k, (n, lost) in total.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
