"""Snapshot the rubric engine's evaluations, to check that a speed change leaves every result as it was.

    python bench/score_snapshot.py save DIR      # score every set, write DIR/<set>.json
    python bench/score_snapshot.py compare DIR   # score the calls saved in DIR again, compare exactly

Sets: the dev calls (tests/data/devset), the sample transcripts (samples/transcripts), the 30 LUNA calls
of the dev set (tests/data/luna_dev/transcripts; the other 30 LUNA calls are reserved for an independent
check and never read), and ``--synthetic N`` calls (default 1000) made deterministically
from those by mixing turns of two calls of one language and changing the metadata and text in the ways
real input differs (no call type, no language, no customer name, other names, speakers unknown or
swapped, lower case without punctuation, cut calls, empty turns). Each set is scored through the batch
API (``score_transcripts``, batches of 256, as ``qa score``). What is compared: each evaluation's JSON
(``Evaluation.to_dict``) plus every criterion's raw confidence (``repr`` of the float, not rounded).
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LUNA = ROOT / "tests" / "data" / "luna_dev" / "transcripts"
NAMES = ["Marco Rossi", "Anne-Sophie Dubois", "Thomas Keller", "Giulia Bernasconi", "Sarah Walker", "Jean-Luc Rochat",
         "Paolo Ferrari", "Frau Müller", "Ada", "Luca", "Rossier"]


def _load(paths):
    from qa.model import Transcript

    return [Transcript.load(p) for p in paths]


def base_sets() -> dict[str, list]:
    sets = {"dev": _load(sorted((ROOT / "tests" / "data" / "devset").glob("dev-*.json"))),
            "samples": _load(sorted((ROOT / "samples" / "transcripts").glob("*.json")))}
    if LUNA.is_dir():
        sets["luna"] = _load(sorted(LUNA.glob("*.json")))
    return sets


def synthetic(pool: list, n: int, seed: int = 0) -> list:
    """``n`` calls made from ``pool`` (deterministic for ``seed``)."""
    from qa.model import Segment, Transcript

    rng = random.Random(seed)
    by_lang: dict[str, list] = {}
    for t in pool:
        by_lang.setdefault(t.language or "it", []).append(t)
    punct = re.compile(r"[^\w\s'<>-]")
    out = []
    for i in range(n):
        a = rng.choice(pool)
        segs = [copy.copy(s) for s in a.segments]
        meta = dict(a.metadata)
        lang = a.language
        if rng.random() < 0.5:  # turns of two calls of one language
            b = rng.choice(by_lang[a.language or "it"])
            cut_a = rng.randint(1, max(1, len(a.segments)))
            cut_b = rng.randint(0, max(0, len(b.segments) - 1))
            segs = [copy.copy(s) for s in a.segments[:cut_a]]
            shift = (segs[-1].end if segs else 0.0) + 0.4 - (b.segments[cut_b].start if b.segments else 0.0)
            for s in b.segments[cut_b:]:
                s = copy.copy(s)
                s.start, s.end = round(s.start + shift, 3), round(s.end + shift, 3)
                segs.append(s)
        for change in rng.sample(range(10), rng.randint(1, 3)):
            if change == 0:
                meta.pop("call_type", None)
            elif change == 1:
                lang = None
            elif change == 2:
                meta.pop("customer_name", None)
            elif change == 3:
                meta["customer_name"] = rng.choice(NAMES)
                if rng.random() < 0.3:
                    meta["agent_name"] = rng.choice(NAMES)
            elif change == 4:
                for s in segs:
                    s.speaker = "unknown"
            elif change == 5:
                swap = {"agent": "customer", "customer": "agent"}
                for s in segs:
                    s.speaker = swap.get(s.speaker, s.speaker)
            elif change == 6:
                for s in segs:
                    s.text = " ".join(punct.sub(" ", s.text.lower()).split())
            elif change == 7 and len(segs) > 3:
                k = rng.randint(2, len(segs) - 1)
                segs = segs[:k] if rng.random() < 0.5 else segs[-k:]
            elif change == 8 and segs:
                j = rng.randrange(len(segs))
                s = segs[j]
                segs.insert(j, Segment(speaker=s.speaker, start=s.start, end=s.start, text=rng.choice(["", "  ", "ok"])))
            elif change == 9:
                meta["call_type"] = rng.choice(["acquisizione", "assistenza", "fidelizzazione", "riacquisizione",
                                                "Assistenza ", "other"])
        out.append(Transcript(call_id=f"SYN-{i:05d}-{a.call_id}", segments=segs, language=lang,
                              duration=a.duration, metadata=meta))
    return out


def all_sets(n_synth: int) -> dict[str, list]:
    sets = base_sets()
    pool = sets["dev"] + sets["samples"] + sets.get("luna", [])
    sets["synthetic"] = synthetic(pool, n_synth)
    return sets


def evaluate(calls) -> list[dict]:
    from qa.rubric import score_transcripts

    out = []
    for ev in score_transcripts(calls):
        d = ev.to_dict()
        d["_raw_confidence"] = [repr(c.confidence) for c in ev.criteria]
        out.append(d)
    return out


def save_inputs(sets: dict, path: Path) -> None:
    path.write_text(json.dumps({k: [t.to_dict() for t in v] for k, v in sets.items()}, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def load_inputs(path: Path) -> dict:
    from qa.model import Transcript

    return {k: [Transcript.from_dict(d) for d in v] for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["save", "compare"])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--synthetic", type=int, default=1000, help="synthetic calls (default 1000)")
    args = ap.parse_args(argv)
    inputs = args.dir / "inputs.json"  # the calls as they were when saved (the sample files may change since)
    if args.action == "compare" and inputs.exists():
        sets = load_inputs(inputs)
    else:
        sets = all_sets(args.synthetic)
        if args.action == "save":
            args.dir.mkdir(parents=True, exist_ok=True)
            save_inputs(sets, inputs)
    bad = 0
    for name, calls in sets.items():
        got = evaluate(calls)
        path = args.dir / f"{name}.json"
        if args.action == "save":
            path.write_text(json.dumps(got, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
            print(f"{name}: {len(got)} evaluations saved to {path}")
            continue
        want = json.loads(path.read_text(encoding="utf-8"))
        diff = [g["call_id"] for g, w in zip(got, want) if g != w]
        if len(got) != len(want):
            diff.append(f"count {len(got)} != {len(want)}")
        bad += len(diff)
        print(f"{name}: {len(got)} evaluations, {len(diff)} differ" + (f": {diff[:5]}" if diff else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
