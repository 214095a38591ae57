"""`qa ingest DIR|FILES [--metadata calls.csv] [--workers N] [--scheduler tcp://HOST:PORT]
[--redact/--no-redact] [--rubric NAME]`: transcribe, score and store recordings (or Transcript
JSON files). Idempotent and resumable; failures go to `qa failures`.
Exit: 0 all stored (or already there), 1 some inputs failed, 3 all failed."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add ``qa ingest``."""
    from ..constants import LANGS
    from ..transcribe import AGENT_CHANNELS, ENGINES

    p = subparsers.add_parser(
        "ingest",
        help="transcribe, score and store recordings or transcript JSON files",
        description="Transcribe, score and store call recordings (WAV, MP3, OGG/Opus, FLAC, M4A) and/or "
                    "Transcript JSON files (FORMATS.md) into the store (QA_DATABASE_URL, default a SQLite file "
                    "in QA_DATA_DIR). Folders are searched recursively. A file already stored (same SHA-256) "
                    "is skipped, so running the command again after a crash carries on where it stopped. "
                    "Failed inputs are listed by 'qa failures'. Exit code: 0 everything stored, 1 some inputs "
                    "failed, 3 every input failed.",
    )
    p.add_argument("inputs", nargs="+", metavar="DIR|FILE", help="recordings, transcript JSON files or folders")
    p.add_argument("--metadata", metavar="CSV", help="calls.csv: file,call_id,agent_id,agent_name,team,"
                   "customer_name,call_type,direction,started_at (matched by file name)")
    p.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: one per core)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on a Dask distributed cluster instead of local processes (workers need ascolto "
                        "installed and the inputs + QA_DATA_DIR on shared storage)")
    p.add_argument("--redact", action=argparse.BooleanOptionalAction, default=True,
                   help="mask personal data in stored transcripts/evidence and keep a silenced audio copy "
                        "(default: on)")
    p.add_argument("--rubric", metavar="NAME", help="score every call with this rubric (default: the rubric of "
                   "the call's call_type, inferred when absent)")
    p.add_argument("--engine", choices=list(ENGINES), default="faster-whisper")
    p.add_argument("--model", default="base", metavar="base|small|PATH")
    p.add_argument("--language", default="auto", choices=["auto", *LANGS])
    p.add_argument("--agent-channel", default="left", choices=list(AGENT_CHANNELS))
    p.add_argument("--keep-originals", action=argparse.BooleanOptionalAction, default=None,
                   help="refer to recordings where they are (default: $QA_KEEP_ORIGINALS, else on); "
                        "--no-keep-originals copies them (only the redacted copy with --redact) into QA_DATA_DIR")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Ingest the inputs into the store; the failures and a summary."""
    from ..errors import UsageError
    from ..ingest import IngestSettings, ingest, keep_originals_setting
    from ..store import open_store
    from ..transcribe import TranscribeOptions

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    settings = IngestSettings(
        transcribe=TranscribeOptions(engine=args.engine, model=args.model, language=args.language,
                                     agent_channel=args.agent_channel),
        rubric=args.rubric, redact=args.redact,
        keep_originals=keep_originals_setting() if args.keep_originals is None else args.keep_originals)
    store = open_store()
    try:
        report = ingest(args.inputs, store, settings, metadata_csv=args.metadata, workers=args.workers,
                        scheduler=args.scheduler, progress=False if args.no_progress else None)
    finally:
        store.close()
    for path, reason in report.failures:
        print(f"qa: failed: {path}: {reason}", file=sys.stderr)
    print(report.summary())
    if report.failed:
        print("qa: see 'qa failures'; run the same command again after fixing the inputs", file=sys.stderr)
    return report.exit_code
