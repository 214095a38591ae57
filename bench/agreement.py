"""Agreement of the rubric engine with the labelled dev set, and its throughput.

    python bench/agreement.py [--no-asr] [--no-throughput] [--calls 10000]
    python bench/agreement.py --throughput-only [--calls 10000]   # only the throughput section

1. Clean text: score tests/data/devset/*.json, compare per criterion with labels.csv
   (pass/fail/na): accuracy, Cohen's kappa (qa.calibration.kappa), macro kappa = mean over criteria.
2. Through speech: each dev call is spoken by espeak-ng (samples.generate.synthesize_call, the
   agent on the left channel), transcribed by the default engine (qa.transcribe.transcribe_file,
   faster-whisper base, language auto-detected), the call's metadata re-attached, and scored.
   The ASR transcripts are cached in bench/out/asr/ (delete to redo).
3. Throughput: ``score_transcripts`` (the batch API ``qa score`` uses) on N already-transcribed calls
   (the dev calls cycled with new call ids), one process, one core: calls per CPU-second; and the dev
   calls scored once after a warm-up on other calls ("first sight": their words new to the caches).

Writes bench/results/agreement.md and, with the clean-text figures, bench/results/agreement_floor.json
(the floor that tests/test_agreement.py holds CI to). Ratios are measured in one run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEVSET = ROOT / "tests" / "data" / "devset"
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"
CORE = ["saluto", "nome_cliente", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione",
        "congedo", "protezione_dati", "identificazione", "empatia", "proposta_disdetta"]


def load_labels(devset: Path = DEVSET) -> dict[str, dict[str, str]]:
    """The dev set's labels: call id -> criterion -> pass/fail/na ('' for not labelled)."""
    files = [devset / "labels.csv"] if (devset / "labels.csv").exists() else sorted(devset.glob("labels_*_*.csv"))
    labels: dict[str, dict[str, str]] = {}
    for f in files:
        with f.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                labels[row["call_id"]] = {k: (v or "").strip() for k, v in row.items() if k != "call_id"}
    return labels


def load_transcripts(devset: Path = DEVSET, labels: dict | None = None):
    """The dev set's transcripts of the labelled calls, in call id order."""
    from qa.model import Transcript

    labels = labels if labels is not None else load_labels(devset)
    return [Transcript.load(devset / f"{cid}.json") for cid in sorted(labels) if (devset / f"{cid}.json").exists()]


def agreement(evaluations, labels: dict[str, dict[str, str]], criteria=CORE) -> dict:
    """Per criterion: accuracy, Cohen's kappa (``qa.calibration.kappa``), n; macro kappa (mean over the
    criteria with data); the disagreements. A criterion the engine left out is predicted ``missing``."""
    from qa.calibration import kappa

    per: dict[str, dict] = {}
    disagreements = []
    by_id = {e.call_id: e for e in evaluations}
    for c in criteria:
        y_true, y_pred = [], []
        for cid, row in labels.items():
            ev = by_id.get(cid)
            if ev is None or c not in row or not row[c]:
                continue
            r = ev.result(c)
            pred = r.result if r is not None else "missing"
            y_true.append(row[c])
            y_pred.append(pred)
            if pred != row[c]:
                disagreements.append((cid, c, row[c], pred))
        n = len(y_true)
        acc = sum(a == b for a, b in zip(y_true, y_pred)) / n if n else float("nan")
        per[c] = {"accuracy": round(acc, 4), "kappa": kappa(y_true, y_pred), "n": n}
    ks = [v["kappa"] for v in per.values() if v["kappa"] is not None]
    macro = sum(ks) / len(ks) if ks else float("nan")
    return {"criteria": per, "macro_kappa": round(macro, 4), "disagreements": disagreements}


def _k(value) -> str:
    """A kappa for the tables: 3 decimals, ``-`` for a criterion without labelled calls."""
    return "-" if value is None else f"{value:.3f}"


def score_all(transcripts):
    """Evaluations of ``transcripts`` by the batch API ``qa score`` uses."""
    from qa.rubric import score_transcripts

    return list(score_transcripts(transcripts))


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
    from qa.learn import load_model
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
    head = "| criterion | n | accuracy (clean) | kappa (clean) |" + (" accuracy (ASR) | kappa (ASR) |" if res_asr else "")
    sep = "|---|---|---|---|" + ("---|---|" if res_asr else "")
    lines = [head, sep]
    for c, v in res_clean["criteria"].items():
        row = f"| {c} | {v['n']} | {v['accuracy']:.3f} | {_k(v['kappa'])} |"
        if res_asr:
            a = res_asr["criteria"][c]
            row += f" {a['accuracy']:.3f} | {_k(a['kappa'])} |"
        lines.append(row)
    row = f"| **macro kappa** | | | **{res_clean['macro_kappa']:.3f}** |"
    if res_asr:
        row += f" | **{res_asr['macro_kappa']:.3f}** |"
    lines.append(row)
    return lines


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


