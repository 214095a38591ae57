"""Agreement of the rubric engine with human labels, tuned-on and held-out data kept apart.

    python bench/agreement.py                         # every set; writes bench/results/agreement.md
    python bench/agreement.py --write-floors          # ... and the CI floor file (agreement_floor.json)
    python bench/agreement.py --show-disagreements devset luna-tune   # per-call disagreements (tuned-on sets only)
    python bench/agreement.py --speech                # + held-out calls through Kokoro speech + Whisper (cached)
    python bench/agreement.py --throughput [--calls 10000]
    python bench/agreement.py --speech-only kokoro    # the dev set through speech (espeak|festival|kokoro)
    python bench/agreement.py --oracle-roles --no-write   # LUNA sets scored with the annotators' speakers

Sets (``SETS``), each scored by the real engine through the production path (``qa.pipeline``:
roles of ``unknown`` speakers, language, call type inferred where the transcript does not say
them; LUNA calls are mono, lower-case and carry no call type, so all three are inferred as for
a real recording):

- ``devset``: tests/data/devset, 64 scripted calls, **tuned-on** (the rubrics were written on it);
- ``heldout``: tests/data/heldout, 64 scripted calls by independent authors, frozen, **held-out**;
- ``luna-tune``: the 20 ``tune`` calls of tests/data/luna_dev (real Italian help-desk calls), **tuned-on**;
- ``luna-heldout``: its 10 ``heldout`` calls, **held-out**.

Per set: per criterion accuracy, Cohen's kappa (``qa.learning.calibration.kappa``, scikit-learn) and n;
macro accuracy (mean over the criteria with labels) and macro kappa (mean kappa over the
criteria whose gold labels have at least two classes: a one-class criterion's kappa says
nothing). Pooled figures: all tuned-on calls, all held-out calls, and LUNA all (mixed, said so).
Per-call disagreements are printed and written only for tuned-on sets; for held-out sets only
aggregates, so that nobody tunes on them by looking.

``--speech``: the held-out scripted calls rendered by Kokoro and transcribed by Whisper
(bench/heldout_speech.py caches the transcripts in bench/results/heldout_speech/) re-scored with
the current engine, beside the same calls' reference transcripts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
DEVSET = DATA / "devset"
HELDOUT = DATA / "heldout"
LUNA_DEV = DATA / "luna_dev"
SPEECH_CACHE = ROOT / "bench" / "results" / "heldout_speech"
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"
FLOOR_FILE = RESULTS / "agreement_floor.json"
CORE = ["saluto", "nome_cliente", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione",
        "congedo", "protezione_dati", "identificazione", "empatia", "proposta_disdetta"]
TUNED, HELD, UNTOUCHED = "tuned-on", "held-out", "untouched"
# independent batches of tests/data/rules_fresh never read while working on the rules (bench/untouched.py;
# tests/data/rules_fresh/README.md says which batches were looked at and when): scored only as aggregates
UNTOUCHED_BATCHES = ("batch20", "batch21", "batch26", "batch27", "batch28")
FRESH = ROOT / "tests" / "data" / "rules_fresh"
# floors: measured minus TOLERANCE; a per-criterion floor only where the figure means something
TOLERANCE = 0.03
FLOOR_MIN_N = 20  # calls labelled for the criterion
FLOOR_MIN_MINORITY = 3  # calls in the gold labels' second most common class


# ---- data -----------------------------------------------------------------------------------

def load_labels(devset: Path = DEVSET) -> dict[str, dict[str, str]]:
    """A set's labels: call id -> criterion -> pass/fail/na ('' for not labelled)."""
    files = [devset / "labels.csv"] if (devset / "labels.csv").exists() else sorted(devset.glob("labels_*_*.csv"))
    labels: dict[str, dict[str, str]] = {}
    for f in files:
        with f.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                labels[row["call_id"]] = {k: (v or "").strip() for k, v in row.items() if k != "call_id"}
    return labels


def load_transcripts(devset: Path = DEVSET, labels: dict | None = None):
    """The transcripts of the labelled calls in ``devset``, in call id order."""
    from qa.model import Transcript

    labels = labels if labels is not None else load_labels(devset)
    return [Transcript.load(devset / f"{cid}.json") for cid in sorted(labels) if (devset / f"{cid}.json").exists()]


def luna_split(path: Path = LUNA_DEV / "split.csv") -> dict[str, str]:
    """LUNA dev set: call id -> ``tune`` | ``heldout``."""
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["call_id"]: row["split"].strip() for row in csv.DictReader(fh)}


@dataclass
class LabelledSet:
    """A labelled set: name, ``tuned-on``/``held-out``, what it is, its labels and transcripts."""

    name: str
    status: str
    title: str
    labels: dict[str, dict[str, str]]
    transcripts: list = field(default_factory=list)

    @property
    def held_out(self) -> bool:
        return self.status in (HELD, UNTOUCHED)


def _luna(split: str, oracle_roles: bool = False) -> tuple[dict, list]:
    labels = load_labels(LUNA_DEV)
    keep = {cid for cid, s in luna_split().items() if s == split}
    labels = {cid: row for cid, row in labels.items() if cid in keep}
    transcripts = load_transcripts(LUNA_DEV / "transcripts", labels)
    if oracle_roles:
        set_reference_speakers(transcripts)
    return labels, transcripts


