"""Agreement between the tool and human evaluators, criterion by criterion.

Labels are ``pass``/``fail``/``na`` per criterion and call (LABELS.csv: ``call_id`` then one
column per criterion id; an empty cell means "not labelled"). For every criterion we report
accuracy, Cohen's kappa (scikit-learn), the confusion matrix and the calls where the tool and
the human disagree, with the tool's evidence, so a QA lead can see *why*.

Calibration sessions: two or more human evaluators label the same calls; human-vs-human kappa
(mean over pairs) is reported beside tool-vs-human kappa (tool vs the humans' majority).
"""

from __future__ import annotations

import csv
import itertools
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import QAError
from ..model import Evaluation, Transcript

LABELS = ("pass", "fail", "na")

Labels = dict[str, dict[str, str]]  # call_id -> criterion -> label


class LabelsError(QAError):
    """A labels CSV that cannot be used."""


def read_labels(path: str | Path) -> Labels:
    """Read LABELS.csv; every problem is one line naming file and row."""
    path = Path(path)
    if not path.is_file():
        raise LabelsError("labels file not found", str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LabelsError("not a UTF-8 CSV file", str(path)) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not rows[0] or rows[0][0].strip() != "call_id":
        raise LabelsError("the first column of the header must be 'call_id'", str(path))
    header = [h.strip() for h in rows[0]]
    if len(header) < 2:
        raise LabelsError("no criterion columns after 'call_id'", str(path))
    if len(set(header)) != len(header):
        raise LabelsError("duplicate column in header", str(path))
    out: Labels = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise LabelsError(f"line {lineno}: {len(row)} cells, header has {len(header)}", str(path))
        call_id = row[0].strip()
        if not call_id:
            raise LabelsError(f"line {lineno}: empty call_id", str(path))
        if call_id in out:
            raise LabelsError(f"line {lineno}: call_id {call_id!r} appears twice", str(path))
        labels = {}
        for crit, cell in zip(header[1:], row[1:]):
            value = cell.strip().lower()
            if not value:
                continue
            if value not in LABELS:
                raise LabelsError(f"line {lineno}: {crit} = {cell!r}, expected pass, fail or na", str(path))
            labels[crit] = value
        out[call_id] = labels
    if not out:
        raise LabelsError("no labelled calls", str(path))
    return out


@dataclass
class Disagreement:
    """One call where the tool and the human disagree on a criterion, with the tool's evidence."""

    call_id: str
    criterion: str
    human: str
    tool: str
    evidence: list[dict] = field(default_factory=list)
    feedback: str = ""


@dataclass
class CriterionAgreement:
    """Agreement of the tool with the human labels on one criterion."""

    criterion: str
    n: int
    accuracy: float
    kappa: float | None
    confusion: dict[str, dict[str, int]]  # human label -> tool label -> count
    disagreements: list[Disagreement] = field(default_factory=list)
    human_kappa: float | None = None  # mean pairwise human-vs-human kappa (calibration sessions)
    accuracy_ci: tuple[float, float] | None = None  # 95 % Wilson interval (qa.learning.intervals)
    kappa_ci: tuple[float, float] | None = None  # 95 % bootstrap interval over calls, set by the report
    pairs: list[tuple[str, str, str]] = field(default_factory=list, repr=False)  # (call, human, tool), all of them

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``qa calibrate --json``)."""
        return {
            "criterion": self.criterion, "n": self.n, "accuracy": self.accuracy, "kappa": self.kappa,
            "accuracy_ci": self.accuracy_ci, "kappa_ci": self.kappa_ci,
            "human_kappa": self.human_kappa, "confusion": self.confusion,
            "disagreements": [d.__dict__ for d in self.disagreements],
        }


def kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels (same calls, same order), rounded to 4 decimals; None
    without data. The project's one kappa: ``qa calibrate``, the dashboard's calibration page,
    bench/agreement.py, bench/calibration.py and CI's agreement gate all call this.

    scikit-learn's ``cohen_kappa_score`` over pass/fail/na and any other value the raters used
    (such as bench/agreement.py's ``missing`` for a criterion the engine left out: a label of its
    own, so a disagreement; labels nobody used change nothing). Where kappa is undefined, both
    raters having used one and the same label (perfect agreement, no chance correction
    possible), it is 1.0 (``replace_undefined_by=1.0``)."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score

    if len(a) != len(b):
        raise ValueError(f"kappa needs two label lists of the same length, got {len(a)} and {len(b)}")
    if not a:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # the one-label case, answered 1.0
        value = cohen_kappa_score(list(a), list(b), labels=sorted({*LABELS, *a, *b}),
                                  replace_undefined_by=1.0)
    return round(float(value), 4)


def agreement_for(criterion: str, pairs: list[tuple[str, str, str, list[dict], str]],
                  max_examples: int = 50) -> CriterionAgreement:
    """Agreement of one criterion from (call_id, human, tool, tool evidence, tool feedback) tuples."""
    conf = {h: {t: 0 for t in LABELS} for h in LABELS}
    dis = []
    for call_id, h, tl, evidence, feedback in pairs:
        conf[h][tl] += 1
        if h != tl:
            dis.append(Disagreement(call_id, criterion, h, tl, evidence, feedback))
    from .intervals import accuracy_interval

    n = len(pairs)
    right = sum(1 for p in pairs if p[1] == p[2])
    acc = round(right / n, 4) if n else 0.0
    return CriterionAgreement(criterion, n, acc, kappa([p[1] for p in pairs], [p[2] for p in pairs]), conf,
                              dis[:max_examples], accuracy_ci=accuracy_interval(right, n),
                              pairs=[(p[0], p[1], p[2]) for p in pairs])


def compare(human: Labels, tool: Mapping[str, Evaluation], criteria: Iterable[str] | None = None,
            max_examples: int = 50) -> list[CriterionAgreement]:
    """Per-criterion agreement of the tool's evaluations with human labels."""
    crits = list(criteria) if criteria is not None else sorted({c for lab in human.values() for c in lab})
    out = []
    for crit in crits:
        pairs = []
        for call_id, labs in human.items():
            if crit not in labs or call_id not in tool:
                continue
            res = tool[call_id].result(crit)
            if res is None:
                continue
            pairs.append((call_id, labs[crit], res.result, [e.to_dict() for e in res.evidence], res.feedback))
        out.append(agreement_for(crit, pairs, max_examples))
    return out


