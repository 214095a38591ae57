"""qa calibrate LABELS.csv [LABELS2.csv ...] --transcripts DIR [--rubric NAME] [--json] [--min-kappa K]"""

from __future__ import annotations

import json

from ..errors import EXIT_GATE, EXIT_OK, QAError, UsageError


def register(sub):
    """Add ``qa calibrate``."""
    p = sub.add_parser("calibrate", help="agreement of the tool with human labels (accuracy, Cohen's kappa)",
                       description="Per-criterion accuracy, Cohen's kappa, confusion matrix and disagreeing calls "
                                   "of the tool against human labels. Several label files = a calibration session: "
                                   "human-vs-human kappa is shown beside tool-vs-human kappa (tool vs majority). "
                                   "Exit code 4 when --min-kappa refuses.")
    p.add_argument("labels", nargs="*", help="LABELS.csv: call_id, then one column per criterion (pass/fail/na)")
    p.add_argument("--transcripts", help="directory of Transcript JSON files (with LABELS.csv)")
    p.add_argument("--store", action="store_true",
                   help="instead of files: the store's human reviews, overrides and decided disputes are the labels")
    p.add_argument("--rubric", help="rubric name or path (default: per call, from its call type)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--min-kappa", type=float, help="exit 4 if macro kappa is below this (a publish gate)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Calibrate against label files (or the store's reviews) and print the report."""
    from ..learning.calibration import calibrate, from_store, load_transcripts, read_labels

    if args.store:
        if args.labels or args.transcripts:
            raise UsageError("--store takes no labels files or --transcripts")
        from ..store import open_store

        with open_store() as store:
            report = from_store(store)
        if not report.criteria:
            raise QAError("the store has no human reviews yet: nothing to calibrate against")
        return _print(report, args)
    if not args.labels or not args.transcripts:
        raise UsageError("give LABELS.csv and --transcripts DIR (or --store)")
    label_sets = [read_labels(p) for p in args.labels]
    call_ids = set().union(*[ls.keys() for ls in label_sets])
    transcripts = load_transcripts(args.transcripts, call_ids)
    if not transcripts:
        raise QAError(f"none of the {len(call_ids)} labelled calls has a transcript in {args.transcripts}")
    report = calibrate(label_sets[0], transcripts, args.rubric, label_sets[1:])
    return _print(report, args)


def _print(report, args) -> int:
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(report.to_text())
    if args.min_kappa is not None and (report.macro_kappa or 0) < args.min_kappa:
        import sys

        print(f"qa: gate: macro kappa {report.macro_kappa} is below the required {args.min_kappa}", file=sys.stderr)
        return EXIT_GATE
    return EXIT_OK
