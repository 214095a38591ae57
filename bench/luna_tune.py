"""Tuning figures of the rubric engine on real calls: the LUNA dev set's `tune` split (never the
`heldout` split) and the scripted dev set, plus speaker roles per turn on the LUNA tune calls.

    python bench/luna_tune.py [--devset] [--fresh] [--fresh2] [--fresh3] [--fresh5] [--fresh6] [--fresh7] [--fresh8] [--fresh9] [--fresh10] [--fresh11] [--fresh12] [--fresh13] [--fresh14] [--fresh15] [--fresh16] [--fresh17] [--fresh18] [--fresh19] [--fresh20] ... [--fresh25] [--tune3] [--tune4] [--disagreements] [--roles]

Only calls whose split is ``tune`` in tests/data/luna_dev/split.csv are read. The figures are
tuned-on figures (the rules were adjusted while looking at them). ``--fresh``: the hand-written
check set tests/data/rules_fresh (labelled before it was first scored; labels frozen); ``--fresh2``:
its batch2/ (written after the first rubric change, scored once at the end); ``--fresh3``: its batch3/
(written and labelled before the third rubric round, scored once at its end); ``--fresh5``: its
batch5/ (32 calls by an independent author who never read the rubrics, labelled before any scoring;
first scored 2026-12-07 before the fourth rubric round, tuned on after that); ``--fresh6``: its batch6/
(32 calls by another independent author, labelled before any scoring, scored once untouched at the
end of the fourth round, tuned on after that); ``--fresh7``: its batch7/ (28 calls in the style of
real transcripts, mostly Italian help desk, another independent author, with speaker truth per turn;
first scored untouched before the fifth round, tuned on after that); ``--fresh8``: its batch8/ (32
calls, a fourth independent author: the untouched check of rounds 4 and 5, scored once at their end,
tuned on in round 6); ``--fresh9``: its batch9/ (24 calls, a fifth independent author: the untouched
check of round 6); ``--fresh10``: its batch10/ (32 calls, a sixth independent author, real-call style
with speaker truth per turn: the untouched check of the fourth stop, tuned on after that);
``--fresh11``: its batch11/ (32 calls, a seventh independent author, identification in many
variants, with speaker truth per turn: the untouched check of rubric .7, tuned on after that);
``--fresh12``: its batch12/ (32 calls, an eighth independent author: the untouched check of rubric .9,
tuned on after that); ``--fresh13``: its batch13/ (32 calls, a ninth independent author: the
untouched check of the fifth stop's final rubric .12); ``--fresh14``, ``--fresh15``: its batch14/ and
batch15/ (32 calls each, the tenth and eleventh independent authors: identification in many variants;
long spontaneous calls with hard recaps and closings; the untouched checks of the sixth stop's first
rubric rounds); ``--fresh16``, ``--fresh17``: batch16/ and batch17/ (the twelfth and thirteenth authors,
a cross-section of a day and ASR-style real calls: the untouched check of rubric .25);
``--fresh18``, ``--fresh19``: batch18/ and batch19/ (sales and win-back calls; Italian-heavy IT help
desk: the untouched check of rubric .32); ``--fresh20``, ``--fresh21``: batch20/ and batch21/ (a general mix;
ASR-style real calls: the untouched check of the sixth stop's final rubric .34, and of the seventh
stop's .37); ``--fresh22`` ... ``--fresh25``: batch22/ - batch25/ (the eighteenth to twenty-first authors;
batch23 the untouched check of rubric .37, the others tuned on in .37); one ``--freshN`` per batchN/ folder;
``--tune3``: its tune3/
(tuning dialogues written during the third round: tuned on); ``--tune4``: its tune4/ (tuning
dialogues for identificazione and protezione_dati, issue 12: tuned on).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LUNA = ROOT / "tests" / "data" / "luna_dev"
FRESH = ROOT / "tests" / "data" / "rules_fresh"


def tune_ids() -> list[str]:
    with (LUNA / "split.csv").open(encoding="utf-8") as fh:
        return sorted(r["call_id"] for r in csv.DictReader(fh) if r["split"] == "tune")


def luna_labels(ids) -> dict:
    keep = set(ids)
    with (LUNA / "labels.csv").open(encoding="utf-8") as fh:
        return {r["call_id"]: {k: v for k, v in r.items() if k != "call_id"}
                for r in csv.DictReader(fh) if r["call_id"] in keep}


def luna_turns(ids) -> dict:
    keep = set(ids)
    out: dict = {}
    with (LUNA / "turns.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["call_id"] in keep:
                out.setdefault(r["call_id"], {})[int(r["turn"])] = r["speaker"]
    return out


def roles_accuracy(ids) -> tuple[float, int]:
    from qa.model import Transcript
    from qa.analysis.roles import assign_roles

    ref = luna_turns(ids)
    ok = n = 0
    for cid in ids:
        t = Transcript.load(LUNA / "transcripts" / f"{cid}.json")
        pred = assign_roles(t)
        for i, s in enumerate(pred.segments):
            if i in ref.get(cid, {}):
                n += 1
                ok += s.speaker == ref[cid][i]
    return ok / n, n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devset", action="store_true")
    ap.add_argument("--disagreements", action="store_true")
    ap.add_argument("--roles", action="store_true")
    ap.add_argument("--fresh", action="store_true")
    batches = sorted((int(p.name[5:]), p) for p in FRESH.glob("batch*") if p.name[5:].isdigit())
    for n, _ in batches:  # --fresh2 ... --freshN: one flag per folder batchN/
        ap.add_argument(f"--fresh{n}", action="store_true")
    ap.add_argument("--tune3", action="store_true")
    ap.add_argument("--tune4", action="store_true")
    args = ap.parse_args(argv)
    from bench.agreement import agreement, load_labels, load_transcripts, score_all
    from qa.model import Transcript

    ids = tune_ids()
    labels = luna_labels(ids)
    calls = [Transcript.load(LUNA / "transcripts" / f"{cid}.json") for cid in ids]
    res = agreement(score_all(calls), labels)
    print(f"LUNA tune ({len(calls)} calls): macro kappa {res['macro_kappa']}")
    for c, v in res["criteria"].items():
        print(f"  {c:22s} acc {v['accuracy']:.3f} kappa {v['kappa']}")
    if args.disagreements:
        for d in res["disagreements"]:
            print("   ", *d)
    if args.devset:
        dl = load_labels()
        dres = agreement(score_all(load_transcripts(labels=dl)), dl)
        print(f"devset: macro kappa {dres['macro_kappa']}")
        for c, v in dres["criteria"].items():
            print(f"  {c:22s} acc {v['accuracy']:.3f} kappa {v['kappa']}")
        if args.disagreements:
            for d in dres["disagreements"]:
                print("   ", *d)
    folders = [(args.fresh, FRESH)] + [(getattr(args, f"fresh{n}"), p) for n, p in batches] \
        + [(args.tune3, FRESH / "tune3"), (args.tune4, FRESH / "tune4")]
    for flag, folder in folders:
        if not flag:
            continue
        fl = load_labels(folder)
        fres = agreement(score_all(load_transcripts(folder, fl)), fl)
        n = sum(1 for r in fl.values() for v in r.values() if v)  # tune4 labels only two criteria
        ok = n - len(fres["disagreements"])
        print(f"{folder.relative_to(ROOT)} ({len(fl)} calls): macro kappa {fres['macro_kappa']}, "
              f"agreement {ok}/{n} = {ok / n:.3f}")
        for c, v in fres["criteria"].items():
            if v["accuracy"] is None:
                continue
            print(f"  {c:22s} acc {v['accuracy']:.3f} kappa {v['kappa']}")
        if args.disagreements:
            for d in fres["disagreements"]:
                print("   ", *d)
    if args.roles:
        acc, n = roles_accuracy(ids)
        print(f"roles per turn on LUNA tune: {acc:.4f} of {n} turns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
