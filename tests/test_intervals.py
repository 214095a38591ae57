"""95 % intervals of agreement figures (qa.learning.intervals): Wilson for accuracy, a bootstrap over
calls for kappa, on the real labels of the LUNA dev set's two annotators and the tool's results."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.learning.calibration import kappa
from qa.learning.intervals import accuracy_interval, format_interval, kappa_intervals

LUNA = Path(__file__).resolve().parent / "data" / "luna_dev"


def annotator(n: int) -> dict[str, dict[str, str]]:
    with open(LUNA / f"annotator{n}" / "labels.csv", newline="", encoding="utf-8") as f:
        return {r["call_id"]: {k: v for k, v in r.items() if k != "call_id"} for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def pairs() -> dict[str, list[tuple[str, str, str]]]:
    a, b = annotator(1), annotator(2)
    crits = sorted(next(iter(a.values())))
    return {c: [(cid, a[cid][c], b[cid][c]) for cid in sorted(a)] for c in crits}


def test_wilson_interval_of_known_proportions():
    # 8 of 10: Wilson 0.490-0.943 (the textbook value); the point estimate always inside
    assert accuracy_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert accuracy_interval(10, 10)[1] == 1.0 and accuracy_interval(10, 10)[0] < 0.75
    assert accuracy_interval(0, 0) is None
    low, high = accuracy_interval(80, 100)
    assert low < 0.8 < high and high - low < (0.9433 - 0.4902) / 2  # 10x the calls: far narrower


def test_kappa_intervals_hold_the_point_kappa_and_narrow_with_more_calls(pairs):
    per, macro = kappa_intervals(pairs)
    for crit, rows in pairs.items():
        k = kappa([r[1] for r in rows], [r[2] for r in rows])
        low, high = per[crit]
        assert low - 1e-9 <= k <= high + 1e-9, (crit, k, per[crit])
    # the two annotators' riepilogo (kappa 0.467 on 30 calls) is the uncertain one
    assert per["riepilogo"][1] - per["riepilogo"][0] > 0.3
    assert per["saluto"] == (1.0, 1.0)  # always the same labels: every draw agrees
    mean = sum(kappa([r[1] for r in rows], [r[2] for r in rows]) for rows in pairs.values()) / len(pairs)
    assert macro[0] <= mean <= macro[1]
    # the same labels on four times the calls: a narrower interval around the same kappa
    more = {c: [(f"{cid}-{i}", x, y) for i in range(4) for cid, x, y in rows] for c, rows in pairs.items()}
    per4, _ = kappa_intervals(more)
    assert per4["riepilogo"][1] - per4["riepilogo"][0] < per["riepilogo"][1] - per["riepilogo"][0]
    assert kappa_intervals(pairs) == (per, macro)  # a fixed seed: the same interval every time


def test_no_pairs_no_interval():
    assert kappa_intervals({"saluto": []}) == ({"saluto": None}, None)
    assert format_interval(None) == "-" and format_interval((0.5, 0.75), True) == "[50.0–75.0 %]"


def test_qa_calibrate_reports_the_intervals_in_text_and_json(tmp_path):
    args = [sys.executable, "-m", "qa.cli", "calibrate", str(LUNA / "annotator1" / "labels.csv"),
            "--transcripts", str(LUNA / "transcripts")]
    out = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    low, high = report["macro_kappa_ci"]
    assert low <= report["macro_kappa"] <= high
    for c in report["criteria"]:
        lo, hi = c["accuracy_ci"]
        assert lo <= c["accuracy"] <= hi
        if c["kappa"] is not None:
            assert c["kappa_ci"][0] - 1e-9 <= c["kappa"] <= c["kappa_ci"][1] + 1e-9
    text = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert text.returncode == 0, text.stderr
    assert "95 % interval" in text.stdout.splitlines()[0]
    macro_line = next(line for line in text.stdout.splitlines() if line.startswith("macro"))
    assert format_interval((low, high)) in macro_line


def test_paired_difference_of_two_scorings_of_the_same_calls(pairs):
    from qa.learning.intervals import macro_difference_interval

    crits = list(pairs)
    assert macro_difference_interval(pairs, pairs, crits) == (0.0, 0.0)  # the same results: no change at all
    # annotator 2 against annotator 1, then a copy of annotator 1 against itself: every draw improves
    same = {c: [(cid, a, a) for cid, a, _ in rows] for c, rows in pairs.items()}
    low, high = macro_difference_interval(pairs, same, crits)
    assert 0 <= low <= high and low > 0.05
    assert macro_difference_interval({}, {}, crits) is None


@pytest.mark.parametrize("content", ["", "[1, 2]", "{not json", '{"criteria": []}',
                                     '{"criteria": {"riepilogo": {"scripted": {"accuracy": "x", "interval": [0.1], "n": 3}}}}'])
def test_a_broken_reliability_file_shows_nothing_instead_of_failing(tmp_path, content):
    """modelli/affidabilita.json missing, truncated, or edited by hand: the call page shows no figure."""
    from qa.learning.reliability import criterion_reliability, load_reliability

    path = tmp_path / "affidabilita.json"
    path.write_text(content, encoding="utf-8")
    assert criterion_reliability("riepilogo", True, load_reliability(path)) == []
    assert load_reliability(tmp_path / "missing.json") == {}


def test_a_big_store_is_bootstrapped_in_bounded_memory():
    """The calibration page reads every human review of the store: on 20,000 reviewed calls the
    intervals come from fewer draws (``samples_for``), drawn a block at a time, in bounded memory
    (the first version took 961 MB here)."""
    import random
    import tracemalloc

    from qa.learning.intervals import samples_for

    rng = random.Random(1)
    n = 20_000
    big = {f"c{k}": [(f"call{i}", rng.choice("pfn"), rng.choice("pfn")) for i in range(n)] for k in range(11)}
    assert samples_for(64) == 2000 and samples_for(n) == 400
    tracemalloc.start()
    try:
        per, macro = kappa_intervals(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, peak
    assert macro[0] < 0.01 and macro[1] > -0.01 and macro[1] - macro[0] < 0.02  # random labels: kappa about 0
