"""qa train [--criterion ID] [--data FILE] [--replace-data FILE] [--features SET] [--gold LABELS DIR] [--force]"""

from __future__ import annotations

from ..errors import EXIT_GATE, EXIT_OK


def register(sub):
    """Add ``qa train``."""
    p = sub.add_parser("train", help="train the turn-level models in modelli/ (refuses a model worse than the current)",
                       description="Train scikit-learn models from modelli/dati/. A candidate is refused (exit code 4) "
                                   "when it does worse than the CURRENT model: on the held-out split of the training "
                                   "data (grouped by call) and, with --gold, on the rubrics' macro kappa over labelled "
                                   "calls (only the 'heldout' calls when a split.csv lies beside the labels).")
    p.add_argument("--criterion", "--model", dest="names", action="append",
                   help="model to train (e.g. riepilogo, empatia, ruoli); default: all with training data")
    p.add_argument("--data", action="append", default=[], help="extra training TSV (text, label, lang, group)")
    p.add_argument("--replace-data", help="train on this TSV instead of the project's own training split")
    p.add_argument("--features", choices=("tfidf", "tfidf+e5"),
                   help="feature set: TF-IDF n-grams, or those plus the multilingual e5 sentence embedding "
                        "(default: the current model's, else tfidf)")
    p.add_argument("--cascade-gate", type=float, dest="gate",
                   help="with tfidf+e5: embed only the turns the TF-IDF model gives at least this probability "
                        "(default: the current model's)")
    p.add_argument("--force", action="store_true", help="replace the current model even if the candidate is worse")
    p.add_argument("--tolerance", type=float, default=0.0,
                   help="held-out accuracy the candidate may lose against the current model (default 0)")
    p.add_argument("--from-store", action="store_true",
                   help="add turn examples from the store's human reviews (confirmed or overridden passes)")
    p.add_argument("--gold", nargs=2, action="append", metavar=("LABELS.csv", "TRANSCRIPTS_DIR"),
                   help="call-level gate (repeatable): refuse a model that lowers the rubrics' macro kappa on this "
                        "labelled set below the current model's (default $QA_GOLD_LABELS/$QA_GOLD_TRANSCRIPTS)")
    p.add_argument("--min-kappa", type=float, help="optional floor for the gold macro kappa besides the comparison")
    p.set_defaults(func=run)


def run(args) -> int:
    """Train the models; each one's outcome on one line. Exit EXIT_GATE when a gate refused one."""
    from pathlib import Path

    from ..learning.publish import gold_set
    from ..learning.train import train_models

    if args.gold:
        gold = [(Path(a), Path(b)) for a, b in args.gold]
    else:
        g = gold_set()
        gold = [g] if g else []
    store = None
    if args.from_store:
        from ..store import open_store

        store = open_store()
    try:
        outcomes = train_models(args.names, extra=args.data, replace_data=args.replace_data, force=args.force,
                                store=store, gold=gold, min_kappa=args.min_kappa, features=args.features,
                                gate=args.gate, tolerance=args.tolerance)
    finally:
        if store is not None:
            store.close()
    for o in outcomes:
        print(f"{o.name}: {'ok' if o.ok else 'refused'} — {o.message}")
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_GATE
