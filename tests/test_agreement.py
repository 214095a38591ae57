"""CI holds the rubric engine to the agreement it reached with human labels, held-out data apart.

The floors are bench/results/agreement_floor.json, written by ``bench/agreement.py --write-floors``
(measured minus 0.03): macro kappa of each labelled set (scripted dev set and LUNA ``tune`` calls:
tuned-on; scripted held-out set and LUNA ``heldout`` calls: held-out), and on held-out sets each
criterion's kappa where it means something. Every set is scored by the real engine through the
production path. Kappa is the project's one implementation, ``qa.learning.calibration.kappa``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_agreement", ROOT / "bench" / "agreement.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


bench = _bench()


@pytest.fixture(scope="module")
def sets():
    return {s.name: s for s in bench.load_sets()}


@pytest.fixture(scope="module")
def measures(sets):
    return bench.measure(list(sets.values()))


def test_sets_are_the_labelled_data_with_their_status(sets):
    assert {n: (s.status, len(s.labels)) for n, s in sets.items()} == {
        "devset": ("tuned-on", 64), "heldout": ("held-out", 64),
        "luna-tune": ("tuned-on", 20), "luna-heldout": ("held-out", 10), "untouched": ("untouched", 160)}
    # the untouched pool: the independent batches nobody read while working on the rules, kept out of training
    from qa.learning.callmodel import KEPT_OUT

    assert {f"rules_fresh/{b}" for b in bench.UNTOUCHED_BATCHES} >= set(KEPT_OUT)
    # the LUNA calls are scored as a mono recording gives them: no roles, no call type
    luna = sets["luna-tune"].transcripts + sets["luna-heldout"].transcripts
    assert all(s.speaker == "unknown" for t in luna for s in t.segments)
    assert not any("call_type" in t.metadata for t in luna)


def test_floor_file_covers_every_set():
    floors = bench.read_floors()
    assert set(floors["sets"]) == set(bench.SET_NAMES)
    status = {n: f["status"] for n, f in floors["sets"].items()}
    assert status == {"devset": "tuned-on", "heldout": "held-out", "luna-tune": "tuned-on", "luna-heldout": "held-out",
                      "untouched": "untouched"}
    assert floors["sets"]["heldout"]["criteria"], "the scripted held-out set has per-criterion floors"
    assert floors["sets"]["untouched"]["criteria"], "so has the untouched pool"
    for f in floors["sets"].values():
        assert f["status"] in ("held-out", "untouched") or not f["criteria"]  # per-criterion floors: never tuned-on data
        if f["macro_kappa"] is not None:
            assert f["macro_kappa"] == pytest.approx(f["measured_macro_kappa"] - floors["tolerance"], abs=1e-4)


def test_agreement_does_not_fall_under_the_floors(measures):
    under = bench.below_floors(measures, bench.read_floors())
    assert not under, "agreement fell under the floor (bench/agreement.py --write-floors after an intended " \
                      "change):\n" + "\n".join(under)


def test_a_drop_is_caught_by_the_floors(measures):
    import copy

    floors = bench.floors_from(measures)
    assert bench.below_floors(measures, floors) == []
    worse = copy.deepcopy({k: {"result": m["result"], "status": m["status"]} for k, m in measures.items()})
    crit = next(iter(floors["sets"]["heldout"]["criteria"]))
    worse["heldout"]["result"]["criteria"][crit]["kappa"] -= 0.05
    worse["luna-heldout"]["result"]["macro_kappa"] -= 0.05
    lines = bench.below_floors(worse, floors)
    assert len(lines) == 2
    assert any(line.startswith(f"heldout [held-out]: {crit} kappa") for line in lines)
    assert any(line.startswith("luna-heldout [held-out]: macro kappa") for line in lines)


def test_macro_kappa_is_the_mean_over_criteria_with_two_gold_classes(sets, measures):
    for name, s in sets.items():
        res = measures[name]["result"]
        two = [c for c in bench.CORE if len({row[c] for row in s.labels.values() if row.get(c)}) >= 2]
        assert res["kappa_criteria"] == len(two)
        expected = sum(res["criteria"][c]["kappa"] for c in two) / len(two)
        assert res["macro_kappa"] == pytest.approx(expected, abs=1e-4)
    # LUNA: every call acts on the caller's own things with a check, so identificazione is all `pass`
    assert measures["luna-heldout"]["result"]["criteria"]["identificazione"]["classes"] == 1


def test_pooled_figures_keep_tuned_on_and_held_out_apart(sets, measures):
    assert measures["held-out all"]["status"] == "held-out"
    assert measures["held-out all"]["result"]["n_calls"] == 74
    assert measures["tuned-on all"]["status"] == "tuned-on"
    assert measures["tuned-on all"]["result"]["n_calls"] == 84
    assert measures["luna all"]["status"] == "mixed"


def test_library_comparison_gives_the_same_kappas(sets, measures):
    # qa calibrate and the publish gate use qa.learning.calibration.compare: same kappas on the same evaluations
    from qa.learning.calibration import compare

    s = sets["heldout"]
    human = {cid: {c: v for c, v in row.items() if v} for cid, row in s.labels.items()}
    lib = compare(human, {e.call_id: e for e in measures["heldout"]["evaluations"]}, bench.CORE)
    assert {c.criterion: c.kappa for c in lib} == {c: v["kappa"] for c, v in measures["heldout"]["result"]["criteria"].items()}


def test_disagreements_are_refused_for_held_out_sets(capsys):
    assert bench.main(["--show-disagreements", "heldout", "--no-write"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "only for tuned-on sets" in err[0] and "heldout" in err[0]
    assert bench.main(["--show-disagreements", "luna-heldout", "--no-write"]) == 2


def test_report_names_the_status_of_every_figure_and_hides_held_out_calls(sets, measures):
    md = bench.report_md(measures)
    summary = md.split("## Summary", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(measures)
    assert all(any(tag in row for tag in ("**tuned-on**", "**held-out**", "**untouched**", "*mixed*")) for row in rows)
    import re

    held_ids = set(sets["heldout"].labels) | set(sets["luna-heldout"].labels) | set(sets["untouched"].labels)
    assert not [cid for cid in held_ids if cid in md]  # no held-out or untouched call named anywhere
    assert not re.search(r"heldout-(it|de|fr|en)-\d", md)
    assert "dev-" in md.split("## Disagreements on tuned-on sets", 1)[1] or \
        not measures["devset"]["result"]["disagreements"]


def test_cached_speech_transcripts_are_rescored_with_the_current_engine(sets):
    # bench/heldout_speech.py: held-out calls through Kokoro speech + Whisper, cached for re-scoring
    files = sorted(bench.SPEECH_CACHE.glob("heldout-*.json"))
    if not files:
        pytest.skip("no cached speech transcripts (bench/heldout_speech.py)")
    from qa.model import Transcript

    for f in files:
        t = Transcript.load(f)
        assert t.call_id == f.stem and t.call_id in sets["heldout"].labels
        assert t.extra["engine"]["name"] == "faster-whisper" and t.extra["audio"]["channels"] == 2
        assert {s.speaker for s in t.segments} == {"agent", "customer"}
    speech = bench.measure_speech()
    assert speech["n"] == len(files)
    assert speech["ref"]["n_calls"] == speech["asr"]["n_calls"] == len(files)
    assert not speech["asr"]["disagreements"] and not speech["ref"]["disagreements"]  # held-out: aggregates only
    assert all(0.0 <= w < 1.0 for w in speech["wer"].values())


def test_the_reliability_the_call_page_shows_is_what_the_current_rubrics_give(measures):
    """modelli/affidabilita.json (bench/agreement.py writes it on every full run; the call page shows it
    beside each result) holds each criterion's accuracy on the untouched and the LUNA held-out calls as
    the current rubrics score them: a rubric change without a new bench run fails here."""
    import json

    from qa.learning.reliability import criterion_reliability, load_reliability, reliability_data

    shipped = load_reliability()
    now = json.loads(json.dumps(reliability_data(measures)))  # tuples as the file writes them
    assert shipped["criteria"] == now["criteria"] and shipped["sets"] == now["sets"]
    assert set(shipped["criteria"]) == set(bench.CORE)
    [scripted] = criterion_reliability("identificazione", False, shipped)
    assert scripted["kind"] == "scripted" and scripted["n"] == 160
    lo, hi = scripted["interval"]
    assert lo <= scripted["accuracy"] <= hi
    assert [r["kind"] for r in criterion_reliability("riepilogo", True, shipped)] == ["scripted", "real_mono"]
    assert criterion_reliability("riepilogo", True, {}) == []  # no file: nothing shown
    # figures measured with the shipped rubrics say nothing about a site's own edit of them
    version = measures["untouched"]["evaluations"][0].rubric_version
    assert criterion_reliability("riepilogo", False, shipped, version) != []
    assert criterion_reliability("riepilogo", False, shipped, version + "-edited") == []
