"""Ingest throughput and dashboard query latency.

1. Throughput: the same batch of real recordings (the 8 sample calls in samples/ plus
   short two-prompt files built from asterisk-core-sounds-it) ingested into a fresh store by
   the local process pool and by a Dask LocalCluster with the same number of worker
   processes; figure: audio hours processed per wall-clock hour (transcribe + score + metrics
   + redaction + store), and the Dask/pool ratio.
2. Queries: a store holding --calls synthetic calls (qa.store.synthetic.populate) on SQLite and
   on PostgreSQL; each dashboard query of qa.store.queries timed (median of --repeat runs after
   one warm-up) against the 200 ms target.

    python bench/ingest.py [--calls 100000] [--audio-files 16] [--workers N] [--skip-ingest] [--skip-queries]
    python bench/ingest.py --memory [--hours 4] [--before-tree DIR] [--before-hours 0.33,1]

3. ``--memory``: peak memory (RSS) of the ingest path on one long 48 kHz stereo WAV made by
   ffmpeg (the real evaluation call looped: speech, 2.7 GB for 4 hours). Each measurement runs in
   a fresh process and reports its own peak RSS (``ru_maxrss``) and its RSS after imports:
   ``decode`` (``qa.audio.load_audio``: 16 kHz float32 channels, what transcription needs),
   ``redact-audio`` (``qa.redact.redact_audio``: the silenced 16 kHz copy) and ``ingest`` (``qa.ingest.ingest``
   of the file, one worker, ``keep_originals`` off: decode -> transcribe -> roles -> metrics -> redaction
   (text + audio) -> scoring -> SQLite store) where the **transcription stage is replaced by a provided
   transcript** (a held-out scripted call with personal data, repeated over the whole duration):
   a real engine would take hours on this machine, and its own memory is not what is measured.
   ``--before-tree``: a checkout of the code before (e.g. ``git archive 6ceb703``), measured the
   same way on shorter files (``--before-hours``), since its redaction grows with the length.
   Writes bench/results/ingest_memory.md.

Writes bench/results/ingest.md. The machine is shared: the load average before each part is
printed with the figures (numbers from a loaded machine are lower bounds for throughput and
upper bounds for latency).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import wave
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.ingest import IngestSettings, default_workers, ingest  # noqa: E402
from qa.store import open_store  # noqa: E402
from qa.store import queries as Q  # noqa: E402
from qa.store.synthetic import populate  # noqa: E402
from qa.transcribe import TranscribeOptions  # noqa: E402

PROMPTS = Path("/usr/share/asterisk/sounds/it")
PG = os.environ.get("QA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
END = datetime(2026, 11, 29, 18, 0)


def load() -> str:
    try:
        return "load average %.1f / %.1f / %.1f" % os.getloadavg()
    except OSError:
        return "load average n/a"


def build_audio(d: Path, n_samples: int, n_short: int) -> None:
    d.mkdir(parents=True, exist_ok=True)
    samples = [p for p in sorted((ROOT / "samples").iterdir()) if p.suffix.lower() in (".mp3", ".wav", ".m4a",
                                                                                        ".flac", ".ogg")]
    for p in samples[:n_samples]:
        shutil.copy(p, d / p.name)
    shutil.copy(ROOT / "samples" / "calls.csv", d.parent / "calls.csv")
    files = sorted(p for p in PROMPTS.glob("*.wav") if 16000 * 1.2 < p.stat().st_size < 16000 * 3)
    for i in range(n_short):
        a, b = files[2 * i], files[2 * i + 1]
        with wave.open(str(a)) as w0:
            params = w0.getparams()
        with wave.open(str(d / f"prompt_{i:03d}.wav"), "wb") as out:
            out.setparams(params)
            for p in (a, b):
                with wave.open(str(p)) as w:
                    out.writeframes(w.readframes(w.getnframes()))


def run_ingest(mode: str, src: Path, work: Path, workers: int) -> dict:
    data = work / mode
    store = open_store(f"sqlite:///{data / 'ascolto.db'}")
    settings = IngestSettings(transcribe=TranscribeOptions(), redact=True, data_dir=str(data))
    before = load()
    t0 = time.perf_counter()
    if mode == "pool":
        report = ingest([src], store, settings, metadata_csv=src.parent / "calls.csv", workers=workers,
                        progress=False)
    else:
        from distributed import LocalCluster

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          scheduler_port=0) as cluster:
            t0 = time.perf_counter()  # cluster start-up is not ingest time
            report = ingest([src], store, settings, metadata_csv=src.parent / "calls.csv",
                            scheduler=cluster.scheduler_address, progress=False)
    wall = time.perf_counter() - t0
    store.close()
    return {"mode": mode, "stored": report.stored, "failed": report.failed, "audio_s": report.audio_seconds,
            "wall_s": wall, "ratio": (report.audio_seconds / wall) if wall else 0.0, "load": before,
            "failures": report.failures}


def timed(fn, repeat: int) -> float:
    fn()  # warm-up (caches, plans)
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def query_suite(store) -> list[tuple[str, callable]]:
    last90 = CallFilters(date_from=END.date() - timedelta(days=90))
    return [
        ("call list, page 1, no filter, newest first", lambda: Q.call_list(store, None, "-started_at", 1, 50)),
        ("call list, team + score <= 60 + last 90 days, page 3",
         lambda: Q.call_list(store, CallFilters(team="Fidelizzazione", score_max=60,
                                                 date_from=END.date() - timedelta(days=90)), "-started_at", 3, 50)),
        ("call list, fails 'riepilogo' + language it, by score",
         lambda: Q.call_list(store, CallFilters(failed_criterion="riepilogo", language="it"), "-score", 1, 50)),
        ("call list, search 'Rossi' (ids, agent and customer names)",
         lambda: Q.call_list(store, CallFilters(search="Rossi"), "-started_at", 1, 50)),
        ("agent trend, one agent, weekly, all time", lambda: Q.agent_trend(store, "A007", "week")),
        ("pass rate per criterion x team, all time", lambda: Q.pass_rate_by_criterion_team(store)),
        ("pass rate per criterion x team, last 90 days", lambda: Q.pass_rate_by_criterion_team(store, last90)),
        ("pass rate per criterion x team, 17 Jan 12:00 - 16 Oct",
         lambda: Q.pass_rate_by_criterion_team(store, CallFilters(date_from=datetime(2026, 1, 17, 12),
                                                                  date_to=date(2026, 10, 16)))),
        ("heatmap agents x criteria, all time", lambda: Q.heatmap_agents_criteria(store)),
        ("heatmap agents x criteria, one team, last 90 days",
         lambda: Q.heatmap_agents_criteria(store, CallFilters(team="Vendite Zurigo",
                                                              date_from=END.date() - timedelta(days=90)))),
        ("compliance queue, page 1", lambda: Q.compliance_queue(store)),
        ("call detail", lambda: Q.call_detail(store, "SYN-0-0050000")),
    ]


CallFilters = Q.CallFilters


def run_queries(url: str, n_calls: int, repeat: int) -> dict:
    store = open_store(url)
    t0 = time.perf_counter()
    with store.session() as s:
        populate(s, n_calls, seed=0, end=END)
    fill = time.perf_counter() - t0
    if store.dialect == "postgresql":  # what autovacuum does soon after a bulk load (index-only scans)
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    else:
        with store.engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    before = load()
    rows = [(name, timed(fn, repeat)) for name, fn in query_suite(store)]
    store.close()
    return {"fill_s": fill, "rows": rows, "load": before}


MEMORY_CHILD = r"""
import json, resource, sys, time
tree, mode, wav, transcript_json, data_dir = sys.argv[1:6]
sys.path.insert(0, tree)
from qa.audio import load_audio
from qa.redact import redact_audio
from qa.model import Transcript
import qa.pipeline as P
from qa.ingest import IngestSettings, ingest
from qa.store import open_store
from qa.rubric import load_rubric
load_rubric("assistenza")
import spacy  # noqa: F401  (the NLP the scoring loads, before the baseline)

def rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

base = rss_kb()
t0 = time.monotonic()
if mode == "decode":
    a = load_audio(wav)
    out = {"duration_s": a.duration, "channels": len(a.channels)}
elif mode == "redact-audio":
    recs = json.load(open(transcript_json))["spans"]
    redact_audio(wav, data_dir + "/redacted.wav", recs)
    out = {"spans": len(recs)}
else:
    provided = Transcript.from_dict(json.load(open(transcript_json))["transcript"])
    def transcribe(audio, options=None, source="", metadata=None, call_id=None, progress=None):
        return Transcript(call_id or "long-call", provided.segments, provided.language, audio.duration,
                          dict(metadata or {}), {"engine": {"name": "provided", "model": "none"}})
    P.transcribe = transcribe
    store = open_store("sqlite:///" + data_dir + "/mem.db")
    r = ingest([wav], store, IngestSettings(keep_originals=False, data_dir=data_dir), workers=1, progress=False)
    out = {"stored": r.stored, "failed": r.failures}
print(json.dumps({"mode": mode, "base_kb": base, "peak_kb": rss_kb(), "wall_s": time.monotonic() - t0, **out}))
"""


def _long_wav(dst: Path, seconds: float) -> Path:
    import subprocess

    src = Path(os.environ.get("QA_EVAL_DIR") or ROOT.parent / "shared" / "eval") / "audio" / "stereo_diarization.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(src), "-t", f"{seconds:.3f}",
                    "-ar", "48000", "-ac", "2", "-c:a", "pcm_s16le", str(dst)], check=True)
    return dst


def _provided_transcript(seconds: float, dst: Path) -> Path:
    """A held-out scripted call (personal data in everyday phrasing) repeated over ``seconds``, and
    the spans ``redact_transcript`` finds in it (for the redact-audio measurement)."""
    import json

    from qa.model import Segment, Transcript
    from qa.redact import redact_transcript

    call = Transcript.load(ROOT / "tests" / "data" / "heldout" / "heldout-it-005.json")
    length = max(s.end for s in call.segments) + 2.0
    segs, k = [], 0
    while (k + 1) * length <= seconds:
        for s in call.segments:
            segs.append(Segment(s.speaker, s.start + k * length, s.end + k * length, s.text))
        k += 1
    t = Transcript("long48k", segs, call.language, seconds, {})
    _, spans = redact_transcript(t)
    dst.write_text(json.dumps({"transcript": t.to_dict(), "spans": spans}), encoding="utf-8")
    return dst


def _measure(tree: Path, mode: str, wav: Path, tj: Path, work: Path) -> dict:
    import json
    import subprocess

    d = work / f"data-{mode}-{tree.name}"
    d.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(tree), mode, str(wav), str(tj), str(d)],
                         capture_output=True, text=True, cwd=tree, env={**os.environ, "QA_DATA_DIR": str(d)})
    shutil.rmtree(d, ignore_errors=True)
    if out.returncode != 0:
        return {"mode": mode, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_main(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-mem-", dir=args.work_dir))
    rows = []
    try:
        plans = [(ROOT, "after (this tree)", float(h)) for h in [args.hours]]
        if args.before_tree:
            plans = [(Path(args.before_tree).resolve(), "before", float(h)) for h in args.before_hours.split(",")] + \
                [(ROOT, "after (this tree)", float(h)) for h in args.before_hours.split(",")] + plans
        wavs: dict[float, tuple[Path, Path]] = {}
        for tree, label, hours in plans:
            if hours not in wavs:
                for old in wavs.values():  # one long file on disk at a time
                    old[0].unlink(missing_ok=True)
                secs = hours * 3600
                wav = _long_wav(work / "long48k.wav", secs)
                wavs = {hours: (wav, _provided_transcript(secs, work / f"provided-{hours}.json"))}
                print(f"{hours} h: {wav.stat().st_size / 1e9:.2f} GB WAV ({load()})", flush=True)
            wav, tj = wavs[hours]
            for mode in ("decode", "redact-audio", "ingest"):
                r = _measure(tree, mode, wav, tj, work)
                r.update(label=label, hours=hours)
                print(r, flush=True)
                rows.append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = ["# Memory peak of the ingest path on a long 48 kHz stereo recording (bench/ingest.py --memory)", "",
             f"Machine: {os.cpu_count()} cores visible, shared; Python {platform.python_version()}; run "
             f"{datetime.now():%Y-%m-%d %H:%M}. Input: the evaluation call looped by ffmpeg to the length given, "
             "48 kHz stereo 16-bit WAV (4 h = 2.76 GB). Each row is a fresh process: peak RSS (`ru_maxrss`), and the "
             "RSS after imports (rubric and spaCy loaded) for comparison. Command: `python bench/ingest.py "
             + " ".join(sys.argv[1:]) + "`.", "",
             "What is measured: `decode` = `qa.audio.load_audio` (the 16 kHz float32 channels transcription needs); "
             "`redact-audio` = `qa.redact.redact_audio` (the silenced 16 kHz copy, spans of the provided transcript); "
             "`ingest` = `qa.ingest.ingest` of the file with one worker and `keep_originals` off (decode, roles, "
             "metrics, redaction of text and audio, scoring, SQLite store) where **the transcription engine is replaced "
             "by a provided transcript** (heldout-it-005 repeated over the duration): no Whisper model's own memory "
             "is in these figures.", "",
             "| code | hours | step | peak RSS (MB) | after imports (MB) | growth (MB) | wall (s) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['label']} | {r['hours']:g} | {r['mode']} | failed: {r['error']} | | | |")
            continue
        lines.append(f"| {r['label']} | {r['hours']:g} | {r['mode']} | {r['peak_kb'] / 1024:.0f} | {r['base_kb'] / 1024:.0f} "
                     f"| {(r['peak_kb'] - r['base_kb']) / 1024:.0f} | {r['wall_s']:.0f} |")
    ok = [r for r in rows if "error" not in r]
    after = [r for r in ok if r["label"].startswith("after") and r["hours"] == args.hours]
    before = sorted((r for r in ok if r["label"] == "before" and r["mode"] == "ingest"), key=lambda r: r["hours"])
    if after:
        by = {r["mode"]: r for r in after}
        lines += ["", f"**{args.hours:g}-hour file, this tree:** `qa ingest` path peak "
                  f"{by['ingest']['peak_kb'] / 1024 / 1024:.1f} GiB (growth {(by['ingest']['peak_kb'] - by['ingest']['base_kb']) / 1024 / 1024:.1f} GiB "
                  f"over the {by['ingest']['base_kb'] / 1024:.0f} MB after imports), of which the decoded 16 kHz float32 audio "
                  f"that transcription needs is {(by['decode']['peak_kb'] - by['decode']['base_kb']) / 1024 / 1024:.1f} GiB; "
                  f"the audio redaction grows the process by {(by['redact-audio']['peak_kb'] - by['redact-audio']['base_kb']) / 1024:.0f} MB "
                  "whatever the length."]
    if len(before) >= 2 and not any(r["hours"] == args.hours for r in before):
        a, b = before[0], before[-1]
        slope = (b["peak_kb"] - a["peak_kb"]) / (b["hours"] - a["hours"])
        est = b["peak_kb"] + slope * (args.hours - b["hours"])
        lines += ["", f"**Before** (`--before-tree`), not run at {args.hours:g} h: its `qa ingest` peak grows linearly with the "
                  f"length ({a['peak_kb'] / 1024 / 1024:.1f} GiB at {a['hours']:g} h, {b['peak_kb'] / 1024 / 1024:.1f} GiB at "
                  f"{b['hours']:g} h: {slope / 1024 / 1024:.1f} GiB per hour), so about **{est / 1024 / 1024:.0f} GiB** at "
                  f"{args.hours:g} h by extrapolation (more than this shared machine's memory); most of it is the audio "
                  "redaction, which decoded the whole 48 kHz file and converted it three times."]
    out = Path(args.out if args.out != str(ROOT / "bench" / "results" / "ingest.md")
               else ROOT / "bench" / "results" / "ingest_memory.md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=8, help="how many of the 8 sample calls to include")
    ap.add_argument("--audio-files", type=int, default=16, help="short two-prompt recordings beside the samples")
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--skip-queries", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "ingest.md"))
    ap.add_argument("--memory", action="store_true", help="peak RSS on one long 48 kHz stereo file (see above)")
    ap.add_argument("--hours", type=float, default=4.0)
    ap.add_argument("--before-tree", help="a checkout of the code before, measured the same way")
    ap.add_argument("--before-hours", default="0.333,1", help="lengths for --before-tree (and the same after)")
    ap.add_argument("--work-dir", default=None, help="where the long WAV is written (default: the temp dir)")
    args = ap.parse_args()
    if args.memory:
        return memory_main(args)

    lines = ["# Ingest throughput and dashboard queries (bench/ingest.py)", "",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
             f"{default_workers()} usable; Python {platform.python_version()}; run {datetime.now():%Y-%m-%d %H:%M}.",
             "The machine is shared with other work: the load average at the start of each part is given.", ""]
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        if not args.skip_queries:
            from tests.pg import pg_schema_url  # the same per-run schema helper as the tests

            backends = [("SQLite (WAL file)", f"sqlite:///{work / 'queries.db'}", None)]
            parts = {}
            for label, url, _ in backends:
                parts[label] = run_queries(url, args.calls, args.repeat)
                print(f"{label}: filled in {parts[label]['fill_s']:.0f} s", flush=True)
            with pg_schema_url("qa_bench") as url:
                parts["PostgreSQL 15"] = run_queries(url, args.calls, args.repeat)
                print(f"PostgreSQL: filled in {parts['PostgreSQL 15']['fill_s']:.0f} s", flush=True)
            labels = list(parts)
            lines += [f"## Dashboard queries on {args.calls:,} synthetic calls ({args.calls * 11:,} criterion results)",
                      "", "Median of %d runs after a warm-up; target <= 200 ms each. %s" % (
                          args.repeat, "; ".join(f"{k}: {v['load']}, filled in {v['fill_s']:.0f} s"
                                                 for k, v in parts.items())), "",
                      "| query | " + " | ".join(f"{k} (ms)" for k in labels) + " |",
                      "|---|" + "---|" * len(labels)]
            names = [n for n, _ in parts[labels[0]]["rows"]]
            worst = 0.0
            for i, name in enumerate(names):
                cells = []
                for k in labels:
                    ms = parts[k]["rows"][i][1]
                    worst = max(worst, ms)
                    cells.append(f"{ms:.1f}" + ("" if ms <= 200 else " (over)"))
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
                print(f"{name}: " + ", ".join(f"{k} {parts[k]['rows'][i][1]:.1f} ms" for k in labels))
            lines += ["", f"Slowest: {worst:.1f} ms ({'within' if worst <= 200 else 'over'} the 200 ms target).", ""]
        if not args.skip_ingest:
            src = work / "audio"
            build_audio(src, args.samples, args.audio_files)
            results = []
            for mode in ("pool", "dask"):
                r = run_ingest(mode, src, work, args.workers)
                print(f"{mode}: {r['stored']} stored, {r['failed']} failed, {r['audio_s']:.0f} s audio in "
                      f"{r['wall_s']:.0f} s wall -> {r['ratio']:.2f} audio h / wall h ({r['load']})", flush=True)
                for p, reason in r["failures"]:
                    print(f"  failed {Path(p).name}: {reason}")
                results.append(r)
            lines += ["## Ingest throughput (audio hours per wall-clock hour)", "",
                      f"{results[0]['stored'] + results[0]['failed']} recordings: {args.samples} of the sample calls "
                      f"(samples/, 33-87 s each, compressed formats, stereo and mono) + {args.audio_files} short real-voice files "
                      f"(asterisk prompts in pairs, 3-6 s); faster-whisper base int8 on CPU, language detection, "
                      f"scoring, metrics with sentiment, redaction (text + silenced audio copy), SQLite store. "
                      f"{args.workers} workers.", "",
                      "| mode | stored | audio (s) | wall (s) | audio h / wall h | load at start |",
                      "|---|---|---|---|---|---|"]
            for r in results:
                lines.append(f"| {'local process pool' if r['mode'] == 'pool' else 'Dask LocalCluster (processes)'} "
                             f"| {r['stored']} | {r['audio_s']:.0f} | {r['wall_s']:.0f} | {r['ratio']:.2f} | {r['load']} |")
            if results[0]["ratio"]:
                lines += ["", f"Dask / pool throughput ratio: {results[1]['ratio'] / results[0]['ratio']:.2f}", ""]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
