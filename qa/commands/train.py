"""qa train [--criterion ID] [--data FILE] [--replace-data FILE] [--force]"""

from __future__ import annotations

from ..errors import EXIT_GATE, EXIT_OK


def register(sub):
    """Add ``qa train``."""
    p = sub.add_parser("train", help="train the turn-level models in modelli/ (refuses a worse model)",
                       description="Train scikit-learn models from modelli/dati/; a candidate that does worse on "
                                   "the held-out split than the current model is refused (exit code 4).")
    p.add_argument("--criterion", "--model", dest="names", action="append",
                   help="model to train (e.g. riepilogo, empatia, ruoli); default: all with training data")
    p.add_argument("--data", action="append", default=[], help="extra training TSV (text, label, lang, group)")
    p.add_argument("--replace-data", help="train on this TSV instead of the project's own training split")
    p.add_argument("--force", action="store_true", help="replace the current model even if the candidate is worse")
    p.add_argument("--from-store", action="store_true",
                   help="add turn examples from the store's human reviews (confirmed or overridden passes)")
    p.add_argument("--gold", nargs=2, metavar=("LABELS.csv", "TRANSCRIPTS_DIR"),
                   help="publish gate: refuse a model if the rubrics' macro kappa on this gold set falls below "
                        "--min-kappa (default $QA_GOLD_LABELS/$QA_GOLD_TRANSCRIPTS when set)")
    p.add_argument("--min-kappa", type=float, help="gate threshold (default $QA_MIN_KAPPA or 0.7)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Train the models; each one's outcome on one line. Exit EXIT_GATE when a gate refused one."""
    from pathlib import Path

    from ..publish import gold_set, min_kappa
    from ..train import train_models

    gold = tuple(map(Path, args.gold)) if args.gold else gold_set()
    store = None
    if args.from_store:
        from ..store import open_store

        store = open_store()
    try:
        outcomes = train_models(args.names, extra=args.data, replace_data=args.replace_data, force=args.force,
                                store=store, gold=gold, min_kappa=args.min_kappa if args.min_kappa is not None
                                else min_kappa())
    finally:
        if store is not None:
            store.close()
    for o in outcomes:
        print(f"{o.name}: {'ok' if o.ok else 'refused'} — {o.message}")
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_GATE
