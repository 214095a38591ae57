"""Hostile inputs (issue 14): rubric YAML that expands without limit, oversized rubrics, ``extends:``
reaching outside the rubric folders; uploads over the size cap, streamed to disk, originals removed
with ``QA_KEEP_ORIGINALS=0``. Each is refused with one line and nothing is lost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa.cli import main as qa_main
from qa.errors import EXIT_FAILED, RubricError
from qa.rubric import load_rubric, load_rubric_text, validate_rubric, validate_rubric_text
from qa.rubric.yamlsrc import MAX_RUBRIC_BYTES, MAX_YAML_VALUES

pytestmark = pytest.mark.security

RUBRICS = Path(__file__).resolve().parents[1] / "rubriche"


def _bomb(levels: int) -> str:
    """The "billion laughs": each level lists the previous one nine times (9**levels values)."""
    lines = ["rubric: risate", "version: 1", "extends: comune", 'description: &l0 ["ha","ha","ha","ha","ha","ha","ha","ha","ha"]']
    lines.append("criteria:")
    lines.append("  saluto:")
    lines.append("    x0: *l0")
    for i in range(1, levels + 1):
        lines.append(f"    x{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_with_its_line():
    text = _bomb(6)  # 9**7 = 4.8 million values from a 440-byte text
    assert len(text) < 500
    errors = validate_rubric_text(text, "risate.yaml")
    assert len(errors) == 1
    e = errors[0]
    assert "aliases expand to more than" in e.message and e.source == "risate.yaml"
    # the innermost list whose expansion passes the limit: x5 (line 12) holds 9**6 values
    assert 9 ** 5 < MAX_YAML_VALUES < 9 ** 6
    assert e.line == 7 + 5
    assert str(e).startswith("risate.yaml:12: ")
    with pytest.raises(RubricError, match="aliases expand"):
        load_rubric_text(text, "risate.yaml")
    # deeper bombs (9**31 values) are refused the same way: the check counts, it never expands
    deep = validate_rubric_text(_bomb(30), "risate.yaml")
    assert [(e.line, e.message) for e in deep] == [(12, e.message)]


def test_alias_bomb_file_through_the_cli(tmp_path, capsys):
    p = tmp_path / "risate.yaml"
    p.write_text(_bomb(6), encoding="utf-8")
    assert qa_main(["rubric", "validate", str(p)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{p}:12: YAML aliases expand to more than")


def test_aliases_within_the_limit_still_work():
    # a small anchor reused is ordinary YAML and stays allowed
    text = ("rubric: mia\nversion: x1\nextends: comune\ncriteria:\n  saluto:\n    weight: &w 3\n"
            "  congedo:\n    weight: *w\n")
    rub = load_rubric_text(text, "mia.yaml")
    assert rub.criterion("saluto").weight == rub.criterion("congedo").weight == 3.0


def test_self_referencing_alias_is_refused():
    text = "rubric: x\nversion: 1\ndescription: &a [1, *a]\n"
    errors = validate_rubric_text(text, "x.yaml")
    assert len(errors) == 1 and errors[0].line == 3
    assert "refers to the list or mapping that contains it" in errors[0].message


def test_oversized_rubric_is_refused_unread(tmp_path, capsys):
    big = "rubric: grande\nversion: 1\n" + "# " + "x" * MAX_RUBRIC_BYTES + "\n"
    errors = validate_rubric_text(big, "grande.yaml")
    assert len(errors) == 1 and "rubric too large" in errors[0].message
    p = tmp_path / "grande.yaml"
    p.write_text(big, encoding="utf-8")
    assert qa_main(["rubric", "validate", str(p)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{p}: rubric too large: over {MAX_RUBRIC_BYTES // 1024} KiB (refused unread)"]
    # the bundled rubrics are well within the limit
    assert max(q.stat().st_size for q in RUBRICS.glob("*.yaml")) * 4 < MAX_RUBRIC_BYTES


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/passwd", "../../../../../../etc/passwd",
                                    "/etc/hostname.yaml"])
def test_extends_outside_the_rubric_folders_is_refused(target):
    text = f"rubric: mia\nversion: x1\nextends: {target}\n"
    errors = validate_rubric_text(text, "mia.yaml")
    assert len(errors) == 1, errors
    assert errors[0].line == 3 and "outside the rubric folders" in errors[0].message
    with pytest.raises(RubricError, match="outside the rubric folders"):
        load_rubric_text(text, "mia.yaml")


def test_extends_symlink_escaping_is_refused(tmp_path, monkeypatch):
    rubrics = tmp_path / "rubriche"
    rubrics.mkdir()
    for q in RUBRICS.glob("*.yaml"):
        (rubrics / q.name).write_bytes(q.read_bytes())
    outside = tmp_path / "fuori"
    outside.mkdir()
    (outside / "base.yaml").write_bytes((RUBRICS / "comune.yaml").read_bytes())
    (rubrics / "base.yaml").symlink_to(outside / "base.yaml")
    (rubrics / "zero.yaml").symlink_to("/dev/zero")
    monkeypatch.setenv("QA_RUBRICS_DIR", str(rubrics))
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    for name in ("base", "zero"):
        child = rubrics / f"figlia_{name}.yaml"
        child.write_text(f"rubric: figlia\nversion: 1\nextends: {name}\n", encoding="utf-8")
        errors = validate_rubric(child)
        assert len(errors) == 1 and errors[0].line == 3, errors
        assert "outside the rubric folders" in errors[0].message
        errors = validate_rubric_text(child.read_text(encoding="utf-8"), "figlia.yaml")
        assert len(errors) == 1 and "outside the rubric folders" in errors[0].message
    # a link inside the folder is fine, and the shipped chain still loads from the copy
    (rubrics / "alias.yaml").symlink_to(rubrics / "comune.yaml")
    ok = rubrics / "figlia_ok.yaml"
    ok.write_text("rubric: figlia\nversion: 1\nextends: alias\n", encoding="utf-8")
    assert validate_rubric(ok) == []
    assert load_rubric(rubrics / "assistenza.yaml").criterion("saluto")


def test_a_device_or_folder_as_rubric_is_refused(tmp_path, capsys):
    assert qa_main(["rubric", "validate", "/dev/zero"]) == EXIT_FAILED
    assert capsys.readouterr().err.strip().splitlines() == ["/dev/zero: not a regular file"]
    with pytest.raises(RubricError, match="not a regular file"):
        load_rubric(tmp_path)
