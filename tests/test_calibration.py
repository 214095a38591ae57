"""Calibration arithmetic and label parsing (the tool side is tested end to end in
test_calibration_cli.py once the rubric engine scores real transcripts)."""

import pytest
from sklearn.metrics import cohen_kappa_score

from qa.learning.calibration import LabelsError, compare, human_agreement, kappa, majority, read_labels
from qa.model import CriterionResult, Evaluation, Evidence


def _labels(tmp_path, text, name="labels.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_read_labels_accepts_blanks_and_case(tmp_path):
    p = _labels(tmp_path, "call_id,saluto,empatia\nc1,PASS,\nc2,fail,na\n\n")
    assert read_labels(p) == {"c1": {"saluto": "pass"}, "c2": {"saluto": "fail", "empatia": "na"}}


@pytest.mark.parametrize("text, needle", [
    ("id,saluto\nc1,pass\n", "call_id"),
    ("call_id\nc1\n", "no criterion"),
    ("call_id,saluto\nc1,maybe\n", "line 2: saluto = 'maybe'"),
    ("call_id,saluto\nc1,pass\nc1,fail\n", "appears twice"),
    ("call_id,saluto\nc1,pass,extra\n", "3 cells"),
    ("call_id,saluto\n", "no labelled calls"),
    ("call_id,saluto,saluto\nc1,pass,pass\n", "duplicate"),
])
def test_read_labels_rejects_bad_files_in_one_line(tmp_path, text, needle):
    with pytest.raises(LabelsError) as e:
        read_labels(_labels(tmp_path, text))
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_read_labels_missing_and_binary(tmp_path):
    with pytest.raises(LabelsError, match="not found"):
        read_labels(tmp_path / "nope.csv")
    (tmp_path / "b.csv").write_bytes(b"\xff\x00\xfe")
    with pytest.raises(LabelsError, match="UTF-8"):
        read_labels(tmp_path / "b.csv")


def _ev(call_id, **results):
    return Evaluation(call_id, "assistenza", "1", [
        CriterionResult(k, "2.1", v, 1.0, [Evidence("agent", 1.0, 2.0, f"{k} text")] if v == "pass" else [],
                        "" if v == "pass" else f"missing {k}") for k, v in results.items()])


def test_kappa_is_scikit_learns_with_the_undefined_cases_settled():
    a = ["pass", "fail", "pass", "na", "fail", "pass"]
    b = ["pass", "pass", "pass", "na", "fail", "fail"]
    assert kappa(a, b) == round(cohen_kappa_score(a, b), 4)
    assert kappa(["fail"] * 4, ["fail"] * 4) == 1.0  # one label only: undefined in sklearn, agreement is perfect
    assert kappa([], []) is None
    # a value outside pass/fail/na (bench/agreement.py's "missing") is a label of its own: a disagreement
    assert kappa(["pass", "fail", "pass"], ["pass", "missing", "pass"]) == round(
        cohen_kappa_score(["pass", "fail", "pass"], ["pass", "missing", "pass"]), 4) == 0.4
    with pytest.raises(ValueError):
        kappa(["pass"], [])


def test_compare_counts_confusion_kappa_and_disagreements():
    human = {"a": {"saluto": "pass"}, "b": {"saluto": "fail"}, "c": {"saluto": "pass"}, "d": {"saluto": "fail"}}
    tool = {"a": _ev("a", saluto="pass"), "b": _ev("b", saluto="pass"), "c": _ev("c", saluto="pass"),
            "d": _ev("d", saluto="fail")}
    [s] = compare(human, tool)
    assert s.n == 4 and s.accuracy == 0.75
    assert s.confusion["fail"]["pass"] == 1 and s.confusion["pass"]["pass"] == 2
    expected = cohen_kappa_score(["pass", "fail", "pass", "fail"], ["pass", "pass", "pass", "fail"])
    assert s.kappa == pytest.approx(expected, abs=1e-4)
    [d] = s.disagreements
    assert (d.call_id, d.human, d.tool) == ("b", "fail", "pass") and d.evidence[0]["text"] == "saluto text"


def test_compare_skips_calls_without_evaluation_or_label():
    human = {"a": {"saluto": "pass"}, "z": {"saluto": "fail"}}
    [s] = compare(human, {"a": _ev("a", saluto="pass")})
    assert s.n == 1 and s.accuracy == 1.0 and s.kappa == 1.0


def test_human_agreement_and_majority():
    a = {"1": {"x": "pass"}, "2": {"x": "fail"}, "3": {"x": "pass"}, "4": {"x": "na"}}
    b = {"1": {"x": "pass"}, "2": {"x": "fail"}, "3": {"x": "fail"}, "4": {"x": "na"}}
    c = {"1": {"x": "pass"}, "2": {"x": "pass"}, "3": {"x": "fail"}, "4": {"x": "na"}}
    hk = human_agreement([a, b, c])
    pairs = [kappa([s[k]["x"] for k in "1234"], [t[k]["x"] for k in "1234"]) for s, t in ((a, b), (a, c), (b, c))]
    assert hk["x"] == pytest.approx(sum(pairs) / 3, abs=1e-4)
    m = majority([a, b, c])
    assert m["2"]["x"] == "fail" and m["3"]["x"] == "fail" and m["1"]["x"] == "pass"
