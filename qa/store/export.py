"""Export for BI tools: one table per call and one per criterion result, as CSV, Parquet or JSON.

``export(store, "calls.csv")`` writes ``calls.csv`` (one row per call: metadata, current
evaluation, and every scalar metric as a ``metric_*`` column) and ``calls.criteria.csv`` (one
row per criterion result of the current evaluation, overrides applied, with the call's filter
columns repeated so it can be used alone). ``level="call"`` or ``"criterion"`` writes only
that table to the given file. Timestamps are UTC (ISO 8601 in CSV/JSON). JSON is an array of
objects; CSV is UTF-8 with a header row, lines ended by CRLF (RFC 4180).

Spreadsheet safety (OWASP "CSV injection"): in CSV (and in the dashboard's Excel files, which use
``escape_frame`` too) a text cell that starts with ``= + - @``, TAB or CR gets a leading single
quote, so Excel and LibreOffice show it as text and never evaluate it; numbers stay numbers.
JSON and Parquet keep the values as they are (typed formats for BI loaders). Every export is
written to the audit log (who, format, level, since, rows).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ..errors import QAError
from .schema import AuditEntry, Call, CallMetrics, CriterionResultRow, EvaluationRow, Review, utc

FORMATS = ("csv", "parquet", "json")
LEVELS = ("both", "call", "criterion")
CALL_COLUMNS = ["call_id", "file_name", "source_kind", "started_at", "duration", "agent_id", "agent_name", "team",
                "customer_name", "call_type", "direction", "language", "status", "ingested_at", "rubric",
                "rubric_version", "score", "auto_score", "compliance_flag", "n_fail", "failed_criteria",
                "open_disputes", "audio_path", "audio_sha256"]
CRITERION_COLUMNS = ["call_id", "started_at", "agent_id", "agent_name", "team", "call_type", "language", "rubric",
                     "rubric_version", "criterion_id", "title", "competence", "result", "auto_result", "overridden",
                     "weight", "critical", "confidence", "feedback", "evidence_count", "evidence", "reviewed_by",
                     "reviewed_at", "review_comment", "dispute_id", "carried_over_from"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """``value`` with a leading single quote when it is text a spreadsheet would evaluate
    (starts with = + - @ TAB or CR); anything else (numbers, dates, other text) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_frame(df):
    """A copy of the DataFrame with ``escape_formula`` applied to every text cell."""
    from pandas.api import types

    df = df.copy()
    for c in df.columns:
        col = df[c]
        if not (types.is_numeric_dtype(col) or types.is_bool_dtype(col) or types.is_datetime64_any_dtype(col)):
            df[c] = col.map(escape_formula)
    return df


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
    newest = (select(Review.criterion_result_id, func.max(Review.id).label("review_id"))
              .group_by(Review.criterion_result_id).subquery())
    q = (select(Call.call_id, cr.started_at, cr.agent_id, Call.agent_name, cr.team, cr.call_type, cr.language,
                EvaluationRow.rubric, EvaluationRow.rubric_version, cr.criterion_id, cr.title, cr.competence,
                cr.result, cr.auto_result, cr.overridden, cr.weight, cr.critical, cr.confidence, cr.feedback,
                cr.evidence, Review.reviewer.label("reviewed_by"), Review.created_at.label("reviewed_at"),
                Review.comment.label("review_comment"), Review.dispute_id,
                Review.carried_from_version.label("carried_over_from"))
         .join(Call, Call.id == cr.call_pk)
         .join(EvaluationRow, EvaluationRow.id == cr.evaluation_id)
         .outerjoin(newest, newest.c.criterion_result_id == cr.id)
         .outerjoin(Review, Review.id == newest.c.review_id)
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


def write_csv(df, target=None):
    """``df`` as CSV (UTF-8, header, UTC ISO timestamps) to ``target`` (a path or a text stream;
    None: returned as text): formula-like text escaped (``escape_frame``), lines ended by CRLF
    (RFC 4180) so that a CR or LF inside a value is quoted and can never start a new row."""
    return escape_frame(df).to_csv(target, index=False, date_format="%Y-%m-%dT%H:%M:%SZ", lineterminator="\r\n")


def _write(df, path: Path | None, fmt: str) -> None:
    if fmt == "csv":
        write_csv(df, sys.stdout if path is None else path)
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


def _os_user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def export(store, output: str | Path | None, fmt: str | None = None, since: datetime | None = None,
           level: str = "both", username: str | None = None) -> list[Path]:
    """Write the export; returns the files written (``output`` None or "-": stdout, one level).
    Audited as ``export`` by ``username`` (default: the operating-system user, ``os:NAME``)."""
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
    counts: dict[str, int] = {}
    with store.session() as s:
        if level in ("both", "call"):
            rows = call_rows(s, since)
            counts["call"] = len(rows)
            _write(_frame(rows, CALL_COLUMNS), path, fmt)
            if path is not None:
                written.append(path)
        if level in ("both", "criterion"):
            target = None if path is None else (criteria_path(path) if level == "both" else path)
            rows = criterion_rows(s, since)
            counts["criterion"] = len(rows)
            _write(_frame(rows, CRITERION_COLUMNS), target, fmt)
            if target is not None:
                written.append(target)
        s.add(AuditEntry(action="export", username=username or (f"os:{_os_user()}" if _os_user() else None),
                         details={"format": fmt, "level": level, "since": since.isoformat() if since else None,
                                  "files": [str(p) for p in written] or ["-"], "rows": counts}))
    return written
