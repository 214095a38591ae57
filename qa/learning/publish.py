"""Publishing a rubric version: validate, refuse an unchanged or reused version, apply the
agreement gate (the candidate against the current rubric on held-out labelled calls), write it
where the engine reads rubrics, record it in the store.

The bundled ``rubriche/`` are never modified: the first publication copies them to
``$QA_DATA_DIR/rubriche`` (which ``qa.config.rubrics_dir`` then prefers) and writes the new
version there. Re-scoring stored calls is a separate step (``qa rescore`` or the dashboard's
background job, both ``qa.ingest.rescore`` over ``qa.pipeline.score_each``) so that the
publication itself is instant.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..errors import GateRefused, RubricError


class PublishRefused(GateRefused):
    """The rubric version may not go live (invalid, reused version, or worse than the current one on held-out calls)."""


# The publish gate's tolerances: the candidate may lose at most this much macro kappa, and at most
# CRITERION_DROP kappa on any one criterion, against the current rubric on the held-out calls.
MACRO_TOLERANCE = 0.02
CRITERION_DROP = 0.10
# the project's own held-out sets, in a source checkout: frozen, never tuned on (tests/data/*/README.md)
BUNDLED_HELDOUT = (Path(__file__).resolve().parents[2] / "tests" / "data" / "heldout",
                   Path(__file__).resolve().parents[2] / "tests" / "data" / "luna_dev")


@dataclass
class HeldOutSet:
    """Labelled calls never used for tuning: labels (call id -> criterion -> pass/fail/na) and transcripts."""
    name: str
    labels: dict
    transcripts: dict


@dataclass
class GateResult:
    """The agreement gate's verdict: candidate against the current rubric on held-out calls.

    ``macro_kappa`` / ``current_macro_kappa``: the candidate's and the current rubric's macro kappa
    (None where nothing could be measured); ``drops``: criteria whose kappa fell by more than the
    tolerance, (criterion, current, candidate); ``message``: one line; ``difference_ci``: the 95 %
    paired bootstrap interval of the macro kappa change (``qa.learning.intervals``), how sure the
    change is on so many calls (the verdict itself follows the tolerances)."""
    passed: bool
    macro_kappa: float | None
    current_macro_kappa: float | None
    n_calls: int
    message: str
    drops: list = field(default_factory=list)
    difference_ci: tuple[float, float] | None = None


def gold_set() -> tuple[Path, Path] | None:
    """(labels CSV, transcripts dir) of a site's own gold set: QA_GOLD_LABELS + QA_GOLD_TRANSCRIPTS."""
    labels, transcripts = os.environ.get("QA_GOLD_LABELS"), os.environ.get("QA_GOLD_TRANSCRIPTS")
    if labels and transcripts:
        return Path(labels), Path(transcripts)
    return None


def min_kappa() -> float:
    """The training gate's fixed threshold: ``QA_MIN_KAPPA`` (default 0.7). The publish gate compares
    with the current rubric instead."""
    return float(os.environ.get("QA_MIN_KAPPA", "0.7"))


def _tolerance(env: str, default: float) -> float:
    value = os.environ.get(env)
    if value is None or not value.strip():
        return default
    try:
        return float(value)
    except ValueError:
        raise PublishRefused(f"{env}={value!r} is not a number") from None


def _read_set(folder: Path) -> HeldOutSet:
    """A held-out set folder: ``labels.csv``; transcripts in ``transcripts/`` or beside it; with a
    ``split.csv`` (call_id, split) only its ``heldout`` calls."""
    import csv

    from .calibration import load_transcripts, read_labels

    labels = read_labels(folder / "labels.csv")
    split = folder / "split.csv"
    if split.is_file():
        with split.open(encoding="utf-8", newline="") as fh:
            keep = {row["call_id"].strip() for row in csv.DictReader(fh) if row.get("split", "").strip() == "heldout"}
        labels = {cid: row for cid, row in labels.items() if cid in keep}
    tdir = folder / "transcripts" if (folder / "transcripts").is_dir() else folder
    return HeldOutSet(folder.name, labels, load_transcripts(tdir, labels))


