"""`qa rescore` re-evaluates a stored call when its rubric's version changed (qa/store/rescoring.py).
A call-type rubric inherits most of what it checks from the rubric it extends (comune.yaml), so a
change there must show in the version of every rubric that extends it: a bundled rubric's version
is never older than the version of a rubric it extends. (Until 2026-12-07 it was: comune.yaml went
from .5 to .37 while the four call-type rubrics stayed at .5, and `qa rescore` would have left every
stored call on its old results unless forced.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

RUBRICS = Path(__file__).resolve().parents[1] / "rubriche"


def _version_key(v) -> tuple:
    """'2026-12-07.37' -> ('2026-12-07', 37): date first, then the number of the day's version."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.(\d+)", str(v))
    assert m, f"version {v!r} is not DATE.N"
    return m.group(1), int(m.group(2))


def _top(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(RUBRICS.glob("*.yaml")), ids=lambda p: p.stem)
def test_a_bundled_rubric_is_never_older_than_the_rubric_it_extends(path):
    doc = _top(path)
    parent = doc.get("extends")
    if not parent:
        return
    parent_doc = _top(RUBRICS / f"{parent}.yaml")
    assert _version_key(doc["version"]) >= _version_key(parent_doc["version"]), (
        f"{path.name} is at {doc['version']} but {parent}.yaml at {parent_doc['version']}: bump {path.name} "
        "so that qa rescore re-evaluates the calls scored with it")


def test_the_version_stored_with_an_evaluation_moves_with_a_change_to_comune():
    from qa.rubric.loader import load_rubric

    comune = _top(RUBRICS / "comune.yaml")["version"]
    for name in ("acquisizione", "assistenza", "fidelizzazione", "riacquisizione"):
        assert _version_key(load_rubric(name).version) >= _version_key(comune), name
