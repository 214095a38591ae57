"""Synthetic calls for benchmarks and dashboard tests: ``populate(session, n_calls)`` fills a
store fast (bulk Core inserts, explicit primary keys) with calls that look like a contact
centre's: teams of agents with their own strengths, the core criteria of CRITERIA.md (the
conditional ones often ``na``), critical criteria that raise compliance flags, metrics.

Deterministic for a given ``seed``. Not for production data: call ids start with ``SYN-``.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..constants import LANGS
from .base import session_of
from .records import search_text
from .rollups import rebuild_rollups
from .schema import Call, CallMetrics, CriterionResultRow, EvaluationRow, TranscriptRow, now

# (criterion id, competence, base pass rate, share of calls where it applies, critical)
CRITERIA: list[tuple[str, str, float, float, bool]] = [
    ("saluto", "2.1", 0.93, 1.0, False),
    ("nome_cliente", "2.1", 0.62, 0.8, False),
    ("comprensione", "3.1", 0.71, 1.0, False),
    ("riepilogo", "2.6", 0.48, 1.0, False),
    ("prossimi_passi", "3.5", 0.66, 1.0, False),
    ("conferma_risoluzione", "3.5", 0.74, 1.0, False),
    ("congedo", "2.6", 0.88, 1.0, False),
    ("protezione_dati", "2.5", 0.81, 0.35, True),
    ("identificazione", "7.3", 0.86, 0.45, True),
    ("empatia", "3.2", 0.69, 0.3, False),
    ("proposta_disdetta", "4.2", 0.55, 0.12, False),
]
TEAMS = ["Assistenza Ticino", "Assistenza Romandie", "Vendite Zurigo", "Fidelizzazione", "Back office Bern"]
TEAM_LANG = {"Assistenza Ticino": "it", "Assistenza Romandie": "fr", "Vendite Zurigo": "de",
             "Fidelizzazione": "it", "Back office Bern": "de"}
TEAM_TYPES = {"Assistenza Ticino": "assistenza", "Assistenza Romandie": "assistenza",
              "Vendite Zurigo": "acquisizione", "Fidelizzazione": "fidelizzazione", "Back office Bern": "riacquisizione"}
FIRST = ["Laura", "Marco", "Giulia", "Luca", "Sara", "Andrea", "Chiara", "Paolo", "Anna", "Stefan", "Claire",
         "Jonas", "Elena", "Nicolas", "Martina", "Fabio"]
LAST = ["Bernasconi", "Rossi", "Keller", "Dubois", "Meier", "Ferrari", "Müller", "Fontana", "Weber", "Rochat"]
CHUNK = 5000


def agents(n_agents: int = 60, seed: int = 0) -> list[dict[str, Any]]:
    """``n_agents`` synthetic agents (id, name, team, skill), deterministic for ``seed``."""
    rng = random.Random(seed)
    out = []
    for i in range(n_agents):
        team = TEAMS[i % len(TEAMS)]
        out.append({"agent_id": f"A{i + 1:03d}", "agent_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "team": team, "skill": rng.uniform(-0.25, 0.15)})
    return out


def _bulk(session: Session, table, rows: list[dict[str, Any]]) -> None:
    conn = session.connection()
    for i in range(0, len(rows), CHUNK):
        conn.execute(table.__table__.insert(), rows[i:i + CHUNK])


def populate(session: Session, n_calls: int, *, seed: int = 0, n_agents: int = 60, days: int = 365,
             end: datetime | None = None, with_transcripts: bool = True) -> int:
    """Insert ``n_calls`` synthetic calls (with current evaluation, criterion results, metrics
    and a small transcript each) spread over ``days`` days before ``end``; returns the number
    inserted. The caller commits (``with store.session() as s: populate(s, 100_000)``)."""
    rng = random.Random(seed)
    team_agents = agents(n_agents, seed)
    end = end or now().replace(hour=18, minute=0, second=0, microsecond=0)
    start_id = (session.scalar(select(func.max(Call.id))) or 0) + 1
    ev_id = (session.scalar(select(func.max(EvaluationRow.id))) or 0) + 1
    cr_id = (session.scalar(select(func.max(CriterionResultRow.id))) or 0) + 1
    stamp = now()
    done = 0
    while done < n_calls:
        batch = min(CHUNK * 2, n_calls - done)
        calls, evals, crits, metrics, transcripts = [], [], [], [], []
        for k in range(batch):
            pk = start_id + done + k
            a = team_agents[rng.randrange(len(team_agents))]
            started = end - timedelta(days=rng.random() * days)
            started = started.replace(hour=8 + rng.randrange(10), microsecond=0)
            duration = round(rng.lognormvariate(5.2, 0.5), 1)
            lang = TEAM_LANG[a["team"]] if rng.random() < 0.9 else rng.choice(LANGS)
            call_type = TEAM_TYPES[a["team"]] if rng.random() < 0.8 else rng.choice(list(TEAM_TYPES.values()))
            passed = total = n_fail = 0
            compliance = False
            failed_ids: list[str] = []
            copies = {"agent_id": a["agent_id"], "team": a["team"], "call_type": call_type, "language": lang,
                      "started_at": started}
            for pos, (cid, comp, base, applies, critical) in enumerate(CRITERIA):
                if rng.random() >= applies:
                    result = "na"
                else:
                    result = "pass" if rng.random() < min(0.99, base + a["skill"]) else "fail"
                    total += 1
                    passed += result == "pass"
                    n_fail += result == "fail"
                    if result == "fail":
                        failed_ids.append(cid)
                    compliance |= critical and result == "fail"
                crits.append({"id": cr_id, "evaluation_id": ev_id, "call_pk": pk, "position": pos,
                              "criterion_id": cid, "competence": comp, "result": result, "auto_result": result,
                              "overridden": False, "weight": 1.0, "critical": critical, "evidence": [],
                              "feedback": "", "confidence": round(rng.uniform(0.6, 1.0), 3), "is_current": True,
                              **copies})
                cr_id += 1
            score = round(100.0 * passed / total, 1) if total else None
            call_id = f"SYN-{seed}-{pk:07d}"
            calls.append({"id": pk, "call_id": call_id, "source_kind": "audio",
                          "audio_path": f"/synthetic/{call_id}.wav",
                          "audio_sha256": hashlib.sha256(call_id.encode()).hexdigest(),
                          "file_name": f"{call_id}.wav", "agent_id": a["agent_id"], "agent_name": a["agent_name"],
                          "team": a["team"], "customer_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                          "call_type": call_type, "direction": "inbound" if rng.random() < 0.8 else "outbound",
                          "language": lang, "started_at": started, "duration": duration, "ingested_at": stamp,
                          "status": "scored", "current_evaluation_id": ev_id, "rubric": call_type, "score": score,
                          "compliance_flag": compliance, "n_fail": n_fail, "open_disputes": 0,
                          "failed_criteria": "," + ",".join(failed_ids) + "," if failed_ids else None})
            c = calls[-1]
            c["search_text"] = search_text(c["call_id"], c["agent_name"], c["customer_name"], c["file_name"])
            evals.append({"id": ev_id, "call_pk": pk, "rubric": call_type, "rubric_version": "2026-11-29.1",
                          "score": score, "auto_score": score, "compliance_flag": compliance,
                          "flags": ["compliance"] if compliance else [], "created_at": stamp, "is_current": True,
                          **copies})
            ev_id += 1
            talk = rng.uniform(0.35, 0.7)
            silence = rng.uniform(0.02, 0.2)
            m = {"talk_ratio_agent": round(talk, 3), "silence_ratio": round(silence, 3),
                 "overtalk_seconds": round(rng.uniform(0, 12), 1), "longest_silence": round(rng.uniform(1, 30), 1),
                 "agent_wpm": round(rng.gauss(150, 20), 1), "interruptions": rng.randrange(6)}
            metrics.append({"call_pk": pk, "data": m, **m})
            if with_transcripts:
                transcripts.append({"call_pk": pk, "redacted": False, "engine": "synthetic", "model": None,
                                    "created_at": stamp,
                                    "document": {"call_id": call_id, "language": lang, "duration": duration,
                                                 "metadata": {"agent_id": a["agent_id"], "team": a["team"]},
                                                 "segments": [{"speaker": "agent", "start": 0.0, "end": 3.0,
                                                               "text": "Buongiorno, sono " + a["agent_name"]}]}})
        _bulk(session, Call, calls)
        _bulk(session, EvaluationRow, evals)
        _bulk(session, CriterionResultRow, crits)
        _bulk(session, CallMetrics, metrics)
        if transcripts:
            _bulk(session, TranscriptRow, transcripts)
        done += batch
    if session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for table in ("calls", "evaluations", "criterion_results", "transcripts"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    rebuild_rollups(session)
    return done


def synthetic_calls(source) -> int:
    """How many synthetic calls (``SYN-`` call ids) a store (or open session) holds."""
    with session_of(source) as s:
        return s.scalar(select(func.count()).select_from(Call).where(Call.call_id.like("SYN-%"))) or 0


def populate_store(store, n_calls: int, **options: Any) -> int:
    """``populate`` in one transaction of ``store`` (committed on success); returns the number of
    calls inserted. ``options``: those of ``populate``."""
    with store.session() as s:
        return populate(s, n_calls, **options)
