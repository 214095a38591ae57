"""qa score TRANSCRIPT.json... [--rubric NAME|PATH] [-o DIR]: evaluate calls against a rubric."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, QAError, UsageError


def register(sub) -> None:
    """Add ``qa score``."""
    p = sub.add_parser("score", help="score transcripts against a rubric (Evaluation JSON)",
                       description="Score transcript JSON files (FORMATS.md) against a rubric. The rubric follows "
                                   "metadata.call_type (inferred when absent) unless --rubric is given. Writes "
                                   "DIR/<call_id>.eval.json with -o, else one JSON line per call on stdout. "
                                   "Exit code: 0 all scored, 1 some failed, 3 none scored.")
    p.add_argument("transcripts", nargs="+", metavar="TRANSCRIPT.json")
    p.add_argument("--rubric", metavar="NAME|PATH", help="rubric name (e.g. assistenza) or YAML path")
    p.add_argument("-o", "--output", metavar="DIR", help="write <call_id>.eval.json files into DIR")
    p.set_defaults(func=run)


def _safe_name(call_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in call_id).lstrip(".") or "call"


BATCH = 128  # calls scored together (spaCy pipe, one model pass per batch): see qa.pipeline.score_each


def run(args) -> int:
    """Score every file in batches; each failure on one line, the other calls still written."""
    from ..model import Transcript
    from ..rubric import load_rubric

    rubric = load_rubric(args.rubric) if args.rubric else None  # a broken rubric stops everything, up front
    out_dir = Path(args.output) if args.output else None
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError("is not a directory", str(out_dir))
        out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    pending: list = []
    for path in args.transcripts:
        try:
            pending.append((path, Transcript.load(path)))
        except QAError as e:
            failed += 1
            print(f"qa: error: {e}" if e.source else f"qa: error: {path}: {e}", file=sys.stderr)
            continue
        if len(pending) >= BATCH:
            failed += _score_and_write(pending, rubric, out_dir)
            pending = []
    if pending:
        failed += _score_and_write(pending, rubric, out_dir)
    if failed == 0:
        return EXIT_OK
    return EXIT_FAILED if failed == len(args.transcripts) else EXIT_PARTIAL


def _score_and_write(pending: list, rubric, out_dir: Path | None) -> int:
    """Score a batch of loaded transcripts (``qa.pipeline.score_each``: one batch, call by call should
    one fail, so that each error names its own file) and write their evaluations; the number that failed."""
    from ..pipeline import score_each

    failed = 0
    for (path, _), scored in zip(pending, score_each([t for _, t in pending], rubric)):
        ev = scored.evaluation
        if ev is None:
            failed += 1
            print(f"qa: error: {scored.detail}" if scored.source else f"qa: error: {path}: {scored.detail}",
                  file=sys.stderr)
        elif out_dir is not None:
            ev.save(out_dir / f"{_safe_name(ev.call_id)}.eval.json")
        else:
            sys.stdout.write(ev.to_json(indent=None) + "\n")
    sys.stdout.flush()
    return failed
