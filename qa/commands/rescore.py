"""`qa rescore [--rubric NAME] [--since DATE] [--force]`: re-evaluate stored transcripts with
the current rubric versions, without transcribing again (earlier evaluations stay as history)."""

from __future__ import annotations

import argparse
import sys


def _date(text: str):
    from datetime import datetime

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {text!r} (e.g. 2026-11-01)") from None


def register(subparsers) -> None:
    """Add ``qa rescore``."""
    p = subparsers.add_parser("rescore", help="re-evaluate stored calls with the current rubric versions",
                              description="Re-evaluate stored transcripts with the current version of their "
                                          "rubric (or of --rubric for every call) without transcribing again. "
                                          "Calls already evaluated with that version are left alone (--force: "
                                          "all). Earlier evaluations are kept as history.")
    p.add_argument("--rubric", metavar="NAME", help="score with this rubric instead of each call's own")
    p.add_argument("--since", type=_date, metavar="DATE", help="only calls started on/after DATE (UTC)")
    p.add_argument("--force", action="store_true", help="re-evaluate even when the version is unchanged")
    p.add_argument("--workers", type=int, metavar="N", default=1, help="scoring processes (default: 1)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Re-evaluate the stored calls (``qa.ingest.rescore``); failures and a summary."""
    from ..ingest import rescore
    from ..store import open_store

    store = open_store()
    try:
        r = rescore(store, rubric=args.rubric, since=args.since, force=args.force,
                    progress=False if args.no_progress else None, workers=args.workers)
    finally:
        store.close()
    for call_id, reason in r.failures:
        print(f"qa: failed: {call_id}: {reason}", file=sys.stderr)
    print(f"{r.rescored} re-evaluated, {r.unchanged} already current, {r.failed} failed of {r.considered} calls")
    return r.exit_code