def set_reference_speakers(transcripts, path: Path = LUNA_DEV / "turns.csv") -> None:
    """Give every segment of ``transcripts`` the speaker the annotators gave it (turns.csv): the
    ceiling that perfect role assignment would reach (``--oracle-roles``), not a product figure."""
    with path.open(encoding="utf-8") as f:
        speakers = {(r["call_id"], int(r["turn"])): r["speaker"] for r in csv.DictReader(f)}
    for t in transcripts:
        for i, seg in enumerate(t.segments):
            seg.speaker = speakers[(t.call_id, i)]


SET_NAMES = ("devset", "heldout", "luna-tune", "luna-heldout", "untouched")


def load_set(name: str, oracle_roles: bool = False) -> LabelledSet:
    """One of ``SET_NAMES``, its transcripts loaded; every labelled call must have its transcript
    (``oracle_roles``: LUNA calls carry the annotators' speakers instead of ``unknown``)."""
    if name == "devset":
        labels = load_labels(DEVSET)
        s = LabelledSet(name, TUNED, "scripted dev set (tests/data/devset)", labels, load_transcripts(DEVSET, labels))
    elif name == "heldout":
        labels = load_labels(HELDOUT)
        s = LabelledSet(name, HELD, "scripted held-out set (tests/data/heldout, frozen)", labels,
                        load_transcripts(HELDOUT, labels))
    elif name in ("luna-tune", "luna-heldout"):
        split = "tune" if name == "luna-tune" else "heldout"
        labels, transcripts = _luna(split, oracle_roles)
        s = LabelledSet(name, TUNED if split == "tune" else HELD,
                        f"LUNA real help-desk calls, {split} split (tests/data/luna_dev)", labels, transcripts)
    elif name == "untouched":
        labels, transcripts = {}, []
        for batch in UNTOUCHED_BATCHES:
            got = load_labels(FRESH / batch)
            labels.update(got)
            transcripts += load_transcripts(FRESH / batch, got)
        s = LabelledSet(name, UNTOUCHED, f"untouched independent batches (tests/data/rules_fresh: "
                                         f"{', '.join(UNTOUCHED_BATCHES)})", labels, transcripts)
    else:
        raise ValueError(f"unknown set {name!r}: one of {', '.join(SET_NAMES)}")
    missing = sorted(set(s.labels) - {t.call_id for t in s.transcripts})
    if missing:
        raise FileNotFoundError(f"{name}: labelled calls without a transcript: {', '.join(missing[:5])}")
    return s


def load_sets(names=SET_NAMES, oracle_roles: bool = False) -> list[LabelledSet]:
    """The sets ``names``, loaded (``load_set``)."""
    return [load_set(n, oracle_roles) for n in names]


# ---- agreement ------------------------------------------------------------------------------

def agreement(evaluations, labels: dict[str, dict[str, str]], criteria=CORE) -> dict:
    """Per criterion: accuracy, Cohen's kappa (``qa.learning.calibration.kappa``), n, the gold labels' classes;
    macro accuracy (mean over the criteria with labels), macro kappa (mean over the criteria whose gold
    labels have two or more classes); the disagreements (call, criterion, label, engine). A criterion
    the engine left out is predicted ``missing``."""
    from collections import Counter

    from qa.learning.calibration import kappa
    from qa.learning.intervals import accuracy_interval, kappa_intervals

    per: dict[str, dict] = {}
    disagreements = []
    pairs: dict[str, list] = {}
    by_id = {e.call_id: e for e in evaluations}
    for c in criteria:
        y_true, y_pred = [], []
        pairs[c] = []
        for cid, row in sorted(labels.items()):
            ev = by_id.get(cid)
            if ev is None or c not in row or not row[c]:
                continue
            r = ev.result(c)
            pred = r.result if r is not None else "missing"
            y_true.append(row[c])
            y_pred.append(pred)
            pairs[c].append((cid, row[c], pred))
            if pred != row[c]:
                disagreements.append((cid, c, row[c], pred))
        n = len(y_true)
        classes = Counter(y_true)
        minority = sorted(classes.values())[-2] if len(classes) > 1 else 0
        right = sum(a == b for a, b in zip(y_true, y_pred))
        per[c] = {"accuracy": round(right / n, 4) if n else None, "accuracy_ci": accuracy_interval(right, n),
                  "kappa": kappa(y_true, y_pred), "n": n, "classes": len(classes), "minority": minority,
                  "gold": dict(sorted(classes.items())),
                  # label -> engine counts where they differ: an aggregate that says which way a
                  # criterion errs (applicability or the rule) without naming a call
                  "confusion": dict(sorted(Counter(f"{a}->{b}" for a, b in zip(y_true, y_pred) if a != b).items()))}
    ks = [v["kappa"] for v in per.values() if v["classes"] >= 2 and v["kappa"] is not None]
    accs = [v["accuracy"] for v in per.values() if v["n"]]
    # 95 % intervals (qa.learning.intervals): calls resampled, the macro over the same criteria as macro_kappa
    in_macro = [c for c, v in per.items() if v["classes"] >= 2 and v["kappa"] is not None]
    kci, macro_ci = kappa_intervals(pairs, macro=in_macro)
    for c, v in per.items():
        v["kappa_ci"] = kci.get(c)
    return {"criteria": per, "n_calls": len(set(labels) & set(by_id)),
            "macro_kappa": round(sum(ks) / len(ks), 4) if ks else None, "macro_kappa_ci": macro_ci,
            "macro_accuracy": round(sum(accs) / len(accs), 4) if accs else None,
            "kappa_criteria": len(ks), "disagreements": disagreements}


