"""Publishing a rubric version: validate, refuse an unchanged or reused version, apply the
agreement gate on the gold set, write it where the engine reads rubrics, record it in the store.

The bundled ``rubriche/`` are never modified: the first publication copies them to
``$QA_DATA_DIR/rubriche`` (which ``qa.config.rubrics_dir`` then prefers) and writes the new
version there. Re-scoring stored calls is a separate step (``qa rescore`` or the dashboard's
background job, both ``qa.ingest.rescore`` over ``qa.pipeline.score_each``) so that the
publication itself is instant.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import config
from .errors import GateRefused, RubricError


class PublishRefused(GateRefused):
    """The rubric version may not go live (invalid, reused version, or below the agreement gate)."""


@dataclass
class GateResult:
    """The agreement gate's verdict: passed, macro kappa, threshold, gold calls measured, one-line message."""
    passed: bool
    macro_kappa: float | None
    min_kappa: float
    n_calls: int
    message: str


def gold_set() -> tuple[Path, Path] | None:
    """(labels CSV, transcripts dir) of the gold set: QA_GOLD_LABELS + QA_GOLD_TRANSCRIPTS."""
    labels, transcripts = os.environ.get("QA_GOLD_LABELS"), os.environ.get("QA_GOLD_TRANSCRIPTS")
    if labels and transcripts:
        return Path(labels), Path(transcripts)
    return None


def min_kappa() -> float:
    """The publish gate's threshold: ``QA_MIN_KAPPA`` (default 0.7)."""
    return float(os.environ.get("QA_MIN_KAPPA", "0.7"))


def agreement_gate(rubric, labels_path: Path, transcripts_dir: Path, threshold: float | None = None) -> GateResult:
    """Macro Cohen's kappa of ``rubric`` on the gold calls whose call type it covers."""
    from .calibration import calibrate, load_transcripts, read_labels

    threshold = min_kappa() if threshold is None else threshold
    labels = read_labels(labels_path)
    transcripts = load_transcripts(transcripts_dir, labels)
    name = getattr(rubric, "name", None)
    if name:
        same_type = {cid: t for cid, t in transcripts.items() if t.metadata.get("call_type") == name}
        transcripts = same_type or transcripts
    report = calibrate({cid: labels[cid] for cid in transcripts}, transcripts, rubric)
    k = report.macro_kappa
    ok = k is not None and k >= threshold
    msg = (f"macro kappa {k:.3f} on {report.n_calls} gold calls "
           f"{'meets' if ok else 'is below'} the required {threshold:.2f}") if k is not None else \
        "no gold calls to measure agreement on"
    return GateResult(ok, k, threshold, report.n_calls, msg)


def _ensure_published_dir() -> Path:
    target = config.published_rubrics_dir()
    if not (target.is_dir() and any(target.glob("*.yaml"))):
        target.mkdir(parents=True, exist_ok=True)
        for p in config.bundled_rubrics_dir().glob("*.yaml"):
            shutil.copy2(p, target / p.name)
    return target


def publish_rubric(store, name: str, yaml_text: str, username: str | None, gate: bool = True):
    """Validate and publish ``yaml_text`` as rubric ``name``; returns (Rubric, GateResult|None)."""
    from .rubric import load_rubric, load_rubric_text

    try:
        rub = load_rubric_text(yaml_text, f"{name}.yaml")
    except RubricError as e:
        raise PublishRefused(f"invalid rubric: {e}") from None
    if rub.name != name:
        raise PublishRefused(f"the YAML says rubric {rub.name!r}, not {name!r}")
    try:
        current = load_rubric(name)
        if str(current.version) == str(rub.version):
            raise PublishRefused(f"version {rub.version} is the current one: give the new version a new number")
    except RubricError:
        current = None
    if any(str(v.version) == str(rub.version) and v.status != "draft" for v in store.rubric_versions(name)):
        raise PublishRefused(f"version {rub.version} of {name} was already published")
    result = None
    gs = gold_set()
    if gate and gs is not None:
        result = agreement_gate(rub, *gs)
        if not result.passed:
            raise PublishRefused(f"not published: {result.message}")
    if current is not None and not any(str(v.version) == str(current.version) for v in store.rubric_versions(name)):
        # keep the version being replaced in the history too
        store.save_rubric_version(name, str(current.version), Path(current.path).read_text(encoding="utf-8"),
                                  status="published")
    target = _ensure_published_dir() / f"{name}.yaml"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(yaml_text, encoding="utf-8")
    tmp.replace(target)
    store.save_rubric_version(name, str(rub.version), yaml_text, status="draft")
    store.publish_rubric_version(name, str(rub.version), username)
    return load_rubric(name), result


@dataclass
class PreviewRow:
    """One call of a rubric preview: old and new score and the criteria whose result flips."""
    call_id: str
    old_score: float | None
    new_score: float | None
    flips: list[tuple[str, str, str]]  # (criterion, old result, new result)

    @property
    def delta(self) -> float | None:
        """New minus old score (one decimal), None when either is missing."""
        if self.old_score is None or self.new_score is None:
            return None
        return round(self.new_score - self.old_score, 1)


def preview(store, yaml_text: str, call_ids: list[str], name: str | None = None) -> list[PreviewRow]:
    """Score the chosen stored calls with the current and with the edited rubric; report what changes.
    Nothing is written."""
    from .pipeline import score_transcript
    from .rubric import load_rubric, load_rubric_text

    candidate = load_rubric_text(yaml_text, f"{name or 'rubric'}.yaml")
    try:
        current = load_rubric(candidate.name)
    except RubricError:
        current = None
    rows = []
    for cid in call_ids:
        t = store.load_transcript(cid)
        new = score_transcript(t, candidate)
        old = score_transcript(t, current) if current is not None else None
        before = {c.id: c.result for c in old.criteria} if old else {}
        flips = [(c.id, before.get(c.id, "-"), c.result) for c in new.criteria if before.get(c.id) != c.result]
        rows.append(PreviewRow(cid, old.score if old else None, new.score, flips))
    return rows
