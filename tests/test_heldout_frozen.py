"""The held-out scripted set is frozen: its calls and labels are exactly as their authors wrote them."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

HELDOUT = Path(__file__).resolve().parent / "data" / "heldout"
CRITERIA = ["saluto", "nome_cliente", "comprensione", "riepilogo", "prossimi_passi", "conferma_risoluzione",
            "congedo", "protezione_dati", "identificazione", "empatia", "proposta_disdetta"]


def test_every_heldout_file_has_its_frozen_hash():
    expected = dict(reversed(line.split("  ", 1)) for line in (HELDOUT / "FROZEN.sha256").read_text().splitlines())
    files = sorted(p.name for p in HELDOUT.glob("heldout-*.json")) + ["labels.csv", "annotator2/labels.csv",
                                                                        "adjudicated/adjudication.csv", "adjudicated/labels.csv"]
    assert sorted(expected) == sorted(files)
    changed = [n for n in files if hashlib.sha256((HELDOUT / n).read_bytes()).hexdigest() != expected[n]]
    assert changed == []


@pytest.mark.parametrize("labels", ["labels.csv", "annotator2/labels.csv", "adjudicated/labels.csv"])
def test_heldout_labels_cover_every_call_with_valid_results(labels):
    """The author's labels and the second annotator's (tests/data/heldout/README.md)."""
    with open(HELDOUT / labels, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["call_id"] for r in rows) == sorted(p.stem for p in HELDOUT.glob("heldout-*.json"))
    assert len(rows) >= 64
    for r in rows:
        assert set(r) == {"call_id", *CRITERIA}
        assert {r[c] for c in CRITERIA} <= {"pass", "fail", "na"}
    langs = {json.loads((HELDOUT / f"{r['call_id']}.json").read_text())["language"] for r in rows}
    assert langs == {"it", "de", "fr", "en"}


def _labels(name: str) -> dict[str, dict[str, str]]:
    with open(HELDOUT / name, newline="", encoding="utf-8") as f:
        return {r["call_id"]: {c: r[c] for c in CRITERIA} for r in csv.DictReader(f)}


def test_adjudicated_labels_keep_the_agreed_ones_and_decide_each_disputed_one_with_a_reason():
    """adjudicated/labels.csv is the author's labels with a third reader's decision wherever the author
    and the second annotator disagree (adjudicated/adjudication.csv, one reasoned row each), and only there."""
    author, second, adjudicated = _labels("labels.csv"), _labels("annotator2/labels.csv"), _labels("adjudicated/labels.csv")
    with open(HELDOUT / "adjudicated" / "adjudication.csv", newline="", encoding="utf-8") as f:
        decisions = {(r["call_id"], r["criterion"]): r for r in csv.DictReader(f)}
    disputed = {(cid, c) for cid in author for c in CRITERIA if author[cid][c] != second[cid][c]}
    assert disputed and set(decisions) == disputed
    for cid in author:
        for c in CRITERIA:
            if (cid, c) in decisions:
                assert adjudicated[cid][c] == decisions[(cid, c)]["label"]
                assert len(decisions[(cid, c)]["reason"].split()) >= 3
            else:
                assert adjudicated[cid][c] == author[cid][c] == second[cid][c]
