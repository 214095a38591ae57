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
    args = ap.parse_args()

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
