"""`qa export --format csv|parquet|json [--since DATE] [-o FILE] [--level both|call|criterion]`:
the store for BI tools. Default (--level both): FILE has one row per call (with metrics) and
FILE's name with `.criteria` before the extension one row per criterion result
(calls.csv -> calls.criteria.csv)."""

from __future__ import annotations

import argparse


def _date(text: str):
    from datetime import datetime

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {text!r} (e.g. 2026-11-01)") from None


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export calls and criterion results for BI tools (CSV, Parquet, JSON)",
        description="Export the store for BI tools. --level both (default) writes two tables: FILE, one row "
                    "per call (metadata, current score, metrics as metric_* columns), and FILE with '.criteria' "
                    "before the extension (calls.csv -> calls.criteria.csv), one row per criterion result of the "
                    "current evaluation (human overrides applied). Timestamps are UTC.")
    p.add_argument("--format", choices=["csv", "parquet", "json"], help="default: from FILE's extension, else csv")
    p.add_argument("--since", type=_date, metavar="DATE", help="only calls started on/after DATE (UTC)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="output file (default: ascolto-export.<format>; '-' = stdout, needs --level call|criterion)")
    p.add_argument("--level", choices=["both", "call", "criterion"], default="both")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..store import open_store
    from ..store.export import export

    output = args.output if args.output is not None else f"ascolto-export.{args.format or 'csv'}"
    store = open_store()
    try:
        written = export(store, output, args.format, since=args.since, level=args.level)
    finally:
        store.close()
    import sys

    for p in written:
        print(f"wrote {p}", file=sys.stderr)
    return 0
