"""How far the tool is from a second reader: every labelled set with a second annotator
(``annotator2/labels.csv`` beside the author's ``labels.csv``: the scripted held-out set and the
untouched batches batch20, batch21, batch23 of tests/data/rules_fresh), author vs second annotator,
the tool vs the author and the tool vs the second annotator, per criterion. Aggregates only (the
held-out set is never read call by call).

    python bench/second_annotator.py [--no-write]      # writes bench/results/second_annotator.md

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
    with (folder / "annotator2" / "labels.csv").open(encoding="utf-8", newline="") as fh:
        second = {r["call_id"]: {k: (v or "").strip() for k, v in r.items() if k != "call_id"} for r in csv.DictReader(fh)}
    evals = A.score_all(A.load_transcripts(folder, author))
    tool = {e.call_id: {c: (e.result(c).result if e.result(c) else "missing") for c in A.CORE} for e in evals}
    return {"human": A.labels_agreement(author, second), "tool_author": A.labels_agreement(author, tool),
            "tool_second": A.labels_agreement(second, tool)}


def report(results: dict[str, dict]) -> str:
    import agreement as A

    md = ["# The tool against two readers", "",
          "Every labelled set with a second annotator (`annotator2/labels.csv`): author vs second annotator, "
          "the tool vs the author, the tool vs the second annotator. Accuracy per criterion (macro kappa in the "
          "last row). Both labellers are language-model helpers that read only CRITERIA.md and the transcripts: "
          "their agreement says how consistently the criteria can be read, not how two people would agree.", ""]
    for name, r in results.items():
        h, ta, ts = r["human"], r["tool_author"], r["tool_second"]
        md += [f"## {name} ({h['n_calls']} calls)", "",
               "| criterion | author vs second | tool vs author | tool vs second |", "|---|---|---|---|"]
        for c in h["criteria"]:
            md.append(f"| {c} | {A._k(h['criteria'][c]['accuracy'])} | {A._k(ta['criteria'][c]['accuracy'])} | "
                      f"{A._k(ts['criteria'][c]['accuracy'])} |")
        md += [f"| **macro accuracy (kappa)** | {A._k(h['macro_accuracy'])} ({A._k(h['macro_kappa'])}) | "
               f"{A._k(ta['macro_accuracy'])} ({A._k(ta['macro_kappa'])}) | "
               f"{A._k(ts['macro_accuracy'])} ({A._k(ts['macro_kappa'])}) |", ""]
    return "\n".join(md)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    results = {}
    for folder in folders():
        name = str(folder.relative_to(ROOT / "tests" / "data"))
        r = results[name] = measure(folder)
        h, ta, ts = r["human"], r["tool_author"], r["tool_second"]
        print(f"{name} ({h['n_calls']} calls): author vs second {h['macro_accuracy']} (kappa {h['macro_kappa']}), "
              f"tool vs author {ta['macro_accuracy']} ({ta['macro_kappa']}), tool vs second {ts['macro_accuracy']} "
              f"({ts['macro_kappa']}); identificazione {h['criteria']['identificazione']['accuracy']} / "
              f"{ta['criteria']['identificazione']['accuracy']} / {ts['criteria']['identificazione']['accuracy']}")
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "second_annotator.md").write_text(report(results) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS / 'second_annotator.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