def score_all(transcripts):
    """Evaluations of ``transcripts`` by the batch API ``qa score`` uses (the production path)."""
    from qa.rubric import score_transcripts

    return list(score_transcripts(transcripts))


def measure(sets: list[LabelledSet]) -> dict:
    """Every set scored once; per set and pooled: ``{key: {"status", "title", "result", "evaluations"}}``.
    Pooled: ``tuned-on all``, ``held-out all``, ``luna all`` (mixed)."""
    out: dict[str, dict] = {}
    evals: dict[str, list] = {}
    for s in sets:
        ev = score_all(s.transcripts)
        evals[s.name] = ev
        out[s.name] = {"status": s.status, "title": s.title, "result": agreement(ev, s.labels), "evaluations": ev}

    def pool(key, names, status, title):
        names = [n for n in names if n in evals]
        if len(names) < 2:
            return
        labels = {cid: row for s in sets if s.name in names for cid, row in s.labels.items()}
        ev = [e for n in names for e in evals[n]]
        out[key] = {"status": status, "title": title, "result": agreement(ev, labels), "evaluations": ev}

    pool("tuned-on all", [s.name for s in sets if s.status == TUNED], TUNED, "every tuned-on call (scripted + LUNA)")
    pool("held-out all", [s.name for s in sets if s.status == HELD], HELD, "every held-out call (scripted + LUNA)")
    pool("luna all", ["luna-tune", "luna-heldout"], "mixed",
         "LUNA, all 30 calls (20 tuned-on + 10 held-out: mixed, not a held-out figure)")
    return out


def labels_agreement(a: dict[str, dict[str, str]], b: dict[str, dict[str, str]], criteria=CORE) -> dict:
    """Agreement of two label sets on the calls both labelled: per criterion accuracy and kappa, the
    macro figures as ``agreement`` gives them (author vs second annotator, or the tool vs either:
    bench/second_annotator.py)."""
    from qa.learning.calibration import kappa

    per, ks, accs = {}, [], []
    ids = sorted(set(a) & set(b))
    for c in criteria:
        pairs = [(a[i][c], b[i][c]) for i in ids if a[i].get(c) and b[i].get(c)]
        if not pairs:
            continue
        ya, yb = zip(*pairs)
        acc = sum(x == y for x, y in pairs) / len(pairs)
        k = kappa(list(ya), list(yb))
        per[c] = {"accuracy": round(acc, 4), "kappa": k, "n": len(pairs)}
        accs.append(acc)
        if len(set(ya)) > 1 and k is not None:
            ks.append(k)
    return {"criteria": per, "n_calls": len(ids), "macro_accuracy": round(sum(accs) / len(accs), 4) if accs else None,
            "macro_kappa": round(sum(ks) / len(ks), 4) if ks else None}


def _k(value) -> str:
    """A kappa or accuracy for the tables: 3 decimals, ``-`` without data."""
    return "-" if value is None else f"{value:.3f}"


def criterion_kappa(v: dict) -> str:
    """A criterion's kappa for the tables; ``1 class`` where the gold labels have only one class."""
    return _k(v["kappa"]) if v["classes"] >= 2 else "1 class"


def summary_line(key: str, m: dict) -> str:
    r = m["result"]
    return (f"{key:14s} [{m['status']}] {r['n_calls']:3d} calls: macro accuracy {_k(r['macro_accuracy'])}, "
            f"macro kappa {_k(r['macro_kappa'])} {_ci(r.get('macro_kappa_ci'))} ({r['kappa_criteria']} criteria)")


def _ci(ci) -> str:
    """A 95 % interval for the tables (``qa.learning.intervals.format_interval``)."""
    from qa.learning.intervals import format_interval

    return format_interval(ci)


def print_measures(measures: dict) -> None:
    for key, m in measures.items():
        print(summary_line(key, m))
        for c, v in m["result"]["criteria"].items():
            if v["n"]:
                errs = "  ".join(f"{k} {n}" for k, n in v.get("confusion", {}).items())
                print(f"    {c:22s} n {v['n']:3d}  acc {_k(v['accuracy'])}  kappa {criterion_kappa(v)}"
                      + (f"  [label->engine: {errs}]" if errs else ""))


# ---- floors (CI) ----------------------------------------------------------------------------

