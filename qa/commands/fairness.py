"""qa fairness TRANSCRIPT_OR_DIR... [--rubric NAME] [--json]"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import EXIT_GATE, EXIT_OK, QAError, UsageError


def register(sub):
    """Add ``qa fairness``."""
    p = sub.add_parser("fairness", help="re-score with changes that must not matter; report every flip",
                       description="Re-score transcripts with customer/agent names swapped, titles swapped, "
                                   "regional greetings and ASR-style text; every criterion result that flips is "
                                   "reported. Exit code 4 if any flips.")
    p.add_argument("paths", nargs="+", help="Transcript JSON files or directories of them")
    p.add_argument("--rubric", help="rubric name or path (default: per call, from its call type)")
    p.add_argument("--perturbation", action="append", help="only these (names, titles, regional_greetings, asr_style)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    """Run the fairness check; every flip on one line (or JSON). EXIT_GATE when anything flips."""
    from ..learning.fairness import PERTURBATIONS, fairness_check
    from ..model import Transcript

    for name in args.perturbation or []:
        if name not in PERTURBATIONS:
            raise UsageError(f"unknown perturbation {name!r}; choose from {', '.join(PERTURBATIONS)}")
    files = []
    for p in map(Path, args.paths):
        if p.is_dir():
            files += sorted(f for f in p.glob("*.json") if not f.name.endswith(".eval.json"))
        else:
            files.append(p)
    transcripts = [Transcript.load(f) for f in files]
    if not transcripts:
        raise QAError("no transcripts given")
    flips, compared = fairness_check(transcripts, args.rubric, args.perturbation)
    if args.json:
        print(json.dumps({"calls": len(transcripts), "comparisons": compared,
                          "flips": [f.to_dict() for f in flips]}, ensure_ascii=False, indent=1))
    else:
        for f in flips:
            print(f"{f.call_id}  {f.perturbation}: {f.criterion} {f.before} -> {f.after}")
        print(f"{len(flips)} flips in {compared} comparisons over {len(transcripts)} calls")
    return EXIT_OK if not flips else EXIT_GATE
