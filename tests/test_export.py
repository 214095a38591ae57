"""qa export: call and criterion tables in CSV, Parquet and JSON, read back with pandas and
compared with the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from qa.errors import QAError
from qa.store import open_store
from qa.store.export import criteria_path, export
from qa.store.schema import Call, CriterionResultRow
from qa.store.synthetic import populate

from .pg import store_url  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
END = datetime(2026, 11, 29, 18, 0)


@pytest.fixture
def store(store_url):  # noqa: F811
    st = open_store(store_url)
    with st.session() as s:
        populate(s, 120, seed=7, n_agents=6, days=60, end=END)
    first = st.get_call("SYN-7-0000001")
    ev = st.load_evaluation(first.call_id)
    target = next(c for c in ev.criteria if c.result == "fail")
    st.override(first.call_id, target.id, "pass", reviewer="lead", comment="ok")
    yield st
    st.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_export_both_levels(store, tmp_path, fmt):
    out = tmp_path / f"calls.{fmt}"
    written = export(store, out, fmt)
    assert written == [out, tmp_path / f"calls.criteria.{fmt}"]
    read = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": pd.read_json}[fmt]
    calls, crit = read(written[0]), read(written[1])
    with store.session() as s:
        n_calls = s.scalar(select(func.count()).select_from(Call))
        n_crit = s.scalar(select(func.count()).select_from(CriterionResultRow).where(CriterionResultRow.is_current))
        scores = {cid: sc for cid, sc in s.execute(select(Call.call_id, Call.score))}
    assert len(calls) == n_calls and len(crit) == n_crit
    assert {"call_id", "agent_id", "team", "score", "compliance_flag", "metric_agent_wpm",
            "metric_talk_ratio_agent"} <= set(calls.columns)
    assert dict(zip(calls.call_id, calls.score)) == pytest.approx(scores)
    row = crit[(crit.call_id == "SYN-7-0000001") & (crit.overridden.astype(str).str.lower() == "true")]
    assert len(row) == 1 and row.iloc[0]["result"] == "pass" and row.iloc[0]["auto_result"] == "fail"
    per_call = crit.groupby("call_id").size()
    assert set(per_call) == {11}


def test_export_since_level_and_errors(store, tmp_path):
    since = datetime(2026, 11, 1)
    out = tmp_path / "nov.csv"
    assert export(store, out, since=since, level="call") == [out]
    df = pd.read_csv(out)
    with store.session() as s:
        expected = s.scalar(select(func.count()).select_from(Call).where(Call.started_at >= since))
    assert len(df) == expected > 0 and (pd.to_datetime(df.started_at) >= pd.Timestamp("2026-11-01", tz="UTC")).all()
    assert not criteria_path(out).exists()
    with pytest.raises(QAError, match="--level"):
        export(store, "-", "csv")
    with pytest.raises(QAError, match="format"):
        export(store, tmp_path / "x.xlsx")
    with pytest.raises(QAError, match="does not exist"):
        export(store, tmp_path / "no" / "x.csv")


def test_export_command(tmp_path):
    db = tmp_path / "data" / "ascolto.db"
    st = open_store(f"sqlite:///{db}")
    with st.session() as s:
        populate(s, 30, seed=1, n_agents=3, days=10, end=END)
    st.close()
    env = {**os.environ, "QA_DATA_DIR": str(tmp_path / "data")}
    env.pop("QA_DATABASE_URL", None)
    r = subprocess.run([sys.executable, "-m", "qa", "export", "--format", "json", "--level", "criterion", "-O", "-"],
                       env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 30 * 11 and {"criterion_id", "result", "team", "evidence"} <= set(rows[0])
    r = subprocess.run([sys.executable, "-m", "qa", "export", "--out-file", str(tmp_path / "out.parquet")],
                       env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 30
    assert len(pd.read_parquet(tmp_path / "out.criteria.parquet")) == 330
    # the old spelling (-o FILE; -o names a folder in the other commands) still works, with a warning
    r = subprocess.run([sys.executable, "-m", "qa", "export", "--level", "call", "-o", str(tmp_path / "old.csv")],
                       env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "deprecated, use -O/--out-file" in r.stderr and (tmp_path / "old.csv").stat().st_size > 0
