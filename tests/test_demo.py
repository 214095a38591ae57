"""`qa demo --no-serve`: the README's first command without the dashboard — the eight sample
calls transcribed and scored into a fresh store, demo accounts, and the summary it prints."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def qa_demo(data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_DATA_DIR": str(data)}
    env.pop("QA_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "qa.cli", "demo", "--no-serve", "--synthetic", "40"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)


@pytest.mark.slow
def test_demo_builds_the_store_and_prints_every_sample_call(demo_run, tmp_path):
    # demo_run (tests/conftest.py): the first `qa demo --no-serve --synthetic 40` on a fresh data
    # folder, as qa_demo runs it, shared with tests/test_demo_agreement.py (minutes of Whisper);
    # this test goes on in a copy of that folder
    shutil.copytree(demo_run[0], tmp_path, dirs_exist_ok=True)
    first = demo_run[1]
    with (ROOT / "samples" / "calls.csv").open(encoding="utf-8", newline="") as f:
        calls = {row["call_id"]: row for row in csv.DictReader(f)}
    assert first.returncode == 0, first.stderr[-2000:]
    assert "Traceback" not in first.stderr
    assert f"{len(calls)} stored, 0 already stored/duplicate, 0 failed" in first.stdout
    rows = {line.split()[0]: line.split() for line in first.stdout.splitlines() if line.startswith("DEMO-")}
    assert set(rows) == set(calls)
    for cid, row in calls.items():
        shown = rows[cid][2]
        if row["call_type"]:
            assert shown == row["call_type"]
        else:  # no call type in calls.csv: the one inferred from the conversation, marked
            assert shown.endswith("*") and shown[:-1] in ("acquisizione", "assistenza", "fidelizzazione",
                                                          "riacquisizione")
    assert any(not r["call_type"] for r in calls.values())
    assert "* call type inferred from the conversation" in first.stdout
    assert "password: ascolto-demo" in first.stdout and "supervisore" in first.stdout
    # the accounts with the public password are marked as demo accounts (qa serve warns about them)
    from qa.store import open_store

    with open_store(f"sqlite:///{tmp_path / 'ascolto.db'}") as store:
        demo = store.demo_accounts()
    assert {"supervisore", "qa", "admin"} <= set(demo) and len(demo) == len(
        [u for u in first.stdout.split("accounts (", 1)[1].split(")", 1)[0].split(", ")])

    # again on the same store: nothing transcribed twice, nothing lost
    again = qa_demo(tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"0 stored, {len(calls)} already stored/duplicate, 0 failed" in again.stdout
    assert {line.split()[0] for line in again.stdout.splitlines() if line.startswith("DEMO-")} == set(calls)
