"""Export for BI tools: one table per call and one per criterion result, as CSV, Parquet or JSON.

``export(store, "calls.csv")`` writes ``calls.csv`` (one row per call: metadata, current
evaluation, and every scalar metric as a ``metric_*`` column) and ``calls.criteria.csv`` (one
row per criterion result of the current evaluation, overrides applied, with the call's filter
columns repeated so it can be used alone). ``level="call"`` or ``"criterion"`` writes only
that table to the given file. Timestamps are UTC (ISO 8601 in CSV/JSON). JSON is an array of
objects; CSV is UTF-8 with a header row.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..errors import QAError
from .schema import Call, CallMetrics, CriterionResultRow, EvaluationRow, utc

FORMATS = ("csv", "parquet", "json")
LEVELS = ("both", "call", "criterion")
CALL_COLUMNS = ["call_id", "file_name", "source_kind", "started_at", "duration", "agent_id", "agent_name", "team",
                "customer_name", "call_type", "direction", "language", "status", "ingested_at", "rubric",
                "rubric_version", "score", "auto_score", "compliance_flag", "n_fail", "failed_criteria",
                "open_disputes", "audio_path", "audio_sha256"]
CRITERION_COLUMNS = ["call_id", "started_at", "agent_id", "agent_name", "team", "call_type", "language", "rubric",
                     "rubric_version", "criterion_id", "title", "competence", "result", "auto_result", "overridden",
                     "weight", "critical", "confidence", "feedback", "evidence_count", "evidence"]


def criteria_path(path: Path) -> Path:
    """calls.csv -> calls.criteria.csv"""
    return path.with_name(f"{path.stem}.criteria{path.suffix}") if path.suffix else path.with_name(
        path.name + ".criteria")


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}_{k}", v, out)
    elif value is None or isinstance(value, (int, float, str, bool)):
        out[prefix] = value
    # lists (overtalk episodes, sentiment turns) stay out of a flat table


def call_rows(session, since: datetime | None = None) -> list[dict[str, Any]]:
    """One dict per call for ``qa export``: metadata, current rubric version and automatic score,
    failed criteria space-separated, every scalar metric as ``metric_*``; calls started at/after
    ``since`` if given, by start time."""
    q = (select(Call, EvaluationRow.rubric_version, EvaluationRow.auto_score, CallMetrics.data)
         .outerjoin(EvaluationRow, (EvaluationRow.call_pk == Call.id) & EvaluationRow.is_current)
         .outerjoin(CallMetrics, CallMetrics.call_pk == Call.id).order_by(Call.started_at, Call.id))
    if since is not None:
        q = q.where(Call.started_at >= utc(since))
    rows = []
    for call, version, auto_score, metrics in session.execute(q):
        row = {c: getattr(call, c) for c in CALL_COLUMNS if hasattr(call, c)}
        row["rubric_version"], row["auto_score"] = version, auto_score
        if row.get("failed_criteria"):
            row["failed_criteria"] = row["failed_criteria"].strip(",").replace(",", " ")
        flat: dict[str, Any] = {}
        _flatten("metric", metrics or {}, flat)
        row.update(flat)
        rows.append(row)
    return rows


def criterion_rows(session, since: datetime | None = None) -> list[dict[str, Any]]:
    """One dict per criterion result of the current evaluations for ``qa export`` (overrides
    applied, ``auto_result`` beside it, evidence as text), with the call's filter columns."""
    cr = CriterionResultRow
    q = (select(Call.call_id, cr.started_at, cr.agent_id, Call.agent_name, cr.team, cr.call_type, cr.language,
                EvaluationRow.rubric, EvaluationRow.rubric_version, cr.criterion_id, cr.title, cr.competence,
                cr.result, cr.auto_result, cr.overridden, cr.weight, cr.critical, cr.confidence, cr.feedback,
                cr.evidence)
         .join(Call, Call.id == cr.call_pk)
         .join(EvaluationRow, EvaluationRow.id == cr.evaluation_id)
         .where(cr.is_current).order_by(Call.started_at, Call.id, cr.position))
    if since is not None:
        q = q.where(cr.started_at >= utc(since))
    rows = []
    for r in session.execute(q):
        row = dict(r._mapping)
        ev = row.pop("evidence") or []
        row["evidence_count"] = len(ev)
        row["evidence"] = " | ".join(f"{e.get('start', 0):.1f}-{e.get('end', 0):.1f} {e.get('speaker', '')}: "
                                     f"{e.get('text', '')}" for e in ev)
        rows.append(row)
    return rows


def _frame(rows: list[dict[str, Any]], columns: list[str]):
    import pandas as pd

    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=columns)
    ordered = [c for c in columns if c in df.columns] + sorted(c for c in df.columns if c not in columns)
    return df[ordered]


def _write(df, path: Path | None, fmt: str) -> None:
    if fmt == "csv":
        df.to_csv(sys.stdout if path is None else path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    elif fmt == "json":
        text = df.to_json(orient="records", date_format="iso", force_ascii=False, indent=1)
        if path is None:
            sys.stdout.write(text + "\n")
        else:
            path.write_text(text + "\n", encoding="utf-8")
    else:
        if path is None:
            raise QAError("parquet cannot be written to the terminal: give -o FILE")
        df.to_parquet(path, index=False)


def export(store, output: str | Path | None, fmt: str | None = None, since: datetime | None = None,
           level: str = "both") -> list[Path]:
    """Write the export; returns the files written (``output`` None or "-": stdout, one level)."""
    to_stdout = output in (None, "-")
    path = None if to_stdout else Path(output)
    if fmt is None:
        fmt = (path.suffix.lstrip(".").lower() if path is not None else "") or "csv"
    if fmt not in FORMATS:
        raise QAError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if level not in LEVELS:
        raise QAError(f"level must be one of {', '.join(LEVELS)}")
    if to_stdout and level == "both":
        raise QAError("writing to the terminal needs --level call or --level criterion (or give -o FILE)")
    if path is not None and path.parent and not path.parent.exists():
        raise QAError("output folder does not exist", str(path.parent))
    written: list[Path] = []
    with store.session() as s:
        if level in ("both", "call"):
            _write(_frame(call_rows(s, since), CALL_COLUMNS), path, fmt)
            if path is not None:
                written.append(path)
        if level in ("both", "criterion"):
            target = None if path is None else (criteria_path(path) if level == "both" else path)
            _write(_frame(criterion_rows(s, since), CRITERION_COLUMNS), target, fmt)
            if target is not None:
                written.append(target)
    return written