def from_store(store, since=None) -> CalibrationReport:
    """Tool vs human from the store: every human review (override, or a decided dispute that
    became one) of a current criterion result is a label; the tool's side is the automatic result."""
    from ..store.labels import latest_reviews

    latest = latest_reviews(store, current_only=True, since=since)  # the newest review of each call x criterion
    by_crit: dict[str, list] = {}
    for row in latest:
        by_crit.setdefault(row["criterion_id"], []).append(
            (row["call_id"], row["new_result"], row["auto_result"], list(row["evidence"] or []), row["feedback"] or ""))
    crits = [agreement_for(c, pairs) for c, pairs in sorted(by_crit.items())]
    return CalibrationReport(crits, len({row["call_id"] for row in latest}), [], None)


def majority(label_sets: list[Labels]) -> Labels:
    """Per call and criterion, the most common human label (ties: the first annotator's)."""
    out: Labels = {}
    for call_id in set().union(*[ls.keys() for ls in label_sets]):
        crits = set().union(*[ls.get(call_id, {}).keys() for ls in label_sets])
        merged = {}
        for crit in crits:
            votes = [ls[call_id][crit] for ls in label_sets if crit in ls.get(call_id, {})]
            top = Counter(votes).most_common()
            best = [v for v, c in top if c == top[0][1]]
            merged[crit] = votes[0] if votes[0] in best else best[0]
        out[call_id] = merged
    return out


def human_agreement(label_sets: list[Labels]) -> dict[str, float | None]:
    """Mean pairwise Cohen's kappa between human evaluators, per criterion."""
    crits = sorted({c for ls in label_sets for labs in ls.values() for c in labs})
    out: dict[str, float | None] = {}
    for crit in crits:
        ks = []
        for a, b in itertools.combinations(label_sets, 2):
            common = [cid for cid in a if cid in b and crit in a[cid] and crit in b[cid]]
            k = kappa([a[c][crit] for c in common], [b[c][crit] for c in common])
            if k is not None:
                ks.append(k)
        out[crit] = round(sum(ks) / len(ks), 4) if ks else None
    return out