def main(argv=None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-asr", action="store_true", help="skip the speech + ASR run")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--calls", type=int, default=10000, help="calls for the throughput run")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--asr-cached-only", action="store_true",
                    help="use only the ASR transcripts already in bench/out/asr (a subset when the run was cut short)")
    ap.add_argument("--throughput-only", action="store_true",
                    help="measure throughput only and rewrite only the throughput section of bench/results/agreement.md")
    ap.add_argument("--speech-only", choices=["espeak", "festival", "kokoro"],
                    help="only the speech + ASR run with these voices (festival: the it and en calls), written to "
                         "bench/results/agreement_speech_<voices>.md")
    ap.add_argument("--per-language", type=int, metavar="N", help="with --speech-only: the first N calls of each language")
    ap.add_argument("--vad-gap", type=float, metavar="S",
                    help="with --speech-only: the engine's vad_gap_s (default: the engine's own, 1 s; 0 = speech "
                         "stretches glued end to end); its own cache and report file")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
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

    labels = load_labels()
    clean = load_transcripts(labels=labels)
    t0 = time.time()
    res_clean = agreement(score_all(clean), labels)
    print(f"clean: {len(clean)} calls scored in {time.time() - t0:.1f}s, macro kappa {res_clean['macro_kappa']}")
    for c, v in res_clean["criteria"].items():
        print(f"  {c:22s} acc {v['accuracy']:.3f} kappa {_k(v['kappa'])}")

    res_asr = None
    n_asr = 0
    if not args.no_asr:
        subset = [t for t in clean if (OUT / "asr" / f"{t.call_id}.json").exists()] if args.asr_cached_only else clean
        asr = asr_transcripts(subset)
        n_asr = len(asr)
        res_asr = agreement(score_all(asr), {t.call_id: labels[t.call_id] for t in subset})
        res_asr["wer"] = asr_wer(subset, asr)
        print(f"ASR word error rate per language: {res_asr['wer']}")
        print(f"ASR: macro kappa {res_asr['macro_kappa']}")
        for c, v in res_asr["criteria"].items():
            print(f"  {c:22s} acc {v['accuracy']:.3f} kappa {_k(v['kappa'])}")

    tp = None
    if not args.no_throughput:
        tp = throughput(clean, args.calls)
        print(f"throughput: {tp}")

    if args.no_write:
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    from qa.rubric import load_rubric

    versions = sorted({f"{r}: {load_rubric(r).version}" for r in ("acquisizione", "assistenza", "fidelizzazione",
                                                                    "riacquisizione")})
    md = ["# Rubric engine: agreement with the labelled dev set, and throughput", "",
          f"Measured by `bench/agreement.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{len(clean)} labelled calls (tests/data/devset, it/de/fr/en, four call types); rubrics "
          + ", ".join(versions) + ".",
          "Kappa: Cohen's kappa (scikit-learn) over pass/fail/na; macro kappa = mean over the 11 criteria. "
          "Caveat: the rubric phrase lists were written while looking at aggregate results on this same set "
          "(no held-out set), so the clean-text figures are optimistic.", ""]
    md += _table(res_clean, res_asr)
    md.append("")
    if res_asr is not None:
        md += [f"Speech + ASR ({n_asr} of the {len(clean)} calls"
               + (", the ones transcribed before the run was cut short: CPU only, shared machine" if n_asr < len(clean)
                  else "") + "): each call spoken by espeak-ng (two voices, stereo, 8 kHz telephone band), "
               "transcribed by faster-whisper base (language auto-detected), metadata re-attached, then scored. "
               f"Word error rate of those transcripts against the dev text, per language: {res_asr.get('wer')}. "
               "The ASR figures measure mostly the transcripts: espeak-ng voices through Whisper base come back "
               "garbled (names, verbs, whole French turns), so phrases the rubric looks for are simply not there.", ""]
    if tp is not None:
        md += throughput_md(tp)
    md += ["## Disagreements (clean text)", ""]
    md += [f"- {cid} {c}: label {lab}, engine {pred}" for cid, c, lab, pred in res_clean["disagreements"]] or ["(none)"]
    if res_asr is not None:
        md += ["", "## Disagreements (speech + ASR)", ""]
        md += [f"- {cid} {c}: label {lab}, engine {pred}" for cid, c, lab, pred in res_asr["disagreements"]] or ["(none)"]
    (RESULTS / "agreement.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    floor = {c: v["accuracy"] for c, v in res_clean["criteria"].items()}
    floor["macro_kappa"] = res_clean["macro_kappa"]
    (RESULTS / "agreement_floor.json").write_text(json.dumps(floor, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'agreement.md'} and agreement_floor.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
