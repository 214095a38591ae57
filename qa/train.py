"""`qa train`: (re)train the project's turn-level models from the data it ships.

Every model is named after what it predicts; its training data is ``modelli/dati/<name>.tsv``
and/or ``modelli/dati/<name>_*.tsv`` (header ``text, label, lang, group``). Extra data (e.g.
exported from human reviews) can be added with ``extra``; ``replace_data`` trains on that data
alone (how a deliberately worse training set is shown to be refused). The held-out split of the
project's own data is the gate: see ``qa.learn.train``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import learn
from .config import models_dir
from .errors import ModelError

DESCRIPTIONS = {
    "ruoli": "agent vs customer: who said this turn (mono recordings)",
    "comprensione": "the agent checks or confirms understanding of the customer's need (CRITERIA: comprensione)",
    "riepilogo": "the agent summarises what was discussed or agreed (CRITERIA: riepilogo)",
    "prossimi_passi": "the agent states a concrete next step, deadline or channel (CRITERIA: prossimi_passi)",
    "empatia": "the agent acknowledges dissatisfaction with empathy (CRITERIA: empatia)",
    "conferma_risoluzione": "the agent asks whether the request is resolved (CRITERIA: conferma_risoluzione)",
    "tipo_chiamata": "call type from the opening of a call: acquisizione/assistenza/fidelizzazione/riacquisizione",
    "sentimento": "sentiment of one turn: negative/neutral/positive",
}


def data_files(name: str, data_dir: Path | None = None) -> list[Path]:
    d = data_dir or models_dir() / "dati"
    return sorted({*d.glob(f"{name}.tsv"), *d.glob(f"{name}_*.tsv")})


def available_models(data_dir: Path | None = None) -> list[str]:
    d = data_dir or models_dir() / "dati"
    names = set()
    for p in d.glob("*.tsv"):
        stem = p.stem
        for known in DESCRIPTIONS:
            if stem == known or stem.startswith(known + "_"):
                names.add(known)
    return sorted(names)


@dataclass
class TrainOutcome:
    name: str
    ok: bool
    message: str
    card: dict[str, Any] | None = None


def store_examples(store, names: Iterable[str]) -> dict[str, list[learn.Example]]:
    """Turn-level examples from human reviews in the store: the evidence turns of a result the
    tool passed become ``yes`` when a human confirmed the pass and ``no`` when a human overrode
    it to fail (a fail has no turn to learn from). One group per call."""
    from .store.labels import latest_reviews

    out: dict[str, list[learn.Example]] = {}
    for row in latest_reviews(store, criteria=names):  # the newest review of each call x criterion
        if row["auto_result"] != "pass" or row["new_result"] not in ("pass", "fail"):
            continue
        label = "yes" if row["new_result"] == "pass" else "no"
        for e in row["evidence"] or []:
            if e.get("speaker") == "agent" and e.get("text"):
                out.setdefault(row["criterion_id"], []).append(
                    learn.Example(e["text"], label, row["language"] or "", f"store:{row['call_id']}"))
    return out


def gold_kappa(models_dir: Path, labels: Path, transcripts: Path) -> float | None:
    """Macro Cohen's kappa of the shipped rubrics on a gold set, with the models of ``models_dir``."""
    from .calibration import calibrate, load_transcripts, read_labels

    with learn.models_from(models_dir):
        gold = read_labels(labels)
        return calibrate(gold, load_transcripts(transcripts, gold)).macro_kappa


def train_models(names: Iterable[str] | None = None, extra: Iterable[str | Path] = (),
                 replace_data: str | Path | None = None, force: bool = False,
                 out_dir: str | Path | None = None, store=None,
                 gold: tuple[Path, Path] | None = None, min_kappa: float | None = None) -> list[TrainOutcome]:
    """Train candidates in a staging copy of the model folder; a candidate goes live only if it
    does at least as well as the current model on the held-out split and, with a gold set, the
    rubrics using it keep a macro kappa >= ``min_kappa``."""
    import shutil
    import tempfile

    names = list(names) if names else available_models()
    if not names:
        raise ModelError("no training data found in modelli/dati/")
    live = Path(out_dir) if out_dir else models_dir()
    from_store = store_examples(store, names) if store is not None else {}
    outcomes = []
    for name in names:
        files = data_files(name)
        if not files:
            raise ModelError(f"no training data for model {name!r} (expected modelli/dati/{name}.tsv or {name}_*.tsv)")
        examples = [e for f in files for e in learn.read_examples(f)]
        fit, held = learn.split_holdout(examples)
        if replace_data:
            fit = learn.read_examples(replace_data)
        fit += [e for f in extra for e in learn.read_examples(f)]
        fit += from_store.get(name, [])
        with tempfile.TemporaryDirectory(prefix="qa-train-") as tmp:
            staging = Path(tmp) / "modelli"
            shutil.copytree(live, staging, ignore=shutil.ignore_patterns("dati"))
            try:
                card = learn.train(name, fit, DESCRIPTIONS.get(name, ""), out_dir=staging, holdout=held, force=force,
                                   extra_card={"data_files": [f.name for f in files],
                                               "store_examples": len(from_store.get(name, []))})
            except learn.ModelRefused as e:
                outcomes.append(TrainOutcome(name, False, str(e)))
                continue
            gate = ""
            if gold is not None:
                threshold = 0.7 if min_kappa is None else min_kappa
                k = gold_kappa(staging, *gold)
                if k is None or k < threshold:
                    outcomes.append(TrainOutcome(name, False, f"model {name!r} not published: macro kappa on the gold "
                                                              f"set would be {k} (< {threshold})"))
                    continue
                card["gold_macro_kappa"] = k
                (staging / f"{name}.card.json").write_text(__import__("json").dumps(card, ensure_ascii=False, indent=1)
                                                           + "\n", encoding="utf-8")
                gate = f", gold macro kappa {k:.3f}"
            for suffix in (".joblib", ".card.json"):
                tmpfile = live / f".{name}{suffix}.tmp"
                shutil.copy2(staging / f"{name}{suffix}", tmpfile)
                tmpfile.replace(live / f"{name}{suffix}")
            learn.load_model.cache_clear()
        acc = card["holdout"]["accuracy"]
        outcomes.append(TrainOutcome(name, True, f"trained on {card['data_size']} examples, held-out accuracy "
                                                 f"{acc:.1%} on {card['holdout_size']}{gate}", card))
    return outcomes