def load_transcripts(directory: str | Path, call_ids: Iterable[str] | None = None) -> dict[str, Transcript]:
    """Transcripts of a directory by call_id (``*.json``, evaluation files skipped)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise QAError("transcripts directory not found", str(directory))
    wanted = set(call_ids) if call_ids is not None else None
    out = {}
    for p in sorted(directory.glob("*.json")):
        if p.name.endswith(".eval.json"):
            continue
        t = Transcript.load(p)
        if wanted is None or t.call_id in wanted:
            out[t.call_id] = t
    return out


@dataclass
class CalibrationReport:
    """Agreement per criterion over a set of labelled calls (``qa calibrate``, the dashboard)."""

    criteria: list[CriterionAgreement]
    n_calls: int
    missing: list[str]  # labelled calls without a transcript
    rubric: str | None = None

    @property
    def macro_kappa(self) -> float | None:
        """Mean kappa over the criteria with data; None without any."""
        ks = [c.kappa for c in self.criteria if c.kappa is not None and c.n]
        return round(sum(ks) / len(ks), 4) if ks else None

    @property
    def macro_kappa_ci(self) -> tuple[float, float] | None:
        """95 % bootstrap interval of the macro kappa (calls resampled, ``qa.learning.intervals``); computing
        it also sets each criterion's ``kappa_ci``."""
        if not hasattr(self, "_macro_ci"):
            from .intervals import kappa_intervals

            with_data = [c for c in self.criteria if c.kappa is not None and c.n]
            per, self._macro_ci = kappa_intervals({c.criterion: c.pairs for c in with_data})
            for c in with_data:
                c.kappa_ci = per.get(c.criterion)
        return self._macro_ci

    @property
    def macro_accuracy(self) -> float | None:
        """Mean accuracy over the criteria with data; None without any."""
        accs = [c.accuracy for c in self.criteria if c.n]
        return round(sum(accs) / len(accs), 4) if accs else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``qa calibrate --json``)."""
        macro_ci = self.macro_kappa_ci  # first: it sets each criterion's kappa_ci
        return {"n_calls": self.n_calls, "rubric": self.rubric, "macro_accuracy": self.macro_accuracy,
                "macro_kappa": self.macro_kappa, "macro_kappa_ci": macro_ci,
                "missing_transcripts": self.missing,
                "criteria": [c.to_dict() for c in self.criteria]}

    def to_text(self, show_disagreements: int = 20) -> str:
        """The table printed by ``qa calibrate``, then up to ``show_disagreements`` disagreements."""
        from .intervals import format_interval

        macro_ci = self.macro_kappa_ci  # sets each criterion's kappa_ci
        lines = [f"{'criterion':<22} {'n':>4} {'accuracy':>9} {'95 % interval':>16} {'kappa':>7} "
                 f"{'95 % interval':>15} {'human κ':>8}"]
        for c in self.criteria:
            k = "-" if c.kappa is None else f"{c.kappa:.3f}"
            hk = "-" if c.human_kappa is None else f"{c.human_kappa:.3f}"
            lines.append(f"{c.criterion:<22} {c.n:>4} {c.accuracy:>8.1%} {format_interval(c.accuracy_ci, True):>16} "
                         f"{k:>7} {format_interval(c.kappa_ci):>15} {hk:>8}")
        lines.append(f"{'macro':<22} {self.n_calls:>4} {self.macro_accuracy or 0:>8.1%} {'':>16} "
                     f"{'-' if self.macro_kappa is None else format(self.macro_kappa, '.3f'):>7} "
                     f"{format_interval(macro_ci):>15}")
        lines.append("95 % intervals: accuracy Wilson, kappa bootstrap over calls: with few calls one call moves "
                     "a figure a lot")
        dis = [d for c in self.criteria for d in c.disagreements]
        if dis:
            lines.append("")
            lines.append(f"disagreements ({len(dis)}):")
            for d in dis[:show_disagreements]:
                ev = d.evidence[0] if d.evidence else None
                why = (f'evidence {ev["speaker"]} {ev["start"]:.1f}s "{ev["text"][:70]}"' if ev
                       else f"feedback: {d.feedback[:80]}")
                lines.append(f"  {d.call_id}  {d.criterion}: human {d.human}, tool {d.tool} — {why}")
            if len(dis) > show_disagreements:
                lines.append(f"  … {len(dis) - show_disagreements} more (use --json for all)")
        if self.missing:
            lines.append(f"labelled calls without a transcript: {len(self.missing)} ({', '.join(self.missing[:5])}…)")
        return "\n".join(lines)


def calibrate(labels: Labels, transcripts: Mapping[str, Transcript], rubric: Any = None,
              extra_label_sets: list[Labels] | None = None) -> CalibrationReport:
    """Score the labelled transcripts and compare with the labels (or the humans' majority)."""
    from ..rubric import load_rubric, score_transcript

    rub = load_rubric(rubric) if isinstance(rubric, (str, Path)) else rubric
    label_sets = [labels] + list(extra_label_sets or [])
    gold = majority(label_sets) if len(label_sets) > 1 else labels
    evals = {cid: score_transcript(transcripts[cid], rub) for cid in gold if cid in transcripts}
    crits = sorted({c for lab in gold.values() for c in lab})
    report = CalibrationReport(compare(gold, evals, crits), len(evals),
                               sorted(cid for cid in gold if cid not in transcripts),
                               getattr(rub, "name", None) if rub is not None else None)
    if len(label_sets) > 1:
        hk = human_agreement(label_sets)
        for c in report.criteria:
            c.human_kappa = hk.get(c.criterion)
    return report
