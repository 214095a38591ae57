"""qa uncertain [TRANSCRIPT_OR_DIR...] [--store] [-n N] [--json]"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import EXIT_OK, UsageError


def register(sub):
    """Add ``qa uncertain``."""
    p = sub.add_parser("uncertain", help="calls whose automatic result is least certain (review these first)",
                       description="Active learning: rank calls by how uncertain their automatic results are "
                                   "(rubric and turn model disagree, or the model is unsure).")
    p.add_argument("paths", nargs="*", help="Transcript JSON files or directories (scored now)")
    p.add_argument("--store", action="store_true", help="rank the calls in the store (their current evaluations)")
    p.add_argument("-n", type=int, default=20, help="how many calls to list (default 20)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _from_paths(paths):
    from ..model import Transcript
    from ..pipeline import score_transcript

    files = []
    for p in map(Path, paths):
        files += sorted(f for f in p.glob("*.json") if not f.name.endswith(".eval.json")) if p.is_dir() else [p]
    for f in files:
        t = Transcript.load(f)
        yield t, score_transcript(t)


def _from_store():
    from ..store import open_store

    with open_store() as store:
        for t in store.iter_transcripts():
            ev = store.load_evaluation(t.call_id)
            if ev is not None:
                yield t, ev


def run(args) -> int:
    """Rank the calls by uncertainty and print the first N."""
    from ..learning.active import rank

    if bool(args.paths) == bool(args.store):
        raise UsageError("give transcript files/directories or --store (one of the two)")
    ranked = rank(_from_store() if args.store else _from_paths(args.paths), args.n)
    if args.json:
        print(json.dumps([u.to_dict() for u in ranked], ensure_ascii=False, indent=1))
    else:
        for u in ranked:
            print(f"{u.call_id:<24} {u.uncertainty:.2f}  {'; '.join(u.reasons) or '-'}")
    return EXIT_OK