def floors_from(measures: dict, tolerance: float = TOLERANCE) -> dict:
    """The CI floor: per set, macro kappa minus ``tolerance``; for held-out and untouched sets also each criterion's
    kappa minus ``tolerance`` where it means something (n >= FLOOR_MIN_N, the gold labels' second
    class >= FLOOR_MIN_MINORITY calls)."""
    sets = {}
    for key in SET_NAMES:
        if key not in measures:
            continue
        m, r = measures[key], measures[key]["result"]
        entry = {"status": m["status"], "n_calls": r["n_calls"], "measured_macro_kappa": r["macro_kappa"],
                 "macro_kappa": None if r["macro_kappa"] is None else round(r["macro_kappa"] - tolerance, 4),
                 "criteria": {}}
        if m["status"] in (HELD, UNTOUCHED):
            for c, v in r["criteria"].items():
                if v["kappa"] is not None and v["n"] >= FLOOR_MIN_N and v["minority"] >= FLOOR_MIN_MINORITY:
                    entry["criteria"][c] = {"measured_kappa": v["kappa"], "kappa": round(v["kappa"] - tolerance, 4),
                                            "n": v["n"]}
        sets[key] = entry
    return {"written_by": "bench/agreement.py --write-floors", "tolerance": tolerance,
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sets": sets}


def write_reliability(measures: dict) -> Path:
    """modelli/affidabilita.json (``qa.learning.reliability``): each criterion's accuracy with its 95 %
    interval on the untouched scripted calls and on the held-out real mono calls, which the call page
    shows beside every result; CI checks it holds what the current rubrics give (tests/test_agreement.py)."""
    from qa.learning.reliability import reliability_data, reliability_path

    versions = sorted({e.rubric_version for m in measures.values() for e in m.get("evaluations", [])})
    data = reliability_data(measures, ", ".join(versions), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    path = reliability_path()
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return path


def read_floors(path: Path = FLOOR_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def below_floors(measures: dict, floors: dict) -> list[str]:
    """One line per figure under its floor (empty: every floor holds)."""
    out = []
    for key, f in floors["sets"].items():
        if key not in measures:
            out.append(f"{key}: not measured")
            continue
        r = measures[key]["result"]
        if f["macro_kappa"] is not None and (r["macro_kappa"] is None or r["macro_kappa"] < f["macro_kappa"] - 1e-9):
            out.append(f"{key} [{f['status']}]: macro kappa {r['macro_kappa']} < floor {f['macro_kappa']} "
                       f"(measured {f['measured_macro_kappa']} when the floor was written)")
        for c, cf in f["criteria"].items():
            k = r["criteria"][c]["kappa"]
            if k is None or k < cf["kappa"] - 1e-9:
                out.append(f"{key} [{f['status']}]: {c} kappa {k} < floor {cf['kappa']} (measured {cf['measured_kappa']})")
    return out


# ---- through speech (held-out) ---------------------------------------------------------------

def speech_sets(cache: Path = SPEECH_CACHE) -> tuple[dict, list, list] | None:
    """(labels, reference transcripts, Whisper transcripts) of the held-out calls with a cached
    Whisper transcript (bench/heldout_speech.py); None when there is none."""
    from qa.model import Transcript

    whisper = [Transcript.load(p) for p in sorted(cache.glob("heldout-*.json"))] if cache.is_dir() else []
    if not whisper:
        return None
    labels = load_labels(HELDOUT)
    whisper = [t for t in whisper if t.call_id in labels]
    ids = {t.call_id: t for t in whisper}
    labels = {cid: labels[cid] for cid in ids}
    return labels, load_transcripts(HELDOUT, labels), [ids[cid] for cid in sorted(ids)]


def measure_speech(cache: Path = SPEECH_CACHE) -> dict | None:
    """Agreement on the held-out calls through speech vs on their reference transcripts (aggregates only)."""
    got = speech_sets(cache)
    if got is None:
        return None
    labels, ref, asr = got
    from collections import Counter

    res_ref = agreement(score_all(ref), labels)
    res_asr = agreement(score_all(asr), labels)
    for r in (res_ref, res_asr):
        r["disagreements"] = []  # held-out: aggregates only
    return {"ref": res_ref, "asr": res_asr, "wer": asr_wer(ref, asr), "n": len(asr),
            "cells": dict(sorted(Counter((t.language, t.metadata.get("call_type")) for t in ref).items())),
            "detected_language_wrong": sum(a.language != r.language for a, r in zip(asr, ref))}


# ---- speech + ASR ---------------------------------------------------------------------------

def voice_set(voices: str) -> dict:
    """{language: {speaker: voice spec}} of a named voice set (espeak: the generator's defaults)."""
    if voices == "festival":
        from samples.generate import FESTIVAL_VOICES

        return FESTIVAL_VOICES
    if voices == "kokoro":
        from samples.kokoro_tts import KOKORO_VOICES

        return KOKORO_VOICES
    return {}


def asr_transcripts(clean, cache: Path = OUT / "asr", log=print, voices: str = "espeak",
                    engine_options: dict | None = None):
    """Speak each call (``voices``: espeak = espeak-ng in its language, festival = Festival's diphone
    voices, it/en only, kokoro = Kokoro-82M's neural voices, every language), transcribe it with the
    default engine; cached per voice set."""
    from qa.model import Transcript

    if voices != "espeak":
        cache = cache.with_name(f"{cache.name}-{voices}")
    if engine_options:
        cache = cache.with_name(cache.name + "".join(f"-{k}{v}" for k, v in sorted(engine_options.items())))
    cache.mkdir(parents=True, exist_ok=True)
    audio_dir = OUT / ("audio" if voices == "espeak" else f"audio-{voices}")
    audio_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for t in clean:
        cached = cache / f"{t.call_id}.json"
        if cached.exists():
            out.append(Transcript.load(cached))
            continue
        from qa.transcribe import TranscribeOptions, transcribe_file
        from samples.generate import synthesize_call

        wav = audio_dir / f"{t.call_id}.wav"
        if not wav.exists():
            synthesize_call([(s.speaker, s.text) for s in t.segments if s.text.strip()], wav, t.language or "it",
                            stereo=True, voices=voice_set(voices).get(t.language))
        t0 = time.time()
        asr = transcribe_file(wav, TranscribeOptions(language=None, agent_channel="left",
                                                     engine_options=dict(engine_options or {})),
                              metadata=dict(t.metadata), call_id=t.call_id)
        asr.save(cached)
        log(f"  asr {t.call_id}: {len(asr.segments)} segments, {time.time() - t0:.1f}s")
        out.append(asr)
    return out


def asr_wer(clean, asr) -> dict[str, float]:
    """Word error rate of the ASR transcripts against the dev set text, per language (jiwer), each
    party's words on their own (agent channel against the agent's turns, customer against the
    customer's): the order in which two parties' turns interleave is not a word error."""
    import re

    import jiwer

    def norm(t, speaker):
        text = " ".join(s.text for s in t.segments if s.speaker == speaker)
        return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())

    by_lang: dict[str, tuple[list, list]] = {}
    for c, a in zip(clean, asr):
        refs, hyps = by_lang.setdefault(c.language or "?", ([], []))
        for speaker in ("agent", "customer"):
            if norm(c, speaker):
                refs.append(norm(c, speaker))
                hyps.append(norm(a, speaker))
    return {lang: round(float(jiwer.wer(r, h)), 3) for lang, (r, h) in sorted(by_lang.items())}


# ---- throughput ----------------------------------------------------------------------------

def throughput(transcripts, n_calls: int = 10000) -> dict:
    """Calls per CPU-second of ``score_transcripts`` (the batch API ``qa score`` uses), one process.

    Fixed costs first (languages, rubrics, models loaded; a warm-up on the sample calls), then:
    1. first sight: the dev calls scored once; their words are new to the per-word caches (spaCy's
       tokenizer cache, char n-grams per word, name-test word kinds), as a new call's rarer words are;
    2. the dev calls cycled ``n_calls`` times with new call ids (by then every word is known).
    """
    import copy

    from qa.config import LANGUAGES
    from qa.learning.learn import load_model
    from qa.model import Transcript
    from qa.rubric import list_rubrics, load_rubric, score_transcripts
    from qa.rubric.nlp import get_nlp

    base = [t for t in transcripts if t.segments]
    for r in list_rubrics():
        rub = load_rubric(r)
        for m in sorted(rub.models):
            load_model(m)
        for lang in LANGUAGES:
            rub._compiled["matchers"][lang](get_nlp(lang).make_doc("ok"))
    samples = [Transcript.load(p) for p in sorted((ROOT / "samples" / "transcripts").glob("*.json"))]
    list(score_transcripts(samples))  # warm-up on other calls
    t0 = time.process_time()
    n_first = sum(1 for _ in score_transcripts(base))
    cpu_first = time.process_time() - t0
    calls = []
    for i in range(n_calls):
        t = copy.copy(base[i % len(base)])
        t.call_id = f"{t.call_id}-{i}"
        calls.append(t)
    t0 = time.process_time()
    w0 = time.perf_counter()
    n = sum(1 for _ in score_transcripts(calls))
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    segs = sum(len(t.segments) for t in calls) / len(calls)
    return {"calls": n, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "calls_per_cpu_s": round(n / cpu, 1),
            "calls_per_wall_s": round(n / wall, 1), "segments_per_call": round(segs, 1),
            "first_sight_calls": n_first, "first_sight_calls_per_cpu_s": round(n_first / cpu_first, 1)}


def throughput_md(tp: dict) -> list[str]:
    """The throughput section of bench/results/agreement.md."""
    return ["## Throughput", "",
            f"`score_transcripts` (the batch API of `qa score`) on {tp['calls']} already-transcribed calls (dev calls "
            f"cycled, {tp['segments_per_call']} segments per call), one process: **{tp['calls_per_cpu_s']} calls per "
            f"CPU-second** ({tp['calls_per_wall_s']} per wall-clock second on a shared machine; {tp['cpu_s']} s CPU). "
            f"First sight (the {tp['first_sight_calls']} dev calls scored once after a warm-up on other calls, their "
            f"words new to the per-word caches): {tp['first_sight_calls_per_cpu_s']} calls per CPU-second.", ""]


def write_throughput_only(tp: dict, path: Path = RESULTS / "agreement.md") -> None:
    """Replace the throughput section of an existing results file, leaving the rest as it was."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    new = throughput_md(tp)
    if "## Throughput" in lines:
        i = lines.index("## Throughput")
        j = next((k for k in range(i + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        lines[i:j] = new
    else:
        lines += [""] + new
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")



# ---- report --------------------------------------------------------------------------------

def _table(res_clean: dict, res_asr: dict | None) -> list[str]:
    """Clean (and ASR) per-criterion table of the dev-set speech runs (``--speech-only``)."""
    head = "| criterion | n | accuracy (clean) | kappa (clean) |" + (" accuracy (ASR) | kappa (ASR) |" if res_asr else "")
    sep = "|---|---|---|---|" + ("---|---|" if res_asr else "")
    lines = [head, sep]
    for c, v in res_clean["criteria"].items():
        row = f"| {c} | {v['n']} | {_k(v['accuracy'])} | {criterion_kappa(v)} |"
        if res_asr:
            a = res_asr["criteria"][c]
            row += f" {_k(a['accuracy'])} | {criterion_kappa(a)} |"
        lines.append(row)
    row = f"| **macro** | | {_k(res_clean['macro_accuracy'])} | **{_k(res_clean['macro_kappa'])}** |"
    if res_asr:
        row += f" {_k(res_asr['macro_accuracy'])} | **{_k(res_asr['macro_kappa'])}** |"
    lines.append(row)
    return lines


def _label(status: str) -> str:
    return {TUNED: "**tuned-on**", HELD: "**held-out**", UNTOUCHED: "**untouched**"}.get(status, f"*{status}*")


def report_md(measures: dict, speech: dict | None = None, tp: dict | None = None) -> str:
    """bench/results/agreement.md."""
    from collections import Counter

    from qa.rubric import list_rubrics, load_rubric

    versions = ", ".join(f"{r} {load_rubric(r).version}" for r in sorted(list_rubrics()))
    md = ["# Rubric engine: agreement with human labels, tuned-on and held-out apart", "",
          f"Measured by `bench/agreement.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; rubrics "
          f"{versions}. Every call scored by the production path (`qa.pipeline`: speaker roles, language and "
          "call type inferred where the transcript does not give them; the LUNA calls are mono, lower-case, "
          "without a call type, so all three are inferred as for a real recording).", "",
          "- **tuned-on**: data the rubrics, rules or thresholds were written or adjusted while looking at "
          "(the scripted dev set; the 20 `tune` LUNA calls). These figures are optimistic.",
          "- **held-out**: data never used for tuning (the frozen scripted held-out set by independent authors; "
          "the 10 `heldout` LUNA calls, frozen before any tuning). Only aggregates are shown for them.",
          "- **untouched**: the independent batches of tests/data/rules_fresh that nobody read while working on "
          "the rules (written and labelled by five more authors before any scoring; `bench/untouched.py` gives "
          "them batch by batch). Only aggregates are shown for them, and CI holds them to floors as the "
          "held-out sets.",
          "- Kappa: Cohen's kappa (`qa.learning.calibration.kappa`, scikit-learn) over pass/fail/na. Macro kappa: mean over "
          "the criteria whose gold labels have two or more classes (`1 class` in the tables: excluded, kappa "
          "says nothing there). Macro accuracy: mean over every labelled criterion.",
          "- 95 % intervals (`qa.learning.intervals`): accuracy, Wilson score interval; kappa and macro kappa, "
          "percentile bootstrap over calls (2,000 draws, fixed seed). On 10 or 20 calls they are wide: one call "
          "moves a criterion by 5-10 points.", "",
          "## Summary", "",
          "| set | data | calls | macro accuracy | macro kappa | 95 % interval | criteria in macro kappa |",
          "|---|---|---|---|---|---|---|"]
    for key, m in measures.items():
        r = m["result"]
        md.append(f"| {key}: {m['title']} | {_label(m['status'])} | {r['n_calls']} | {_k(r['macro_accuracy'])} | "
                  f"**{_k(r['macro_kappa'])}** | {_ci(r.get('macro_kappa_ci'))} | {r['kappa_criteria']} |")
    if speech:
        md.append(f"| heldout through Kokoro speech + Whisper base ({speech['n']} calls) | **held-out** | {speech['n']} | "
                  f"{_k(speech['asr']['macro_accuracy'])} | **{_k(speech['asr']['macro_kappa'])}** | "
                  f"{_ci(speech['asr'].get('macro_kappa_ci'))} | {speech['asr']['kappa_criteria']} |")
    md += ["", "Human-vs-human on the LUNA dev set (annotator 1 vs annotator 2, tests/data/luna_dev/README.md): "
           "macro kappa 0.786, riepilogo 0.467.", ""]
    for key, m in measures.items():
        r = m["result"]
        md += [f"## {key} ({m['status']}): {m['title']}", "",
               "| criterion | n | gold classes | accuracy | 95 % interval | kappa | 95 % interval |",
               "|---|---|---|---|---|---|---|"]
        for c, v in r["criteria"].items():
            if not v["n"]:
                continue
            gold = " ".join(f"{k} {n}" for k, n in v["gold"].items())
            md.append(f"| {c} | {v['n']} | {gold} | {_k(v['accuracy'])} | {_ci(v.get('accuracy_ci'))} | "
                      f"{criterion_kappa(v)} | {_ci(v.get('kappa_ci')) if v['classes'] >= 2 else '-'} |")
        md.append(f"| **macro** | {r['n_calls']} calls | | {_k(r['macro_accuracy'])} | | **{_k(r['macro_kappa'])}** | "
                  f"{_ci(r.get('macro_kappa_ci'))} |")
        if key.startswith("luna") and key != "luna all":
            cts = Counter(e.rubric for e in m["evaluations"])
            md += ["", "Rubric applied (call type inferred): " + ", ".join(f"{k} {n}" for k, n in sorted(cts.items()))]
        md.append("")
    if speech:
        md += speech_md(speech)
    if tp is not None:
        md += throughput_md(tp)
    md += ["## Disagreements on tuned-on sets", "",
           "Per call, only for tuned-on sets (`--show-disagreements` prints them; it refuses held-out sets).", ""]
    for key, m in measures.items():
        if m["status"] != TUNED or key.endswith(" all"):
            continue
        dis = m["result"]["disagreements"]
        md += [f"### {key} ({len(dis)})", ""]
        md += [f"- {cid} {c}: label {lab}, engine {pred}" for cid, c, lab, pred in dis] or ["(none)"]
        md.append("")
    return "\n".join(md).rstrip("\n") + "\n"


def speech_md(speech: dict) -> list[str]:
    """The through-speech section of bench/results/agreement.md."""
    ref, asr = speech["ref"], speech["asr"]
    cells = ", ".join(f"{lang}/{ct} {n}" for (lang, ct), n in speech["cells"].items())
    md = [f"## Through speech: held-out scripted calls, Kokoro + Whisper base ({speech['n']} of 64 calls, held-out)", "",
          "Each call rendered by `bench/heldout_speech.py`: Kokoro-82M voices (`samples.kokoro_tts`), agent on the "
          "left channel and customer on the right, 8 kHz telephone band; transcribed by the default engine "
          "(`qa.transcribe.transcribe_file`, faster-whisper base, language auto-detected), the call's metadata "
          "re-attached; the transcripts are cached in `bench/results/heldout_speech/` and re-scored here with "
          "the current engine. The reference column scores the same calls' written transcripts.",
          f"Calls (language/call type): {cells}. Word error rate per language (each party's words against "
          f"their turns): {speech['wer']}. Language detected wrong: {speech['detected_language_wrong']}.", ""]
    md += ["| criterion | n | accuracy (reference) | kappa (reference) | accuracy (speech) | kappa (speech) |",
           "|---|---|---|---|---|---|"]
    for c, v in ref["criteria"].items():
        a = asr["criteria"][c]
        if v["n"]:
            md.append(f"| {c} | {v['n']} | {_k(v['accuracy'])} | {criterion_kappa(v)} | {_k(a['accuracy'])} | "
                      f"{criterion_kappa(a)} |")
    md += [f"| **macro** | {speech['n']} calls | {_k(ref['macro_accuracy'])} | **{_k(ref['macro_kappa'])}** | "
           f"{_k(asr['macro_accuracy'])} | **{_k(asr['macro_kappa'])}** |", ""]
    return md


def speech_only(voices: str, write: bool = True, per_language: int | None = None,
                vad_gap_s: float | None = None) -> int:
    """Only the speech + ASR run with ``voices``; writes bench/results/agreement_speech_<voices>.md."""
    labels = load_labels()
    clean = load_transcripts(labels=labels)
    if voices != "espeak":
        clean = [t for t in clean if t.language in voice_set(voices)]
    if per_language:
        by_lang: dict[str, list] = {}
        for t in clean:
            by_lang.setdefault(t.language, []).append(t)
        clean = [t for calls in by_lang.values() for t in calls[:per_language]]
    t0 = time.time()
    engine_options = {"vad_gap_s": vad_gap_s} if vad_gap_s is not None else None
    asr = asr_transcripts(clean, voices=voices, engine_options=engine_options)
    subset_labels = {t.call_id: labels[t.call_id] for t in clean}
    res_clean = agreement(score_all(clean), subset_labels)
    res_asr = agreement(score_all(asr), subset_labels)
    res_asr["wer"] = asr_wer(clean, asr)
    print(f"{len(clean)} calls through {voices} speech + ASR in {time.time() - t0:.0f}s; WER {res_asr['wer']}; "
          f"macro kappa clean {res_clean['macro_kappa']}, ASR {res_asr['macro_kappa']}")
    for c, v in res_asr["criteria"].items():
        print(f"  {c:22s} acc clean {res_clean['criteria'][c]['accuracy']:.3f}  ASR {v['accuracy']:.3f}")
    if not write:
        return 0
    langs = sorted({t.language for t in clean})
    md = [f"# Rubric agreement through speech: {voices} voices + faster-whisper base", "",
          "**Tuned-on data.** These figures are on the scripted dev set (tests/data/devset), which the rubrics "
          "were tuned on; the held-out figures through speech are in agreement.md (`bench/agreement.py --speech`).", "",
          f"Measured by `bench/agreement.py --speech-only {voices}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
          f"the {len(clean)} labelled dev calls in {', '.join(langs)}, each spoken with two voices "
          "(agent left, customer right, 8 kHz telephone band), transcribed by the default engine (language "
          "auto-detected), metadata re-attached, scored, and compared with labels.csv. The clean columns score "
          "the same calls' text.",
          f"Word error rate of the transcripts against the dev text, per language: {res_asr['wer']}.", ""]
    md += _table(res_clean, res_asr)
    md += ["", "## Disagreements (speech + ASR)", ""]
    md += [f"- {cid} {c}: label {lab}, engine {pred}" for cid, c, lab, pred in res_asr["disagreements"]] or ["(none)"]
    if engine_options:
        md[0] += f" (engine options {engine_options})"
    out = RESULTS / (f"agreement_speech_{voices}.md" if not engine_options
                     else f"agreement_speech_{voices}_gap{vad_gap_s:g}.md")
    out.write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


def show_disagreements(measures: dict, names: list[str]) -> None:
    for key in names:
        dis = measures[key]["result"]["disagreements"]
        print(f"{key} [{measures[key]['status']}]: {len(dis)} disagreements")
        for cid, c, lab, pred in dis:
            print(f"  {cid} {c}: label {lab}, engine {pred}")


def main(argv=None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", choices=SET_NAMES, default=list(SET_NAMES), help="sets to measure")
    ap.add_argument("--show-disagreements", nargs="*", metavar="SET",
                    help="print the per-call disagreements of these tuned-on sets (default: every tuned-on set "
                         "measured); held-out sets are refused")
    ap.add_argument("--write-floors", action="store_true",
                    help=f"write the CI floor file {FLOOR_FILE.relative_to(ROOT)} (measured minus --tolerance)")
    ap.add_argument("--tolerance", type=float, default=TOLERANCE, help="floor = measured minus this (default 0.03)")
    ap.add_argument("--check-floors", action="store_true", help="exit 1 when a figure is under the floor file's")
    ap.add_argument("--speech", action="store_true",
                    help="also the held-out calls through Kokoro speech + Whisper (transcripts cached by "
                         "bench/heldout_speech.py in bench/results/heldout_speech/)")
    ap.add_argument("--throughput", action="store_true", help="also measure throughput (calls per CPU-second)")
    ap.add_argument("--throughput-only", action="store_true",
                    help="measure throughput only and rewrite only the throughput section of agreement.md")
    ap.add_argument("--calls", type=int, default=10000, help="calls for the throughput run")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--speech-only", choices=["espeak", "festival", "kokoro"],
                    help="only the dev set (tuned-on) through speech + ASR with these voices, written to "
                         "bench/results/agreement_speech_<voices>.md")
    ap.add_argument("--per-language", type=int, metavar="N", help="with --speech-only: the first N calls of each language")
    ap.add_argument("--vad-gap", type=float, metavar="S", help="with --speech-only: the engine's vad_gap_s")
    ap.add_argument("--oracle-roles", action="store_true",
                    help="score the LUNA sets with the annotators' speaker of every turn (turns.csv) instead of "
                         "the assigned roles: the ceiling perfect roles would give (implies --no-write)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.show_disagreements is not None:
        wanted = args.show_disagreements or [n for n in args.sets if n in ("devset", "luna-tune")]
        bad = [n for n in wanted if n not in ("devset", "luna-tune")]
        if bad:
            print(f"error: --show-disagreements is only for tuned-on sets (devset, luna-tune); "
                  f"{', '.join(bad)} is held-out or unknown: only its aggregate figures are shown", file=sys.stderr)
            return 2
        args.sets = list(dict.fromkeys([*args.sets, *wanted]))
    if args.speech_only:
        return speech_only(args.speech_only, write=not args.no_write, per_language=args.per_language,
                           vad_gap_s=args.vad_gap)
    if args.throughput_only:
        tp = throughput(load_transcripts(), args.calls)
        print(f"throughput: {tp}")
        if not args.no_write:
            write_throughput_only(tp)
            print(f"wrote the throughput section of {RESULTS / 'agreement.md'}")
        return 0
    if args.oracle_roles:
        if args.write_floors:
            print("error: --oracle-roles figures are no product figures: no floors from them", file=sys.stderr)
            return 2
        args.no_write = True
    if args.write_floors and set(args.sets) != set(SET_NAMES):
        print("error: --write-floors needs every set measured (leave --sets out)", file=sys.stderr)
        return 2

    t0 = time.time()
    try:
        sets = load_sets(args.sets, args.oracle_roles)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    measures = measure(sets)
    print(f"scored {sum(len(s.transcripts) for s in sets)} calls in {time.time() - t0:.1f}s")
    print_measures(measures)
    speech = measure_speech() if args.speech else None
    if args.speech:
        if speech is None:
            print("speech: no cached Whisper transcripts in bench/results/heldout_speech (run bench/heldout_speech.py)")
        else:
            print(f"speech [held-out] {speech['n']} calls: reference macro kappa {_k(speech['ref']['macro_kappa'])}, "
                  f"through speech {_k(speech['asr']['macro_kappa'])}; WER {speech['wer']}")
            for c, v in speech["asr"]["criteria"].items():
                print(f"    {c:22s} acc reference {_k(speech['ref']['criteria'][c]['accuracy'])}  "
                      f"speech {_k(v['accuracy'])}")
    if args.show_disagreements is not None:
        show_disagreements(measures, wanted)
    tp = throughput(sets[0].transcripts if sets[0].name == "devset" else load_transcripts(), args.calls) \
        if args.throughput else None
    rc = 0
    if args.check_floors and FLOOR_FILE.exists():
        under = below_floors(measures, read_floors())
        for line in under:
            print(f"under the floor: {line}")
        rc = 1 if under else 0
    if args.no_write:
        return rc
    if set(args.sets) == set(SET_NAMES):
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "agreement.md").write_text(report_md(measures, speech, tp), encoding="utf-8")
        print(f"wrote {RESULTS / 'agreement.md'}")
        write_reliability(measures)
    if args.write_floors:
        FLOOR_FILE.write_text(json.dumps(floors_from(measures, args.tolerance), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {FLOOR_FILE}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
