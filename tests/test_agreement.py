"""CI holds the rubric engine to the agreement it reached with the labelled dev set.

The floor is bench/results/agreement_floor.json, written by bench/agreement.py (the figures the
lead mirrors in BENCHMARKS.md): per criterion accuracy on the clean transcripts, and macro kappa.
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


def test_agreement_with_labelled_devset_does_not_drop():
    floor = json.loads((ROOT / "bench" / "results" / "agreement_floor.json").read_text(encoding="utf-8"))
    bench = _bench()
    labels = bench.load_labels()
    assert len(labels) >= 60
    transcripts = bench.load_transcripts(labels=labels)
    assert len(transcripts) == len(labels)
    res = bench.agreement(bench.score_all(transcripts), labels)
    drops = {c: (res["criteria"][c]["accuracy"], floor[c]) for c in bench.CORE
             if res["criteria"][c]["accuracy"] < floor[c] - 1e-9}
    assert not drops, f"agreement dropped below the recorded floor (now, floor): {drops}; " \
                      f"disagreements: {res['disagreements']}"
    assert res["macro_kappa"] >= floor["macro_kappa"] - 1e-9, (res["macro_kappa"], floor["macro_kappa"])
