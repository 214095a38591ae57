"""Call-level text classifiers: one decision about a whole call from what each party said.

``applicabilita_identificazione`` learns whether `identificazione` applies to a call (something of
the caller's own is looked up, discussed or changed: CRITERIA.md, "Identification is domain-wide")
from every labelled scripted call of the project: ``tests/data/devset`` and the independent
authors' batches of ``tests/data/rules_fresh``, never the held-out set (``tests/data/heldout``) and
never a LUNA call. It does not score: tried as an override of the rubric's phrase-based
applicability it lowered held-out agreement (BENCHMARKS.md). It is a second opinion for review:
where it and the rubric disagree about whether the criterion applies, the rubric's result is wrong
far more often than elsewhere, so ``qa uncertain`` (``qa.learning.active``) puts those calls first.

The model is an ordinary project model (``qa.learning.learn`` recipe, ``qa train``, a card and the
held-out gate); only its text is a whole call, as ``call_text`` writes it: the call type, then each
word of the agent's turns prefixed ``a_`` and each word of the other party's prefixed ``c_``, so the
same words weigh differently by who says them ("il suo contratto" from the agent, "il mio contratto"
from the caller). ``python -m qa.learning.callmodel`` rewrites its training file
``modelli/dati/applicabilita_identificazione.tsv`` from the labelled sets.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Iterable

# model -> the criterion whose applicability it learns (label "yes": applies, "no": na)
CALL_MODELS = {"applicabilita_identificazione": "identificazione"}
ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests" / "data"
EXCLUDED = ("heldout", "luna_dev")  # held-out and real calls: never training data
# independent batches kept as untouched checks (bench/untouched.py): measured, never trained on
KEPT_OUT = ("rules_fresh/batch26", "rules_fresh/batch27", "rules_fresh/batch28")


def call_text(call_type: str | None, turns: Iterable[tuple[str, str]]) -> str:
    """A call as a call model reads it: ``tipo_<call type>``, the agent's words (``a_`` + word), then
    the other party's (``c_`` + word), each turn as a model condition sees it (lower case, no
    punctuation: ``qa.rubric.context.model_text``)."""
    from ..rubric.context import model_text

    agent, other = [], []
    for speaker, text in turns:
        words = model_text(text).split()
        if speaker == "agent":
            agent += ["a_" + w for w in words]
        else:
            other += ["c_" + w for w in words]
    return " ".join([f"tipo_{call_type or 'ignoto'}"] + agent + other)


def labelled_folders(root: Path = LABELLED) -> list[Path]:
    """The folders of labelled scripted calls a call model learns from (``labels.csv`` beside the
    transcripts), in a fixed order; never the held-out set or LUNA."""
    out = []
    for labels in sorted(root.rglob("labels.csv")):
        rel = labels.parent.relative_to(root).parts
        if rel and rel[0] in EXCLUDED or "annotator" in "/".join(rel) or "/".join(rel) in KEPT_OUT:
            continue
        out.append(labels.parent)
    return out


def folder_rows(name: str, folder: Path) -> list[dict[str, str]]:
    """The rows of call model ``name`` from one labelled folder: text (``call_text``), label yes/no,
    language, group (the call id), one per labelled call that has its transcript."""
    crit = CALL_MODELS[name]
    with (folder / "labels.csv").open(encoding="utf-8", newline="") as fh:
        labels = {r["call_id"]: (r.get(crit) or "").strip() for r in csv.DictReader(fh)}
    rows = []
    for cid, label in sorted(labels.items()):
        path = folder / f"{cid}.json"
        if label not in ("pass", "fail", "na") or not path.exists():
            continue
        d = json.loads(path.read_text(encoding="utf-8"))
        turns = [(s.get("speaker", ""), s.get("text", "")) for s in d.get("segments", [])]
        rows.append({"text": call_text((d.get("metadata") or {}).get("call_type"), turns),
                     "label": "no" if label == "na" else "yes", "lang": d.get("language", ""), "group": cid})
    return rows


def training_rows(name: str, root: Path = LABELLED) -> list[dict[str, str]]:
    """The training rows of call model ``name``: ``folder_rows`` of every labelled folder."""
    return [r for folder in labelled_folders(root) for r in folder_rows(name, folder)]


def write_training_data(name: str, out: Path | None = None, root: Path = LABELLED) -> Path:
    """Write ``modelli/dati/<name>.tsv`` (or ``out``) from the labelled sets; the path."""
    from ..config import models_dir

    out = out or models_dir() / "dati" / f"{name}.tsv"
    rows = training_rows(name, root)
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["text", "label", "lang", "group"], delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return out


if __name__ == "__main__":
    for model in sys.argv[1:] or sorted(CALL_MODELS):
        p = write_training_data(model)
        print(f"{model}: {sum(1 for _ in p.open(encoding='utf-8')) - 1} calls -> {p}")
