"""How well Whisper hears the sample calls, and whether the pipeline's transcripts still score as
samples/expected.csv says.

    python bench/samples_asr.py [--dir samples] [--only call_it_01.m4a ...] [--no-pipeline] [--json out.json]

1. Per turn (repeatable): each turn of each call is cut from its own channel (the agent's or the
   customer's; the mixed channel of a mono call) with 0.2 s either side, using the turn timings of
   samples/transcripts/, and transcribed alone by the default engine's model (faster-whisper base,
   int8, beam 5) at temperature 0, without VAD and without previous-text conditioning, in the
   call's language. Compared with the script text (jiwer, lower case, punctuation removed):
   words recognised = hits / reference words, WER = (S + D + I) / reference words. Numbers the
   script spells out and Whisper writes as digits count as misses, the same before and after.
2. Pipeline: ``qa.transcribe.transcribe_file`` with the default options (language detected, as
   ``qa demo`` and ``qa ingest`` run it) and the calls.csv metadata, scored by
   ``qa.rubric.score_transcript``; criteria agreeing with expected.csv, and the WER of the whole
   call's text against the script.

Writes bench/results/samples_asr.md when run on samples/ (the default) with every call;
``--baseline old.json`` (a ``--json`` of an earlier run, e.g. on the previous samples checked out
into a folder) adds its figures beside, measured with the same engine.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAD_S = 0.2
# the results file's sections from this heading on are measured by hand and kept as they are
KEEP_FROM = "## Time from `make demo` to the dashboard"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text.lower())
    text = re.sub(r"[’']", "' ", text)  # l'estero -> l' estero (Whisper and the script split alike)
    text = re.sub(r"[^\w' ]+", " ", text)
    return " ".join(text.replace("'", "").split())


def _measures(refs: list[str], hyps: list[str]) -> dict:
    import jiwer

    pairs = [(normalise(r), normalise(h)) for r, h in zip(refs, hyps)]
    pairs = [(r, h if h else "<empty>") for r, h in pairs if r]
    out = jiwer.process_words([r for r, _ in pairs], [h for _, h in pairs])
    n = out.hits + out.substitutions + out.deletions
    return {"words": n, "hits": out.hits, "recognised": out.hits / n, "wer": out.wer}


def per_turn(sample_dir: Path, calls: list[dict], model) -> dict[str, dict]:
    from qa.audio import load_audio
    from qa.model import Transcript

    results = {}
    for call in calls:
        audio = load_audio(sample_dir / call["file"])
        ref = Transcript.load(sample_dir / "transcripts" / f"{call['call_id']}.json")
        sr = audio.sample_rate
        refs, hyps, speakers = [], [], []
        for seg in ref.segments:
            if audio.n_channels == 2:
                x = audio.channels[0 if seg.speaker == "agent" else 1]
            else:
                x = audio.mono()
            a, b = max(0, int((seg.start - PAD_S) * sr)), int((seg.end + PAD_S) * sr)
            segs, _ = model.transcribe(x[a:b], language=call["language"], beam_size=5, temperature=0.0,
                                       vad_filter=False, condition_on_previous_text=False,
                                       without_timestamps=True)
            refs.append(seg.text)
            hyps.append(" ".join(s.text.strip() for s in segs))
            speakers.append(seg.speaker)
        results[call["file"]] = _measures(refs, hyps)
        for who in ("agent", "customer"):
            m = _measures([r for r, w in zip(refs, speakers) if w == who], [h for h, w in zip(hyps, speakers) if w == who])
            results[call["file"]][who] = round(m["recognised"], 4)
        results[call["file"]]["turns"] = len(refs)
        print(f"{call['file']:<18} per turn: {results[call['file']]['recognised']:.1%} recognised, "
              f"WER {results[call['file']]['wer']:.1%} (agent {results[call['file']]['agent']:.0%}, "
              f"customer {results[call['file']]['customer']:.0%})", file=sys.stderr)
    return results


def pipeline(sample_dir: Path, calls: list[dict]) -> dict[str, dict]:
    from qa.metadata import load_metadata
    from qa.model import Transcript
    from qa.rubric import score_transcript
    from qa.transcribe import TranscribeOptions, transcribe_file

    with (sample_dir / "expected.csv").open(encoding="utf-8", newline="") as fh:
        expected = {r["call_id"]: {k: v for k, v in r.items() if k != "call_id"} for r in csv.DictReader(fh)}
    table = load_metadata(str(sample_dir / "calls.csv"))
    results = {}
    for call in calls:
        path = sample_dir / call["file"]
        meta = table.lookup(path) or {}
        tr = transcribe_file(path, TranscribeOptions(), metadata=dict(meta))
        ev = score_transcript(tr)
        want = expected[call["call_id"]]
        wrong = [c for c, v in want.items() if (ev.result(c).result if ev.result(c) else None) != v]
        ref = Transcript.load(sample_dir / "transcripts" / f"{call['call_id']}.json")
        m = _measures([" ".join(s.text for s in ref.segments)], [" ".join(s.text for s in tr.segments)])
        results[call["file"]] = {"agree": len(want) - len(wrong), "criteria": len(want), "wrong": wrong,
                                 "got": {c: (ev.result(c).result if ev.result(c) else None) for c in want},
                                 "expected": want, "wer": m["wer"], "recognised": m["recognised"],
                                 "language": tr.language}
        print(f"{call['file']:<18} pipeline: {len(want) - len(wrong)}/{len(want)} criteria as expected "
              f"{wrong or ''}, WER {m['wer']:.1%}, language {tr.language}", file=sys.stderr)
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=str(ROOT / "samples"))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--no-pipeline", action="store_true")
    ap.add_argument("--json", help="also write the figures as JSON here")
    ap.add_argument("--baseline", help="JSON of an earlier run to put beside these figures in the results file")
    args = ap.parse_args(argv)
    from samples.generate import load_scripts
    from qa.transcribe import get_engine

    sample_dir = Path(args.dir)
    calls = load_scripts(sample_dir / "scripts.yaml" if (sample_dir / "scripts.yaml").exists() else
                         ROOT / "samples" / "scripts.yaml")
    if args.only:
        calls = [c for c in calls if c["file"] in args.only]
    engine = get_engine("faster-whisper", "base")
    turns = per_turn(sample_dir, calls, engine.model)
    pipe = {} if args.no_pipeline else pipeline(sample_dir, calls)
    sizes = {c["file"]: (sample_dir / c["file"]).stat().st_size for c in calls}
    if args.json:
        Path(args.json).write_text(json.dumps({"turns": turns, "pipeline": pipe, "sizes": sizes}, indent=1))
    all_words = sum(t["words"] for t in turns.values())
    all_hits = sum(t["hits"] for t in turns.values())
    print(f"all: {all_hits / all_words:.1%} of {all_words} words recognised per turn; "
          f"{sum(sizes.values()) / 1000:.0f} kB", file=sys.stderr)
    if pipe:
        print(f"pipeline: {sum(p['agree'] for p in pipe.values())}/{sum(p['criteria'] for p in pipe.values())} "
              "criteria as expected", file=sys.stderr)
    if sample_dir.resolve() == (ROOT / "samples").resolve() and not args.only and pipe:
        base = json.loads(Path(args.baseline).read_text()) if args.baseline else None
        out = ROOT / "bench" / "results" / "samples_asr.md"
        old = out.read_text(encoding="utf-8") if out.exists() else ""
        tail = old[old.index(KEEP_FROM):] if KEEP_FROM in old else ""
        text = report(calls, {"turns": turns, "pipeline": pipe, "sizes": sizes}, base)
        out.write_text(text + ("\n" + tail if tail else ""), encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    return 0


def _voices(call: dict) -> str:
    v = call.get("voices") or {}

    def one(spec: dict) -> str:
        name = spec.get("kokoro") or spec.get("festival") or f"espeak-ng {spec.get('variant', '')}".strip()
        return f"{name} ×{spec['speed']}" if spec.get("speed") not in (None, 1, 1.0) else name

    return " / ".join(one(v[k]) for k in ("agent", "customer") if k in v) or "-"


def report(calls: list[dict], now: dict, base: dict | None) -> str:
    def cell(d: dict | None, f: str, fmt) -> str:
        return fmt(d, f) if d and f in d.get("turns", {}) else "-"

    size = lambda d, f: f"{d['sizes'][f] / 1000:.0f} kB"
    rec = lambda d, f: f"{d['turns'][f]['recognised']:.1%}"
    wer = lambda d, f: f"{d['turns'][f]['wer']:.0%}"
    agree = lambda d, f: f"{d['pipeline'][f]['agree']}/{d['pipeline'][f]['criteria']}" if f in d.get("pipeline", {}) else "-"
    pwer = lambda d, f: f"{d['pipeline'][f]['wer']:.0%}" if f in d.get("pipeline", {}) else "-"
    lines = ["# Whisper on the sample calls (bench/samples_asr.py)", "",
             "Per turn: each turn cut from its own channel and transcribed alone (faster-whisper base, int8, beam 5, "
             "temperature 0, no VAD), against the script: words recognised (hits / words) and WER. Pipeline: "
             "`transcribe_file` with default options (language detected) and the calls.csv metadata, then "
             "`score_transcript`, as `qa demo`/`qa ingest` run them: criteria agreeing with expected.csv, WER of the "
             "whole call. Voices: Kokoro-82M (agent / customer; ×speed)."
             + (" *before*: the previous samples, measured in the same run." if base else ""), ""]
    if base:
        lines += ["| file | voices | size before | size | recognised before | recognised | WER before | WER | "
                  "pipeline before | pipeline | pipeline WER before | pipeline WER |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    else:
        lines += ["| file | voices (agent / customer) | size | recognised | WER | pipeline | pipeline WER |",
                  "|---|---|---|---|---|---|---|"]
    for c in calls:
        f = c["file"]
        if base:
            lines.append(f"| {f} | {_voices(c)} | {cell(base, f, size)} | {size(now, f)} | {cell(base, f, rec)} | "
                         f"{rec(now, f)} | {cell(base, f, wer)} | {wer(now, f)} | {cell(base, f, agree)} | "
                         f"{agree(now, f)} | {cell(base, f, pwer)} | {pwer(now, f)} |")
        else:
            lines.append(f"| {f} | {_voices(c)} | {size(now, f)} | {rec(now, f)} | {wer(now, f)} | {agree(now, f)} | "
                         f"{pwer(now, f)} |")

    def totals(d: dict) -> tuple[str, str, str]:
        words = sum(t["words"] for t in d["turns"].values())
        hits = sum(t["hits"] for t in d["turns"].values())
        pipe = d.get("pipeline", {})
        agreed, total = sum(p["agree"] for p in pipe.values()), sum(p["criteria"] for p in pipe.values())
        return (f"{sum(d['sizes'].values()) / 1000:.0f} kB", f"{hits / words:.1%}",
                f"{agreed}/{total} ({agreed / total:.1%})" if total else "-")

    t_now = totals(now)
    if base:
        t_base = totals(base)
        lines.append(f"| all | | {t_base[0]} | {t_now[0]} | {t_base[1]} | {t_now[1]} | | | {t_base[2]} | {t_now[2]} | "
                     "| |")
    else:
        lines.append(f"| all | | {t_now[0]} | {t_now[1]} | | {t_now[2]} | |")
    pipe = now.get("pipeline", {})
    if pipe:
        criteria = list(next(iter(pipe.values()))["expected"])
        lines += ["", "Agreement with expected.csv per criterion (the eight calls):", "",
                  "| " + " | ".join(criteria) + " |", "|" + "---|" * len(criteria),
                  "| " + " | ".join(f"{sum(p['got'][k] == p['expected'][k] for p in pipe.values())}/{len(pipe)}"
                                    for k in criteria) + " |"]
        wrong = [f"{c['call_id']} {k}: expected {pipe[c['file']]['expected'][k]}, got {pipe[c['file']]['got'][k]}"
                 for c in calls if c["file"] in pipe for k in pipe[c["file"]]["wrong"]]
        lines += ["", "Disagreements: " + ("; ".join(wrong) if wrong else "none") + "."]
    lines += ["", "Numbers the script spells out and Whisper writes as digits count as misses. At temperature 0 "
              "without fallback a garbled turn can loop (WER over 100%): words recognised is the steadier figure. "
              "Small changes to the audio move a call's figure by a few points either way. The pipeline figures "
              "are not fully repeatable from run to run (Whisper's temperature fallback samples).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
