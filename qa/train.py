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


def train_models(names: Iterable[str] | None = None, extra: Iterable[str | Path] = (),
                 replace_data: str | Path | None = None, force: bool = False,
                 out_dir: str | Path | None = None) -> list[TrainOutcome]:
    names = list(names) if names else available_models()
    if not names:
        raise ModelError("no training data found in modelli/dati/")
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
        try:
            card = learn.train(name, fit, DESCRIPTIONS.get(name, ""), out_dir=out_dir, holdout=held, force=force,
                               extra_card={"data_files": [f.name for f in files]})
        except learn.ModelRefused as e:
            outcomes.append(TrainOutcome(name, False, str(e)))
            continue
        acc = card["holdout"]["accuracy"]
        outcomes.append(TrainOutcome(name, True, f"trained on {card['data_size']} examples, held-out accuracy "
                                                 f"{acc:.1%} on {card['holdout_size']}", card))
    return outcomes
