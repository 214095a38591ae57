"""How far each criterion's automatic result can be trusted: its measured agreement with careful
evaluators on calls nobody tuned the tool on, shown beside every result on the call page.

``bench/agreement.py`` writes ``modelli/affidabilita.json`` on every full run (and CI checks that it
holds the figures the current rubrics give: ``tests/test_agreement.py``): per criterion, the accuracy
and its 95 % Wilson interval on the untouched scripted calls (independent authors, never read while
working on the rules) and on the held-out real mono calls (LUNA help-desk calls, speakers inferred).
A supervisor reading a ``fail`` of a criterion that agrees with evaluators on 88 % of unseen calls, or
on 2 of 10 real mono calls, knows how much weight it carries.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

FILE = "affidabilita.json"
# which labelled set stands for which kind of call (bench/agreement.py set names)
KINDS = {"scripted": "untouched", "real_mono": "luna-heldout"}


def reliability_path() -> Path:
    """``modelli/affidabilita.json`` (the models folder in use)."""
    from ..config import models_dir

    return models_dir() / FILE


def reliability_data(measures: dict[str, dict], rubric_version: str | None = None, when: str = "") -> dict[str, Any]:
    """The file's content from ``bench/agreement.py``'s measures: per criterion and kind of call, the
    accuracy, its 95 % interval and the number of calls (only where the kind's set was measured)."""
    criteria: dict[str, dict] = {}
    sets = {}
    for kind, name in KINDS.items():
        if name not in measures:
            continue
        r = measures[name]["result"]
        sets[kind] = {"set": name, "status": measures[name]["status"], "title": measures[name]["title"],
                      "n_calls": r["n_calls"]}
        for crit, v in r["criteria"].items():
            if v["n"]:
                criteria.setdefault(crit, {})[kind] = {"accuracy": v["accuracy"], "interval": v["accuracy_ci"],
                                                       "n": v["n"]}
    return {"written_by": "bench/agreement.py", "measured": when, "rubric_version": rubric_version,
            "sets": sets, "criteria": criteria}


@lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_reliability(path: Path | None = None) -> dict[str, Any]:
    """The file's content ({} when it is missing or unreadable: the call page then shows nothing)."""
    p = Path(path) if path is not None else reliability_path()
    try:
        data = _read(str(p), p.stat().st_mtime)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _entry(kind: str, value: Any) -> dict | None:
    """One figure of the file as the call page shows it, or None when it is not well formed (a hand-edited
    or truncated file must not break the page)."""
    try:
        lo, hi = (float(x) for x in value["interval"])
        return {"kind": kind, "accuracy": float(value["accuracy"]), "interval": (lo, hi), "n": int(value["n"])}
    except (TypeError, KeyError, ValueError):
        return None


def criterion_reliability(criterion: str, mono_inferred: bool, data: dict[str, Any] | None = None,
                          rubric_version: str | None = None) -> list[dict]:
    """What to show for ``criterion``: the scripted figure, and the real mono one when the call's
    speakers were inferred (a mono recording); each ``{"kind", "accuracy", "interval", "n"}``. Nothing
    for a call scored with a rubric version the figures were not measured with (a site's own edit)."""
    data = load_reliability() if data is None else data
    measured = [v.strip() for v in str(data.get("rubric_version") or "").split(",") if v.strip()]
    if rubric_version is not None and measured and rubric_version not in measured:
        return []
    criteria = data.get("criteria")
    per = criteria.get(criterion) if isinstance(criteria, dict) else None
    if not isinstance(per, dict):
        return []
    kinds = ["scripted"] + (["real_mono"] if mono_inferred else [])
    return [e for e in (_entry(k, per[k]) for k in kinds if k in per) if e is not None]
