"""Calibration before and after training on the team's labelled set, and the fairness flips.

    python bench/calibration.py [--folds 4] [--no-fairness]

1. Before: the shipped rubrics + models (modelli/) score the 64 dev calls
   (tests/data/devset/dev-*.json); per criterion accuracy and Cohen's kappa against labels.csv
   (qa.learning.calibration.calibrate). Human-vs-human kappa (labels.csv vs labels_annotator2.csv,
   qa.learning.calibration.human_agreement) is printed beside it.
2. After training on the labelled set, cross-validated by call: k folds (default 4), stratified
   by language (sklearn StratifiedKFold, shuffle, random_state=0: deterministic). For each fold,
   turn examples come from the TRAINING calls only. Rule, per model criterion (comprensione,
   riepilogo, prossimi_passi, empatia, conferma_risoluzione) and training call:
     - human ``pass`` and the shipped tool ``pass``: the tool's agent evidence turns -> ``yes``;
     - human ``fail`` and the shipped tool ``pass``: the tool's agent evidence turns -> ``no``
       (the same rule as qa.learning.train.store_examples for human reviews);
     - human ``fail``: every agent turn of the call -> ``no`` (nothing the agent said satisfied
       the criterion); for a tool-pass this includes the evidence turns above (deduplicated);
     - human ``pass`` but tool ``fail``/``na``: no example (the tool points at no turn, and we do
       not know which turn a human would point at); ``na`` labels: no example.
   These examples are added to the shipped corpora (modelli/dati/<name>_*.tsv, the fitting part
   of qa.learning.learn.split_holdout, exactly as qa.learning.train.train_models does), the five models are trained
   with qa.learning.learn.train(force=True) into a temporary copy of modelli/, QA_MODELS_DIR points at it,
   model caches are cleared, and the HELD-OUT fold's calls are scored. Held-out evaluations are
   pooled over the folds; per criterion accuracy and kappa are computed on the pool (every call is
   scored exactly once, by models that never saw it).
3. Fairness: qa.learning.fairness.fairness_check on the 64 dev calls with the shipped models: comparisons,
   flips by perturbation and criterion, and the list of flips.

Writes bench/results/calibration.md. All figures are measured in one run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEVSET = ROOT / "tests" / "data" / "devset"
RESULTS = ROOT / "bench" / "results"
MODEL_CRITERIA = ["comprensione", "riepilogo", "prossimi_passi", "empatia", "conferma_risoluzione"]


def fold_of(call_ids: list[str], langs: dict[str, str], k: int) -> dict[str, int]:
    """Call id -> fold number: ``k`` folds stratified by language, deterministic."""
    from sklearn.model_selection import StratifiedKFold

    ids = sorted(call_ids)
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
    out = {}
    for i, (_, test) in enumerate(skf.split(ids, [langs[c] for c in ids])):
        for j in test:
            out[ids[j]] = i
    return out


def turn_examples(call_ids, transcripts, labels, evals):
    """Examples per model criterion from the given (training) calls; see the module docstring."""
    from qa.learning.learn import Example

    out: dict[str, list[Example]] = {m: [] for m in MODEL_CRITERIA}
    for cid in call_ids:
        t = transcripts[cid]
        lang = (t.language or "")[:2]
        for crit in MODEL_CRITERIA:
            human = labels[cid].get(crit)
            res = evals[cid].result(crit)
            tool = res.result if res is not None else None
            seen: set[str] = set()
            texts: list[tuple[str, str]] = []
            if tool == "pass" and human in ("pass", "fail"):
                lab = "yes" if human == "pass" else "no"
                texts += [(e.text, lab) for e in res.evidence if e.speaker == "agent" and e.text.strip()]
            if human == "fail":
                texts += [(s.text, "no") for s in t.segments if s.speaker == "agent" and s.text.strip()]
            for text, lab in texts:
                if text in seen:
                    continue
                seen.add(text)
                out[crit].append(Example(text.strip(), lab, lang, f"dev:{cid}"))
    return out


def train_fold(extra, tmp: Path) -> Path:
    """Train the five model criteria on the shipped corpora plus ``extra`` examples into a copy of
    modelli/ under ``tmp``; returns that folder."""
    from qa.learning import learn
    from qa.learning.train import DESCRIPTIONS, data_files

    models = tmp / "modelli"
    shutil.copytree(ROOT / "modelli", models, ignore=shutil.ignore_patterns("dati"))
    for name in MODEL_CRITERIA:
        examples = [e for f in data_files(name, ROOT / "modelli" / "dati") for e in learn.read_examples(f)]
        fit, held = learn.split_holdout(examples)
        learn.train(name, fit + extra[name], DESCRIPTIONS.get(name, ""), out_dir=models, holdout=held, force=True)
    return models


def score_with(models: Path | None, transcripts, call_ids):
    """Call id -> evaluation of ``call_ids`` with the models in ``models`` (None: the shipped ones)."""
    from qa.learning import learn
    from qa.rubric import score_transcript

    with learn.models_from(models):
        return {cid: score_transcript(transcripts[cid]) for cid in call_ids}


def fmt(x, pct=False):
    """A kappa (3 decimals) or an accuracy (percent) for the tables; ``-`` for none."""
    if x is None:
        return "-"
    return f"{x:.1%}" if pct else f"{x:.3f}"


def main(argv=None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--no-fairness", action="store_true")
    args = ap.parse_args(argv)

    from qa.learning.calibration import CalibrationReport, calibrate, compare, human_agreement, load_transcripts, read_labels

    t0 = time.perf_counter()
    labels = read_labels(DEVSET / "labels.csv")
    ann2 = read_labels(DEVSET / "labels_annotator2.csv")
    transcripts = load_transcripts(DEVSET, labels)
    ids = sorted(cid for cid in labels if cid in transcripts)
    labels = {cid: labels[cid] for cid in ids}
    crits = sorted({c for lab in labels.values() for c in lab})
    hk = human_agreement([labels, ann2])
    hk_macro = [v for v in hk.values() if v is not None]
    hk_macro = round(sum(hk_macro) / len(hk_macro), 4) if hk_macro else None

    # 1. before
    before = calibrate(labels, transcripts)
    base_evals = score_with(None, transcripts, ids)  # the same shipped models: the tool's evidence turns
    t_before = time.perf_counter() - t0
    print(f"before: {len(ids)} calls scored, macro kappa {fmt(before.macro_kappa)} ({t_before:.0f} s)")

    # 2. after, cross-validated by call
    langs = {cid: (transcripts[cid].language or "")[:2] for cid in ids}
    folds = fold_of(ids, langs, args.folds)
    pooled = {}
    fold_rows = []
    t1 = time.perf_counter()
    for f in range(args.folds):
        test_ids = [c for c in ids if folds[c] == f]
        train_ids = [c for c in ids if folds[c] != f]
        extra = turn_examples(train_ids, transcripts, labels, base_evals)
        with tempfile.TemporaryDirectory(prefix="qa-calib-") as tmp:
            models = train_fold(extra, Path(tmp))
            pooled.update(score_with(models, transcripts, test_ids))
        counts = {m: Counter(e.label for e in extra[m]) for m in MODEL_CRITERIA}
        fold_rows.append((f, len(train_ids), len(test_ids), dict(Counter(langs[c] for c in test_ids)), counts))
        print(f"fold {f}: train {len(train_ids)} calls, held-out {len(test_ids)} "
              f"{dict(Counter(langs[c] for c in test_ids))}; examples added "
              + ", ".join(f"{m} {c.get('yes', 0)}y/{c.get('no', 0)}n" for m, c in counts.items()))
    t_after = time.perf_counter() - t1
    assert sorted(pooled) == ids, "every call is scored exactly once, held out"
    after = CalibrationReport(compare(labels, pooled, crits), len(pooled), [])

    b = {c.criterion: c for c in before.criteria}
    a = {c.criterion: c for c in after.criteria}
    head = ("criterion", "n", "acc before", "κ before", "acc after (CV)", "κ after (CV)", "Δκ", "human κ")
    rows = []
    for crit in crits:
        kb, ka = b[crit].kappa, a[crit].kappa
        d = None if kb is None or ka is None else ka - kb
        name = crit + (" (model)" if crit in MODEL_CRITERIA else "")
        rows.append((name, str(b[crit].n), fmt(b[crit].accuracy, True), fmt(kb), fmt(a[crit].accuracy, True), fmt(ka),
                     "-" if d is None else f"{d:+.3f}", fmt(hk.get(crit))))
    dm = None if before.macro_kappa is None or after.macro_kappa is None else after.macro_kappa - before.macro_kappa
    rows.append(("**macro**", str(len(ids)), fmt(before.macro_accuracy, True), fmt(before.macro_kappa),
                 fmt(after.macro_accuracy, True), fmt(after.macro_kappa), "-" if dm is None else f"{dm:+.3f}",
                 fmt(hk_macro)))
    mb = [b[c].kappa for c in MODEL_CRITERIA if b[c].kappa is not None]
    ma = [a[c].kappa for c in MODEL_CRITERIA if a[c].kappa is not None]
    mh = [hk[c] for c in MODEL_CRITERIA if hk.get(c) is not None]
    mean = lambda xs: sum(xs) / len(xs) if xs else None  # noqa: E731
    rows.append(("macro, 5 model criteria", str(len(ids)), "", fmt(mean(mb)), "", fmt(mean(ma)),
                 f"{mean(ma) - mean(mb):+.3f}" if mb and ma else "-", fmt(mean(mh))))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths)))

    changed = [(cid, c, base_evals[cid].result(c).result, pooled[cid].result(c).result, labels[cid].get(c))
               for cid in ids for c in crits
               if base_evals[cid].result(c) is not None and pooled[cid].result(c) is not None
               and base_evals[cid].result(c).result != pooled[cid].result(c).result]
    print(f"\nresults changed by training: {len(changed)}")
    for cid, c, old, new, h in changed:
        print(f"  {cid} {c}: {old} -> {new} (human {h})")

    # 3. fairness
    flips, compared, t_fair = [], 0, 0.0
    if not args.no_fairness:
        from qa.learning.fairness import fairness_check

        t2 = time.perf_counter()
        flips, compared = fairness_check([transcripts[c] for c in ids])
        t_fair = time.perf_counter() - t2
        print(f"\nfairness: {compared} comparisons, {len(flips)} flips ({t_fair:.0f} s)")
        for fl in flips:
            print(f"  {fl.call_id} {fl.perturbation} {fl.criterion}: {fl.before} -> {fl.after}")

    # results file
    md = ["# Calibration: κ before and after training on the labelled set; fairness flips", "",
          "Measured by `python bench/calibration.py` in one run "
          f"({len(ids)} dev calls, {args.folds} folds; before {t_before:.0f} s, "
          f"cross-validated training+scoring {t_after:.0f} s"
          + (f", fairness {t_fair:.0f} s" if not args.no_fairness else "") + ", 2 shared CPU cores).", "",
          "## Tool vs human (labels.csv), per criterion", "",
          "| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += ["",
           "*before*: shipped rubrics + shipped models on all calls. *after (CV)*: each call scored by models "
           "trained with the examples of the other folds' calls only (pooled held-out predictions). "
           "*human κ*: labels.csv vs labels_annotator2.csv (Cohen's κ, same label set pass/fail/na). "
           "Only the five criteria marked *(model)* use the retrained models; the others can only move if a "
           "rule depends on a model outcome.", "",
           f"Results changed by training (before → after, of {len(ids) * len(crits)} call×criterion): "
           f"**{len(changed)}**", ""]
    for cid, c, old, new, h in changed:
        md.append(f"- {cid} {c}: {old} → {new} (human: {h})")
    md += ["", "## Folds (stratified by language, deterministic)", "",
           "| fold | train calls | held-out calls | held-out by language | examples added (yes/no) |",
           "|---|---|---|---|---|"]
    for f, ntr, nte, bylang, counts in fold_rows:
        ex = "; ".join(f"{m} {c.get('yes', 0)}/{c.get('no', 0)}" for m, c in counts.items())
        md.append(f"| {f} | {ntr} | {nte} | {', '.join(f'{k} {v}' for k, v in sorted(bylang.items()))} | {ex} |")
    if not args.no_fairness:
        by_p = Counter(fl.perturbation for fl in flips)
        by_c = Counter(fl.criterion for fl in flips)
        md += ["", "## Fairness (shipped models)", "",
               f"qa.learning.fairness.fairness_check on the {len(ids)} dev calls: **{compared}** criterion comparisons "
               f"(original vs perturbed: swapped names, titles, regional greetings, ASR-style text), "
               f"**{len(flips)} flips** ({len(flips) / compared:.2%} of comparisons)." if compared else
               "no comparisons", ""]
        if flips:
            md += ["By perturbation: " + ", ".join(f"{k} {v}" for k, v in by_p.most_common()), "",
                   "By criterion: " + ", ".join(f"{k} {v}" for k, v in by_c.most_common()), ""]
            md += [f"- {fl.call_id} · {fl.perturbation} · {fl.criterion}: {fl.before} → {fl.after}" for fl in flips]
    md += ["", "## How the training examples are built (per fold, training calls only)", "",
           "For each model criterion and training call: human *pass* + tool *pass* → the tool's agent evidence "
           "turns are `yes`; human *fail* + tool *pass* → the tool's agent evidence turns are `no` (the "
           "`qa.learning.train.store_examples` rule for reviews); human *fail* → every agent turn of the call is `no` "
           "(nothing the agent said satisfied the criterion; duplicates removed); human *pass* + tool *fail*/*na* "
           "→ no example (no turn to point at); *na* → no example. The tool evidence comes from the shipped "
           "models. Examples are added to the fitting part of the shipped corpora (the corpora's held-out split "
           "is kept as in `qa train`), the five models are trained with `qa.learning.learn.train(force=True)` into a "
           "temporary copy of modelli/, and `QA_MODELS_DIR` points the rubric engine at it.", "",
           "## Caveats", "",
           "- The dev set was also looked at while the phrase lists and rules were tuned, so the *before* "
           "clean-text figures are optimistic (not a blind test); the *after* figures are held out only with "
           "respect to the new training examples, not to that tuning.",
           "- 64 calls (16 per language), each criterion a few dozen labelled calls: one call moves a κ by "
           "several hundredths; differences of that size are noise.",
           "- The models are used at a high threshold after phrase lists fail, so retraining can only change "
           "results where the phrase lists did not decide: most criteria cannot move.",
           "- 'every agent turn of a failed call is `no`' is a strong rule: it also teaches `no` for turns "
           "that say something close to the criterion but were judged insufficient by the human, and it "
           "makes the added data mostly negative (see the fold table).",
           "- Clean transcripts (the dev JSON), not ASR output; fairness is measured with the shipped models "
           "only.",
           "- Human κ is one pair of annotators (labels.csv vs annotator 2); the tool is compared with "
           "labels.csv only, not with a majority."]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "calibration.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS / 'calibration.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
