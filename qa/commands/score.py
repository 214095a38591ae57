"""qa score TRANSCRIPT.json... [--rubric NAME|PATH] [-o DIR]: evaluate calls against a rubric."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, QAError


def register(sub) -> None:
    p = sub.add_parser("score", help="score transcripts against a rubric (Evaluation JSON)",
                       description="Score transcript JSON files (FORMATS.md) against a rubric. The rubric follows "
                                   "metadata.call_type (inferred when absent) unless --rubric is given. Writes "
                                   "DIR/<call_id>.eval.json with -o, else one JSON line per call on stdout.")
    p.add_argument("transcripts", nargs="+", metavar="TRANSCRIPT.json")
    p.add_argument("--rubric", metavar="NAME|PATH", help="rubric name (e.g. assistenza) or YAML path")
    p.add_argument("-o", "--output", metavar="DIR", help="write <call_id>.eval.json files into DIR")
    p.set_defaults(func=run)


def _safe_name(call_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in call_id).lstrip(".") or "call"


BATCH = 128  # calls scored together (spaCy pipe, one model pass per batch): see score_transcripts


def run(args) -> int:
    from ..model import Transcript
    from ..rubric import load_rubric

    rubric = load_rubric(args.rubric) if args.rubric else None  # a broken rubric stops everything, up front
    out_dir = Path(args.output) if args.output else None
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise QAError("is not a directory", str(out_dir))
        out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    pending: list = []
    for path in args.transcripts:
        try:
            pending.append((path, Transcript.load(path)))
        except QAError as e:
            failed += 1
            _report(path, e)
            continue
        if len(pending) >= BATCH:
            failed += _score_and_write(pending, rubric, out_dir)
            pending = []
    if pending:
        failed += _score_and_write(pending, rubric, out_dir)
    if failed == 0:
        return EXIT_OK
    return EXIT_FAILED if failed == len(args.transcripts) else EXIT_PARTIAL


def _report(path, e: QAError) -> None:
    print(f"qa: error: {e}" if e.source else f"qa: error: {path}: {e}", file=sys.stderr)


def _score_and_write(pending: list, rubric, out_dir: Path | None) -> int:
    """Score a batch of loaded transcripts and write their evaluations; the number that failed.
    Should one call of the batch fail, the batch is scored again call by call, so that the
    error names its file and the other calls are still scored (the results are the same)."""
    from ..rubric import score_transcript, score_transcripts

    failed = 0
    try:
        evs = list(score_transcripts([t for _, t in pending], rubric, batch_size=len(pending)))
    except QAError:
        evs = []
        for path, t in pending:
            try:
                evs.append(score_transcript(t, rubric))
            except QAError as e:
                failed += 1
                _report(path, e)
                evs.append(None)
    for ev in evs:
        if ev is None:
            continue
        if out_dir is not None:
            ev.save(out_dir / f"{_safe_name(ev.call_id)}.eval.json")
        else:
            sys.stdout.write(ev.to_json(indent=None) + "\n")
    sys.stdout.flush()
    return failed