def heldout_sets() -> list[HeldOutSet]:
    """The held-out data the publish gate measures on.

    ``QA_HELDOUT_SETS``: folders (separated by ``os.pathsep``) each holding ``labels.csv`` and the
    transcripts (see ``_read_set``); unset: the project's own frozen held-out sets where they are
    (``tests/data/heldout``; the ``heldout`` split of ``tests/data/luna_dev``); set but empty: none.
    A site's own gold set (QA_GOLD_LABELS + QA_GOLD_TRANSCRIPTS) is added when given."""
    env = os.environ.get("QA_HELDOUT_SETS")
    if env is None:
        folders = [f for f in BUNDLED_HELDOUT if (f / "labels.csv").is_file()]
    else:
        folders = [Path(p) for p in env.split(os.pathsep) if p.strip()]
    out = []
    for f in folders:
        if not (f / "labels.csv").is_file():
            raise PublishRefused(f"held-out set {f}: no labels.csv")
        out.append(_read_set(f))
    gs = gold_set()
    if gs is not None:
        from .calibration import load_transcripts, read_labels

        labels = read_labels(gs[0])
        out.append(HeldOutSet("gold", labels, load_transcripts(gs[1], labels)))
    return out


def _agreement(labels: dict, evaluations: dict) -> tuple[dict, float | None, dict]:
    """Per criterion (kappa where the gold labels have two or more classes, else None; accuracy), macro
    kappa, and each criterion's (call, label, result) pairs."""
    from .calibration import compare

    crits = sorted({c for row in labels.values() for c in row})
    per, pairs = {}, {}
    for ca in compare(labels, evaluations, crits):
        classes = {labels[cid][ca.criterion] for cid in labels if ca.criterion in labels[cid] and cid in evaluations}
        per[ca.criterion] = (ca.kappa if len(classes) >= 2 else None, ca.accuracy, ca.n)
        pairs[ca.criterion] = ca.pairs
    ks = [k for k, _, n in per.values() if k is not None and n]
    return per, (round(sum(ks) / len(ks), 4) if ks else None), pairs


def _declared_type(t) -> str | None:
    """The call type a transcript's metadata declares (None: none, or not one of config.CALL_TYPES)."""
    ct = t.metadata.get("call_type")
    ct = ct.strip().lower() if isinstance(ct, str) else None
    return ct if ct in config.CALL_TYPES else None


