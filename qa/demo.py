"""`qa demo`: a demo store from the bundled sample calls (transcribed and scored for real),
some synthetic history for the trend pages, and demo accounts; then the dashboard."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import QAError

DEMO_PASSWORD = "ascolto-demo"
DEMO_USERS = [  # username, role, agent_id, display name, UI language
    ("supervisore", "supervisor", None, "Supervisore Demo", "it"),
    ("qa", "qa_lead", None, "QA Lead Demo", "it"),
    ("admin", "admin", None, "Admin Demo", "it"),
]


def samples_dir() -> Path:
    """The bundled sample calls (``samples/`` of the repository); QAError when not installed."""
    d = Path(__file__).resolve().parents[1] / "samples"
    if not d.is_dir():
        raise QAError("the sample calls (samples/) are not installed; run from a clone of the repository")
    return d


def demo_call_ids() -> set[str]:
    """The call ids of the bundled sample calls (``samples/calls.csv``)."""
    from .metadata import load_metadata

    return {r["call_id"] for r in load_metadata(str(samples_dir() / "calls.csv")).rows if r.get("call_id")}


def refuse_non_demo_store(store=None, url: str | None = None) -> None:
    """QAError (one line) when the store (an open ``store``, or the one at ``url``, read without
    upgrading it) holds anything but demo data: the demo's accounts have a public password and
    must never land in a real store."""
    from .store.demo import non_demo_data, non_demo_data_at

    found = non_demo_data(store, demo_call_ids()) if store is not None else non_demo_data_at(url, demo_call_ids())
    if found:
        what = ", ".join(f"{n} {k}" for k, n in found.items())
        where = store.url if store is not None else url
        raise QAError(f"refusing to build the demo in {where}: it already holds non-demo data ({what}); "
                      "point QA_DATA_DIR at an empty folder and unset QA_DATABASE_URL")


def build_demo(store, synthetic: int = 1500, progress: bool | None = None) -> dict:
    """Ingest the sample calls, add synthetic history and demo users (marked as such);
    idempotent. Refuses (QAError, nothing written) a store holding non-demo data."""
    from .ingest import ingest
    from .metadata import load_metadata
    from .store.synthetic import populate_store, synthetic_calls

    refuse_non_demo_store(store)
    sd = samples_dir()
    audio = sorted(p for p in sd.iterdir() if p.suffix.lower() in (".wav", ".mp3", ".ogg", ".flac", ".m4a"))
    report = ingest([str(p) for p in audio], store, metadata_csv=str(sd / "calls.csv"), progress=progress)
    if synthetic and synthetic_calls(store) == 0:
        populate_store(store, synthetic, seed=7, n_agents=24, days=120)
    existing = {u.username for u in store.users()}
    created = []
    table = load_metadata(str(sd / "calls.csv"))
    agents = sorted({(r.get("agent_id"), r.get("agent_name")) for r in table.rows if r.get("agent_id")})
    users = list(DEMO_USERS) + [(aid.lower(), "operator", aid, name, "it") for aid, name in agents]
    for username, role, agent_id, name, lang in users:
        if username not in existing:
            store.create_user(username, DEMO_PASSWORD, role, agent_id=agent_id, display_name=name, language=lang,
                              created_by="demo", demo=True)
            created.append(username)
    return {"report": report, "users": [u[0] for u in users], "created": created}


def summary_lines(store) -> list[str]:
    """A table of the demo calls (language, call type, score, failed criteria) for the terminal."""
    from .store import queries as q

    rows, _ = q.call_list(store, q.CallFilters(search="DEMO-"), sort="call_id", page_size=100)
    lines = [f"{'call':<12} {'lang':<4} {'type':<15} {'score':>5}  failed criteria"]
    for r in rows:
        ev = store.load_evaluation(r["call_id"])
        failed = [c.id for c in ev.criteria if c.result == "fail"] if ev else []
        score = "-" if r["score"] is None else f"{r['score']:.0f}"
        call_type = r["call_type"] or (f"{ev.extra['call_type']}*" if ev and ev.extra.get("call_type") else "-")
        lines.append(f"{r['call_id']:<12} {r['language'] or '-':<4} {call_type:<15} {score:>5}  "
                     f"{', '.join(failed) or '-'}{'  ⚠ compliance' if r['compliance_flag'] else ''}")
    if any(line.split()[2].endswith("*") for line in lines[1:]):
        lines.append("* call type inferred from the conversation (not in calls.csv)")
    return lines


def demo_data_dir() -> Path:
    """Where the demo keeps its store: ``QA_DATA_DIR``, else ``./data``."""
    return Path(os.environ.get("QA_DATA_DIR") or Path.cwd() / "data").resolve()
