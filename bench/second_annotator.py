"""How far the tool is from a second reader: every labelled set with a second annotator
(``annotator2/labels.csv`` beside the author's ``labels.csv``: the scripted held-out set and the
untouched batches batch20, batch21, batch23 of tests/data/rules_fresh), author vs second annotator,
the tool vs the author and the tool vs the second annotator, per criterion. Aggregates only (the
held-out set is never read call by call).

    python bench/second_annotator.py [--no-write]      # writes bench/results/second_annotator.md
    python bench/second_annotator.py --merge tests/data/heldout/adjudicated   # labels.csv from adjudication.csv

Where a folder also has ``adjudicated/labels.csv`` (a third reader's decision on every label the
author and the second annotator disagree about, ``adjudicated/adjudication.csv``; the labels both
gave kept), the tool is measured against that adjudicated reference too.

The second annotators, like the authors, are language-model helpers that read only CRITERIA.md and
the transcripts; their agreement with the authors is how consistently the criteria can be read, an
upper bound on what a tool can reach, not the agreement of two people.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RESULTS = ROOT / "bench" / "results"


def folders() -> list[Path]:
    """The labelled folders with a second annotator, held-out set first."""
    data = ROOT / "tests" / "data"
    return [p.parent.parent for p in [data / "heldout" / "annotator2" / "labels.csv"]
            + sorted((data / "rules_fresh").glob("batch*/annotator2/labels.csv")) if p.exists()]


def measure(folder: Path) -> dict:
    """Author vs second annotator, tool vs author, tool vs second annotator on ``folder``."""
    import agreement as A

    author = A.load_labels(folder)
    second = A.load_labels(folder / "annotator2")
    evals = A.score_all(A.load_transcripts(folder, author))
    tool = {e.call_id: {c: (e.result(c).result if e.result(c) else "missing") for c in A.CORE} for e in evals}
    out = {"human": A.labels_agreement(author, second), "tool_author": A.labels_agreement(author, tool),
           "tool_second": A.labels_agreement(second, tool)}
    if (folder / "adjudicated" / "labels.csv").exists():
        adjudicated = A.load_labels(folder / "adjudicated")
        out["author_adjudicated"] = A.labels_agreement(adjudicated, author)
        out["tool_adjudicated"] = A.labels_agreement(adjudicated, tool)
    return out


def merge_adjudication(folder: Path) -> Path:
    """Write ``folder/labels.csv``: the author's labels (``folder/../labels.csv``) with every decision of
    ``folder/adjudication.csv`` (call_id, criterion, label, reason) in place of the author's label. Each
    decision must be about a label the author and the second annotator disagree on, and every such label
    must have a decision (ValueError otherwise)."""
    import agreement as A

    root = folder.parent
    author = A.load_labels(root)
    second = A.load_labels(root / "annotator2")
    with (folder / "adjudication.csv").open(encoding="utf-8", newline="") as fh:
        decisions = {(r["call_id"], r["criterion"]): r for r in csv.DictReader(fh)}
    disputed = {(cid, c) for cid, row in author.items() for c, v in row.items()
                if v and second.get(cid, {}).get(c) and second[cid][c] != v}
    if set(decisions) != disputed:
        raise ValueError(f"adjudication.csv decides {len(decisions)} labels, the readers dispute {len(disputed)}: "
                         "they must be the same labels")
    bad = [k for k, r in decisions.items() if r["label"] not in ("pass", "fail", "na") or not r.get("reason", "").strip()]
    if bad:
        raise ValueError(f"adjudication.csv: {len(bad)} decisions without a valid label and a reason")
    crits = [c for c in A.CORE if any(c in row for row in author.values())]
    out = folder / "labels.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["call_id", *crits])
        for cid in sorted(author):
            w.writerow([cid, *[decisions[(cid, c)]["label"] if (cid, c) in decisions else author[cid].get(c, "")
                               for c in crits]])
    return out


def report(results: dict[str, dict]) -> str:
    import agreement as A

    md = ["# The tool against two readers", "",
          "Every labelled set with a second annotator (`annotator2/labels.csv`): author vs second annotator, "
          "the tool vs the author, the tool vs the second annotator. Accuracy per criterion (macro kappa in the "
          "last row). Both labellers are language-model helpers that read only CRITERIA.md and the transcripts: "
          "their agreement says how consistently the criteria can be read, not how two people would agree.", ""]
    for name, r in results.items():
        cols = [("author vs second", "human"), ("tool vs author", "tool_author"), ("tool vs second", "tool_second"),
                ("author vs adjudicated", "author_adjudicated"), ("tool vs adjudicated", "tool_adjudicated")]
        cols = [(title, key) for title, key in cols if key in r]
        md += [f"## {name} ({r['human']['n_calls']} calls)", "",
               "| criterion | " + " | ".join(t for t, _ in cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for c in r["human"]["criteria"]:
            md.append(f"| {c} | " + " | ".join(A._k(r[k]["criteria"][c]["accuracy"]) for _, k in cols) + " |")
        md += ["| **macro accuracy (kappa)** | " + " | ".join(
            f"{A._k(r[k]['macro_accuracy'])} ({A._k(r[k]['macro_kappa'])})" for _, k in cols) + " |", ""]
    return "\n".join(md)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--merge", type=Path, metavar="FOLDER",
                    help="write FOLDER/labels.csv from FOLDER/adjudication.csv and the author's labels, then stop")
    args = ap.parse_args(argv)
    if args.merge:
        try:
            print(f"wrote {merge_adjudication(args.merge)}")
        except (OSError, ValueError, KeyError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    results = {}
    for folder in folders():
        name = str(folder.relative_to(ROOT / "tests" / "data"))
        r = results[name] = measure(folder)
        h, ta, ts = r["human"], r["tool_author"], r["tool_second"]
        print(f"{name} ({h['n_calls']} calls): author vs second {h['macro_accuracy']} (kappa {h['macro_kappa']}), "
              f"tool vs author {ta['macro_accuracy']} ({ta['macro_kappa']}), tool vs second {ts['macro_accuracy']} "
              f"({ts['macro_kappa']}); identificazione {h['criteria']['identificazione']['accuracy']} / "
              f"{ta['criteria']['identificazione']['accuracy']} / {ts['criteria']['identificazione']['accuracy']}")
        if "tool_adjudicated" in r:
            ad, aa = r["tool_adjudicated"], r["author_adjudicated"]
            print(f"  adjudicated reference: author {aa['macro_accuracy']} ({aa['macro_kappa']}), tool "
                  f"{ad['macro_accuracy']} ({ad['macro_kappa']}); identificazione author "
                  f"{aa['criteria']['identificazione']['accuracy']}, tool {ad['criteria']['identificazione']['accuracy']}")
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "second_annotator.md").write_text(report(results) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS / 'second_annotator.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
