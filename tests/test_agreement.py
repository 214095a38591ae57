"""CI holds the rubric engine to the agreement it reached with the labelled dev set.

The floor is the "Agreement floor" table of BENCHMARKS.md (bench/agreement.py writes the same
figures to bench/results/agreement_floor.json): per criterion accuracy on the clean transcripts,
and macro kappa. Kappa is the project's one implementation, ``qa.calibration.kappa``
(scikit-learn's), which bench/agreement.py, ``qa calibrate`` and the dashboard call.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_agreement", ROOT / "bench" / "agreement.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def recorded_floor() -> dict[str, float]:
    """The table under '### Agreement floor' in BENCHMARKS.md."""
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    section = text.split("### Agreement floor", 1)[1].split("\n## ", 1)[0]
    floor = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2:
            try:
                floor[cells[0]] = float(cells[1])
            except ValueError:
                continue
    return floor


def test_benchmarks_md_and_bench_output_record_the_same_floor():
    recorded = json.loads((ROOT / "bench" / "results" / "agreement_floor.json").read_text(encoding="utf-8"))
    assert recorded_floor() == recorded


def test_agreement_with_labelled_devset_does_not_drop():
    floor = recorded_floor()
    assert {*_bench().CORE, "macro_kappa"} <= set(floor), sorted(floor)
    bench = _bench()
    labels = bench.load_labels()
    assert len(labels) >= 60
    transcripts = bench.load_transcripts(labels=labels)
    assert len(transcripts) == len(labels)
    evaluations = bench.score_all(transcripts)
    res = bench.agreement(evaluations, labels)
    drops = {c: (res["criteria"][c]["accuracy"], floor[c]) for c in bench.CORE
             if res["criteria"][c]["accuracy"] < floor[c] - 1e-9}
    assert not drops, f"agreement dropped below the recorded floor (now, floor): {drops}; " \
                      f"disagreements: {res['disagreements']}"
    assert res["macro_kappa"] >= floor["macro_kappa"] - 1e-9, (res["macro_kappa"], floor["macro_kappa"])

    # the library's comparison (qa calibrate, the publish gate) gives the same kappas on the same evaluations
    from qa.calibration import CalibrationReport, compare

    human = {cid: {c: v for c, v in row.items() if v} for cid, row in labels.items()}
    lib = compare(human, {e.call_id: e for e in evaluations}, bench.CORE)
    assert {c.criterion: c.kappa for c in lib} == {c: v["kappa"] for c, v in res["criteria"].items()}
    assert CalibrationReport(lib, len(evaluations), []).macro_kappa == res["macro_kappa"]
