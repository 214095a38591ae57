"""The tool on calls nobody tuned on, pooled: the independent batches of tests/data/rules_fresh that
stayed untouched (no phrase, rule or threshold was ever written looking at them), each batch and
all of them together, per criterion with 95 % intervals (``qa.learning.intervals``). Aggregates only:
nothing is printed call by call, so running it leaves them untouched.

    python bench/untouched.py [--no-write]     # writes bench/results/untouched.md

A batch leaves the untouched list (``UNTOUCHED_BATCHES`` in bench/agreement.py) as soon as any of its calls is read while working on the
rules; tests/data/rules_fresh/README.md says which batches were looked at and when.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FRESH = ROOT / "tests" / "data" / "rules_fresh"
RESULTS = ROOT / "bench" / "results"


def _untouched() -> tuple[str, ...]:
    import agreement as A

    return A.UNTOUCHED_BATCHES  # one list: bench/agreement.py's set ``untouched`` (CI floors) pools the same


def measure(batches=None) -> dict[str, dict]:
    """{batch or "pooled": agreement (bench/agreement.agreement)} of the batches that exist (default: the
    untouched ones)."""
    import agreement as A

    out, labels_all, evals_all = {}, {}, []
    for b in batches or _untouched():
        folder = FRESH / b
        if not (folder / "labels.csv").exists():
            continue
        labels = A.load_labels(folder)
        evals = A.score_all(A.load_transcripts(folder, labels))
        out[b] = A.agreement(evals, labels)
        labels_all.update(labels)
        evals_all += evals
    if len(out) > 1:
        out["pooled"] = A.agreement(evals_all, labels_all)
    return out


def report(results: dict[str, dict]) -> str:
    import agreement as A

    md = ["# The tool on untouched independent batches", "",
          "Batches of tests/data/rules_fresh written and labelled by independent authors before any scoring "
          "and never read while working on the rules (`bench/untouched.py`). Accuracy and macro kappa with "
          "95 % intervals (Wilson; bootstrap over calls).", "",
          "| set | calls | macro accuracy | macro kappa | 95 % interval |", "|---|---|---|---|---|"]
    for name, r in results.items():
        md.append(f"| {name} | {r['n_calls']} | {A._k(r['macro_accuracy'])} | **{A._k(r['macro_kappa'])}** | "
                  f"{A._ci(r['macro_kappa_ci'])} |")
    pooled = results.get("pooled") or next(iter(results.values()), None)
    if pooled:
        md += ["", f"Per criterion, {'pooled' if 'pooled' in results else next(iter(results))}:", "",
               "| criterion | n | accuracy | 95 % interval | kappa | 95 % interval |", "|---|---|---|---|---|---|"]
        for c, v in pooled["criteria"].items():
            if v["n"]:
                md.append(f"| {c} | {v['n']} | {A._k(v['accuracy'])} | {A._ci(v['accuracy_ci'])} | "
                          f"{A.criterion_kappa(v)} | {A._ci(v['kappa_ci']) if v['classes'] >= 2 else '-'} |")
    return "\n".join(md) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    results = measure()
    if not results:
        print("error: no untouched batch found in tests/data/rules_fresh", file=sys.stderr)
        return 2
    for name, r in results.items():
        ident = r["criteria"]["identificazione"]
        print(f"{name} ({r['n_calls']} calls): macro accuracy {r['macro_accuracy']}, macro kappa {r['macro_kappa']} "
              f"{r['macro_kappa_ci']}; identificazione {ident['accuracy']} {ident['accuracy_ci']}")
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "untouched.md").write_text(report(results), encoding="utf-8")
        print(f"wrote {RESULTS / 'untouched.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