def agreement_gate(rubric, sets: list[HeldOutSet] | None = None, macro_tolerance: float | None = None,
                   criterion_drop: float | None = None) -> GateResult:
    """Compare the candidate ``rubric`` with the current published rubric of the same name on the
    held-out calls it would score (those whose call type, declared or inferred, is the rubric's).

    Refused when the candidate's macro kappa (mean over the criteria whose gold labels have two or
    more classes) is more than ``macro_tolerance`` (``QA_GATE_MACRO_TOLERANCE``, default 0.02)
    below the current one's, or when any criterion's kappa (its accuracy where the gold labels have
    one class) falls by more than ``criterion_drop`` (``QA_GATE_CRITERION_DROP``, default 0.10).
    A new rubric (no current one) or no held-out call of its type: passed, and the message says so."""
    from ..rubric import load_rubric, score_transcripts

    macro_tolerance = _tolerance("QA_GATE_MACRO_TOLERANCE", MACRO_TOLERANCE) if macro_tolerance is None \
        else macro_tolerance
    criterion_drop = _tolerance("QA_GATE_CRITERION_DROP", CRITERION_DROP) if criterion_drop is None else criterion_drop
    sets = heldout_sets() if sets is None else sets
    name = rubric.name
    try:
        current = load_rubric(name)
    except RubricError:
        return GateResult(True, None, None, 0, f"no current rubric {name!r} to compare with: gate not applied")
    labels: dict = {}
    source: dict = {}
    transcripts = []
    for s in sets:
        for cid, t in s.transcripts.items():
            if cid in s.labels and cid not in labels:
                labels[cid] = s.labels[cid]
                source[cid] = s.name
                transcripts.append(t)
    if not transcripts:
        return GateResult(True, None, None, 0, "no held-out labelled calls: gate not applied")
    # calls declaring another call type are not this rubric's; the others are scored as in production
    # (each by its call type's rubric, inferred where not declared): the current rubric's evaluations
    transcripts = [t for t in transcripts if _declared_type(t) in (None, name)]
    cur = {e.call_id: e for e in score_transcripts(transcripts) if e.rubric == name}
    if not cur:
        return GateResult(True, None, None, 0, f"no held-out call of call type {name!r}: gate not applied")
    mine = [t for t in transcripts if t.call_id in cur]
    cand = {e.call_id: e for e in score_transcripts(mine, rubric)}
    labels = {cid: labels[cid] for cid in cur}
    from .intervals import format_interval, macro_difference_interval

    per_cur, k_cur, pairs_cur = _agreement(labels, cur)
    per_new, k_new, pairs_new = _agreement(labels, cand)
    in_macro = [c for c, (k, _, n) in per_cur.items() if k is not None and n]
    diff_ci = macro_difference_interval(pairs_cur, pairs_new, in_macro)
    change = "" if diff_ci is None or k_cur is None or k_new is None else \
        f" (change {k_new - k_cur:+.3f}, 95 % interval {format_interval(diff_ci)})"
    drops = []
    for c, (kc, ac, n) in per_cur.items():
        kn, an, _ = per_new.get(c, (None, 0.0, 0))
        before, after = (kc, kn) if kc is not None and kn is not None else (ac, an)
        if n and before - after > criterion_drop + 1e-9:
            drops.append((c, before, after))
    used = [s.name for s in sets if any(source[cid] == s.name for cid in cur)]
    where = f"on {len(mine)} held-out calls ({', '.join(used)})"
    if k_cur is not None and (k_new is None or k_cur - k_new > macro_tolerance + 1e-9):
        msg = (f"macro kappa {k_new} vs {k_cur} for the current version{change} {where}: it drops more than "
               f"{macro_tolerance}")
        if drops:
            msg += "; " + ", ".join(f"{c} {a:.3f} -> {b:.3f}" for c, a, b in drops)
        return GateResult(False, k_new, k_cur, len(mine), msg, drops, diff_ci)
    if drops:
        msg = (f"{', '.join(f'{c} {a:.3f} -> {b:.3f}' for c, a, b in drops)} {where}: a criterion drops more than "
               f"{criterion_drop} against the current version (macro kappa {k_new} vs {k_cur}{change})")
        return GateResult(False, k_new, k_cur, len(mine), msg, drops, diff_ci)
    return GateResult(True, k_new, k_cur, len(mine),
                      f"macro kappa {k_new} vs {k_cur} for the current version{change} {where}: no criterion drops "
                      f"more than {criterion_drop}", [], diff_ci)


def _ensure_published_dir() -> Path:
    target = config.published_rubrics_dir()
    if not (target.is_dir() and any(target.glob("*.yaml"))):
        target.mkdir(parents=True, exist_ok=True)
        for p in config.bundled_rubrics_dir().glob("*.yaml"):
            shutil.copy2(p, target / p.name)
    return target


def publish_rubric(store, name: str, yaml_text: str, username: str | None, gate: bool = True):
    """Validate and publish ``yaml_text`` as rubric ``name``; returns (Rubric, GateResult|None)."""
    from ..rubric import load_rubric, load_rubric_text

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
    if gate:
        sets = heldout_sets()
        if sets:
            result = agreement_gate(rub, sets)
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
    from ..pipeline import score_transcript
    from ..rubric import load_rubric, load_rubric_text

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
