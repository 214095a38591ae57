"""qa demo [--no-serve] [--port N] [--synthetic N]"""

from __future__ import annotations

import os

from ..errors import EXIT_OK


def register(sub):
    """Add ``qa demo``."""
    p = sub.add_parser("demo", help="fill a demo store with the sample calls and demo users, then start the dashboard",
                       description="Transcribe and score the bundled sample calls into the store of QA_DATA_DIR "
                                   "(default ./data), add synthetic history and demo accounts, start the dashboard. "
                                   "Refuses a store that already holds anything but demo data.")
    p.add_argument("--no-serve", action="store_true", help="only build the demo store and print the summary")
    p.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", "8501")))
    p.add_argument("--synthetic", type=int, default=1500, help="synthetic history calls for the trend pages")
    p.set_defaults(func=run)


def run(args) -> int:
    """Build the demo store, print its summary and (unless --no-serve) start the dashboard."""
    from ..config import database_url
    from ..demo import DEMO_PASSWORD, build_demo, demo_data_dir, refuse_non_demo_store, summary_lines
    from ..store import open_store

    data = demo_data_dir()
    os.environ["QA_DATA_DIR"] = str(data)
    refuse_non_demo_store(url=database_url())  # before anything is created, upgraded or written
    data.mkdir(parents=True, exist_ok=True)
    with open_store() as store:
        out = build_demo(store, synthetic=args.synthetic)
        print(out["report"].summary())
        print("\n".join(summary_lines(store)))
    print(f"\nstore: {data}  ·  accounts ({', '.join(out['users'])}), password: {DEMO_PASSWORD}")
    if args.no_serve:
        return EXIT_OK
    from .serve import serve

    print(f"dashboard: http://127.0.0.1:{args.port}  (Ctrl-C to stop)")
    return serve(args.port, env={"QA_DATA_DIR": str(data)})
