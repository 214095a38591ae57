"""Does the applicability model find the calls whose `identificazione` result is wrong?

``qa uncertain`` (``qa.learning.active``) puts first the calls where the call model
``applicabilita_identificazione`` (``qa.learning.callmodel``) and the rubric disagree about whether
`identificazione` applies. This measures, on labelled calls, how often the rubric's result is wrong
among those flagged calls and among the others:

- untouched batches (batch20, batch21, batch23 of tests/data/rules_fresh: the rubric was never tuned
  on them) with a model trained without the batch (leave one batch out);
- tuned-on folders (the dev set and the other batches), leave one batch out as well;
- the held-out set (tests/data/heldout, never training data) with the shipped model; aggregates only.

    python bench/review_priority.py [--no-write]       # writes bench/results/review_priority.md

The same recipe as ``qa train`` (``qa.learning.cascade.make_model("tfidf")``) fits every fold.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RESULTS = ROOT / "bench" / "results"
MODEL = "applicabilita_identificazione"
CRIT = "identificazione"
UNTOUCHED = ("batch20", "batch21", "batch23")


def rubric_results(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(labels, the rubric's results) of ``CRIT`` on a labelled folder."""
    import agreement as A

    labels = A.load_labels(folder)
    evals = A.score_all(A.load_transcripts(folder, labels))
    return ({cid: row.get(CRIT, "") for cid, row in labels.items()},
            {e.call_id: e.result(CRIT).result for e in evals if e.result(CRIT)})


def flagged_stats(rows: list[dict]) -> dict:
    """Flagged (model and rubric disagree about applicability) vs not: calls and rubric errors."""
    flag = [r for r in rows if (r["p"] >= 0.5) != (r["rubric"] != "na")]
    rest = [r for r in rows if r not in flag]
    err = lambda rs: sum(r["rubric"] != r["label"] for r in rs)  # noqa: E731
    return {"calls": len(rows), "flagged": len(flag), "flagged_errors": err(flag), "other": len(rest),
            "other_errors": err(rest), "errors": err(rows)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    from qa.learning.callmodel import folder_rows, labelled_folders
    from qa.learning.cascade import make_model
    from qa.learning.learn import predict_proba

    data = ROOT / "tests" / "data"
    folders = labelled_folders()
    by_folder = {f: folder_rows(MODEL, f) for f in folders}
    groups = {"untouched": [], "tuned-on": []}
    for f in folders:
        train = [r for g, rs in by_folder.items() if g != f for r in rs]
        model = make_model("tfidf")
        model.fit([r["text"] for r in train], [r["label"] for r in train])
        yes = list(model.classes_).index("yes")
        probs = model.predict_proba([r["text"] for r in by_folder[f]])[:, yes] if by_folder[f] else []
        labels, rubric = rubric_results(f)
        key = "untouched" if f.name in UNTOUCHED else "tuned-on"
        groups[key] += [{"label": labels[r["group"]], "rubric": rubric[r["group"]], "p": float(p)}
                        for r, p in zip(by_folder[f], probs)]
    labels, rubric = rubric_results(data / "heldout")
    held = folder_rows(MODEL, data / "heldout")
    probs = predict_proba(MODEL, [r["text"] for r in held])
    groups["held-out (shipped model)"] = [{"label": labels[r["group"]], "rubric": rubric[r["group"]],
                                           "p": pr.get("yes", 0.0)} for r, pr in zip(held, probs)]
    md = ["# Review priority: the applicability model as a second opinion on `identificazione`", "",
          "Calls where the call model `applicabilita_identificazione` and the rubric disagree about whether "
          "`identificazione` applies (`qa uncertain` lists them first), and how often the rubric's result is "
          "wrong there and elsewhere. Untouched and tuned-on: leave one batch out; held-out: the shipped model, "
          "aggregates only.", "",
          "| calls | n | flagged | rubric wrong among flagged | rubric wrong among the others | errors flagged |",
          "|---|---|---|---|---|---|"]
    for name, rows in groups.items():
        s = flagged_stats(rows)
        pf = s["flagged_errors"] / s["flagged"] if s["flagged"] else 0.0
        po = s["other_errors"] / s["other"] if s["other"] else 0.0
        line = (f"{name}: {s['calls']} calls, {s['flagged']} flagged; rubric wrong in {s['flagged_errors']} of them "
                f"({pf:.0%}) and in {s['other_errors']} of the other {s['other']} ({po:.0%}); "
                f"{s['flagged_errors']} of {s['errors']} errors flagged")
        print(line)
        md.append(f"| {name} | {s['calls']} | {s['flagged']} | {s['flagged_errors']} ({pf:.0%}) | "
                  f"{s['other_errors']} of {s['other']} ({po:.0%}) | {s['flagged_errors']} of {s['errors']} |")
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "review_priority.md").write_text("\n".join(md) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS / 'review_priority.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
