"""`qa export --format csv|parquet|json [--since DATE] [-O FILE] [--level both|call|criterion]`:
the store for BI tools. Default (--level both): FILE has one row per call (with metrics) and
FILE's name with `.criteria` before the extension one row per criterion result
(calls.csv -> calls.criteria.csv)."""

from __future__ import annotations

import argparse
import sys


def _date(text: str):
    from datetime import datetime

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {text!r} (e.g. 2026-11-01)") from None


class _DeprecatedOutput(argparse.Action):
    """``-o/--output FILE``, the old spelling of ``-O/--out-file`` (``-o`` names a folder in every other
    command): still accepted, with a warning."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"qa: warning: 'qa export {option_string} FILE' is deprecated, use -O/--out-file FILE", file=sys.stderr)
        namespace.out_file = values


def register(subparsers) -> None:
    """Add ``qa export``."""
    p = subparsers.add_parser(
        "export", help="export calls and criterion results for BI tools (CSV, Parquet, JSON)",
        description="Export the store for BI tools. --level both (default) writes two tables: FILE, one row "
                    "per call (metadata, current score, metrics as metric_* columns), and FILE with '.criteria' "
                    "before the extension (calls.csv -> calls.criteria.csv), one row per criterion result of the "
                    "current evaluation (human overrides applied). Timestamps are UTC.")
    p.add_argument("--format", choices=["csv", "parquet", "json"], help="default: from FILE's extension, else csv")
    p.add_argument("--since", type=_date, metavar="DATE", help="only calls started on/after DATE (UTC)")
    p.add_argument("-O", "--out-file", metavar="FILE", default=None,
                   help="output file (default: ascolto-export.<format>; '-' = stdout, needs --level call|criterion)")
    p.add_argument("-o", "--output", dest="out_file", action=_DeprecatedOutput, help=argparse.SUPPRESS)
    p.add_argument("--level", choices=["both", "call", "criterion"], default="both")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the export; the files written on stderr."""
    from ..store import open_store
    from ..store.export import export

    output = args.out_file if args.out_file is not None else f"ascolto-export.{args.format or 'csv'}"
    store = open_store()
    try:
        written = export(store, output, args.format, since=args.since, level=args.level)
    finally:
        store.close()
    for p in written:
        print(f"wrote {p}", file=sys.stderr)
    return 0
