"""Call type and language inferred where the metadata says nothing (qa.rubric.infer), before/after.

Two ``tipo_chiamata`` models in one run: the one in modelli/ ("after") and an earlier one
("before", by default the version of modelli/tipo_chiamata.joblib before its last change, taken
from git). For each: the 30 LUNA dev-set help-desk calls (real Italian IT help-desk calls, every one a
support call, so all should come out ``assistenza``), the development-set calls whose metadata
carries call_type (accuracy), and the accuracy on the held-out split of the original training
files (tipo_chiamata_it_de.tsv, tipo_chiamata_fr_en.tsv: the split ``qa train`` never fits on,
the same examples for both models; the model card's own held-out set grows with the data).

    python bench/call_type.py                      # prints the figures, writes bench/results/call_type.md
    python bench/call_type.py --before OLD.joblib  # compare with another model file
"""

from __future__ import annotations

import argparse
import glob
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.learning import learn  # noqa: E402
from qa.model import Transcript  # noqa: E402
from qa.rubric import infer  # noqa: E402

# only the 30 calls of the LUNA dev set: the other 30 LUNA calls stay unread for an independent check
LUNA = ROOT / "tests" / "data" / "luna_dev" / "transcripts"
MODEL = "modelli/tipo_chiamata.joblib"
ORIGINAL_DATA = ["modelli/dati/tipo_chiamata_it_de.tsv", "modelli/dati/tipo_chiamata_fr_en.tsv"]


def _git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout


def before_model(dest: Path) -> tuple[str, dict]:
    """The previous committed version of the model (HEAD's when the working copy differs) and its card."""
    changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", MODEL], cwd=ROOT).returncode != 0
    rev = "HEAD" if changed else _git("rev-list", "-n", "1", "HEAD", "--", MODEL).decode().strip() + "^"
    dest.write_bytes(_git("show", f"{rev}:{MODEL}"))
    card = json.loads(_git("show", f"{rev}:{MODEL.replace('.joblib', '.card.json')}"))
    return _git("rev-parse", "--short", rev).decode().strip(), card


def measure(model_path: Path, luna, dev, held, thresholds) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-ct-"))
    saved = infer.MIN_CONFIDENCE
    try:
        shutil.copy(model_path, tmp / "tipo_chiamata.joblib")
        with learn.models_from(tmp):
            model = learn.load_model("tipo_chiamata")
            out = {"held": learn.accuracy_on(model, held), "by_threshold": {}}
            for th in thresholds:
                infer.MIN_CONFIDENCE = th
                lres = infer.infer_call_types(luna)
                dres = infer.infer_call_types(dev)
                out["by_threshold"][th] = {
                    "luna": Counter(c for c, _ in lres),
                    "dev": sum(c == t.metadata["call_type"] for (c, _), t in zip(dres, dev)),
                    "dev_errors": Counter(f"{t.metadata['call_type']}->{c}" for (c, _), t in zip(dres, dev)
                                          if c != t.metadata["call_type"]),
                }
            return out
    finally:
        infer.MIN_CONFIDENCE = saved
        shutil.rmtree(tmp)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, help="the earlier model file (default: from git)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ct-before-"))
    try:
        if args.before:
            before, before_name, before_card = args.before, str(args.before), None
        else:
            before = work / "tipo_chiamata.joblib"
            rev, before_card = before_model(before)
            before_name = f"git {rev}"
        luna = [Transcript.load(p) for p in sorted(glob.glob(str(LUNA / "*.json")))]
        dev_all = [Transcript.load(p) for p in sorted(glob.glob(str(ROOT / "tests/data/devset/dev-*.json")))]
        dev = [t for t in dev_all if (t.metadata or {}).get("call_type")]
        held = learn.split_holdout([e for f in ORIGINAL_DATA for e in learn.read_examples(ROOT / f)])[1]
        thresholds = sorted({0.35, 0.30, infer.MIN_CONFIDENCE}, reverse=True)
        res = {"before": measure(before, luna, dev, held, thresholds),
               "after": measure(ROOT / MODEL, luna, dev, held, thresholds)}
        lang_ok = sum(infer.infer_language(t) == t.language for t in dev_all if t.language)
        lang_n = sum(1 for t in dev_all if t.language)
    finally:
        shutil.rmtree(work)
    card = json.loads((ROOT / "modelli/tipo_chiamata.card.json").read_text(encoding="utf-8"))

    lines = ["# Call type inferred without metadata (qa.rubric.infer)", "",
             f"before = {before_name}, after = modelli/tipo_chiamata.joblib (trained {card['trained_at']}, "
             f"files {', '.join(card.get('data_files', []))}). LUNA: {len(luna)} real Italian IT help-desk calls, "
             f"all `assistenza`. Dev: {len(dev)} development-set calls with metadata.call_type. "
             f"MIN_CONFIDENCE in use: {infer.MIN_CONFIDENCE}.", "",
             "| model | MIN_CONFIDENCE | LUNA assistenza | LUNA acquisizione | LUNA fidelizzazione | LUNA riacquisizione "
             "| dev right | dev errors (gold->inferred) |",
             "|---|---|---|---|---|---|---|---|"]
    for name in ("before", "after"):
        for th, r in res[name]["by_threshold"].items():
            lu = r["luna"]
            errs = ", ".join(f"{k} {v}" for k, v in sorted(r["dev_errors"].items()))
            lines.append(f"| {name} | {th:.2f} | {lu['assistenza']}/{len(luna)} | {lu['acquisizione']} | "
                         f"{lu['fidelizzazione']} | {lu['riacquisizione']} | {r['dev']}/{len(dev)} | {errs} |")
    lines += ["", "Held-out split of the original training files (same examples for both models):", "",
              "| model | accuracy | n | it | de | fr | en |", "|---|---|---|---|---|---|---|"]
    for name in ("before", "after"):
        h = res[name]["held"]
        pl = h["per_language"]
        lines.append(f"| {name} | {h['accuracy']:.1%} | {h['n']} | " + " | ".join(f"{pl.get(l, 0):.1%}" for l in
                                                                             ("it", "de", "fr", "en")) + " |")
    lines.append("")
    for name, c in (("Before", before_card), ("After", card)):
        if not c:
            continue
        cv, ho = c["cross_validation"], c["holdout"]
        lines.append(f"{name}, model card: {c['data_size']} training examples, cross-validated accuracy "
                     f"{cv['accuracy']:.1%} ({cv['folds']} folds), held-out accuracy {ho['accuracy']:.1%} on {ho['n']} "
                     f"(the model it replaced, on the same held-out set: {c.get('replaced_model_holdout_accuracy')}), "
                     f"gold macro kappa {c.get('gold_macro_kappa', 'n/a')}.")
    lines += ["", f"Language inferred right on the development set: {lang_ok}/{lang_n}."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench" / "results" / "call_type.md"
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
