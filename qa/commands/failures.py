"""`qa failures [--json] [--full-path] [--clear]`: the inputs `qa ingest` could not store,
one per line: file name, a tab, the reason."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    """Add ``qa failures``."""
    p = subparsers.add_parser("failures", help="list inputs that qa ingest could not store, with the reason",
                              description="List the inputs that 'qa ingest' could not store, one per line: "
                                          "file name, TAB, reason. An input that later succeeds is removed.")
    p.add_argument("--full-path", action="store_true", help="print the full path instead of the file name")
    p.add_argument("--json", action="store_true", help="JSON array with path, reason, checksum, attempts, times")
    p.add_argument("--clear", action="store_true", help="forget every recorded failure")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List (or clear) the recorded ingest failures."""
    from ..store import open_store

    store = open_store()
    try:
        rows = store.failures()
        if args.clear:
            for f in rows:
                store.clear_failure(f.path)
            print(f"{len(rows)} failure(s) cleared")
            return 0
        if args.json:
            print(json.dumps([{"file": f.file_name, "path": f.path, "reason": f.reason, "checksum": f.checksum,
                               "attempts": f.attempts, "first_at": f.first_at.isoformat() + "Z",
                               "last_at": f.last_at.isoformat() + "Z"} for f in rows], ensure_ascii=False, indent=1))
        else:
            for f in rows:
                print(f"{f.path if args.full_path else f.file_name}\t{f.reason}")
    finally:
        store.close()
    return 0
