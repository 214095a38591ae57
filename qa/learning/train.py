"""`qa train`: (re)train the project's turn-level models from the data it ships.

Every model is named after what it predicts; its training data is ``modelli/dati/<name>.tsv``,
``modelli/dati/<name>_*.tsv`` and, in the sub-folders of ``modelli/dati/`` (``spont/``: spontaneous,
disfluent, ASR-style turns of six service domains), ``<sub>/<name>_*.tsv`` (header ``text, label,
lang, group``). Extra data (e.g. exported from human reviews) can be added with ``extra``;
``replace_data`` trains on that data alone (how a deliberately worse training set is shown to be
refused).

Two gates, both against the CURRENT model, never against a fixed figure:
1. turn level: the held-out split of the project's own data (grouped by call/dialogue, see
   ``qa.learning.learn.split_holdout``); a candidate less accurate there than the current model is refused;
2. call level, with gold sets (``gold``: labelled calls never used for tuning): a candidate that
   lowers the rubrics' macro kappa on any of them below the current model's is refused.
The feature set (``tfidf`` or ``tfidf+e5``) and the cascade gate are kept from the current model's
card unless given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import learn
from .learn import data_files
from ..config import models_dir
from ..errors import ModelError

DESCRIPTIONS = {
    "ruoli": "agent vs customer: who said this turn (mono recordings)",
    "comprensione": "the agent checks or confirms understanding of the customer's need (CRITERIA: comprensione)",
    "riepilogo": "the agent summarises what was discussed or agreed (CRITERIA: riepilogo)",
    "prossimi_passi": "the agent states a concrete next step, deadline or channel (CRITERIA: prossimi_passi)",
    "empatia": "the agent acknowledges dissatisfaction with empathy (CRITERIA: empatia)",
    "conferma_risoluzione": "the agent asks whether the request is resolved (CRITERIA: conferma_risoluzione)",
    "tipo_chiamata": "call type from the opening of a call: acquisizione/assistenza/fidelizzazione/riacquisizione",
    "sentimento": "sentiment of one turn: negative/neutral/positive",
    # a call model (qa.learning.callmodel): its text is a whole call, as call_text writes it
    "applicabilita_identificazione": "does identificazione apply to the call: something of the caller's own looked up, "
                                     "discussed or changed (yes/no; CRITERIA: identificazione, domain-wide)",
}


# the models a rubric asks about agent turns: their text is what a model condition sees of a turn
# (``qa.rubric.context.model_text``: lower case, no punctuation), in training as in scoring
TURN_MODELS = ("comprensione", "riepilogo", "prossimi_passi", "empatia", "conferma_risoluzione")


def read_data(name: str, files: Iterable[Path]) -> list[learn.Example]:
    """The examples of ``files``; for a turn model, each text as a model condition sees it."""
    examples = [e for f in files for e in learn.read_examples(f)]
    if name in TURN_MODELS:
        from ..rubric.context import model_text

        examples = [learn.Example(model_text(e.text), e.label, e.lang, e.group) for e in examples]
        examples = [e for e in examples if e.text]
    return examples


def current_card(name: str, directory: Path) -> dict[str, Any]:
    """The model card ``<name>.card.json`` in ``directory`` as a dict; an empty dict when it is missing or
    unreadable."""
    import json

    p = directory / f"{name}.card.json"
    try:
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
    except (OSError, ValueError):
        return {}


def available_models(data_dir: Path | None = None) -> list[str]:
    """The known models (``DESCRIPTIONS``) with at least one ``<name>.tsv`` or ``<name>_*.tsv`` directly in
    the data folder (default ``modelli/dati``), sorted."""
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
    """What training one model came to: ``name``, ``ok`` (False when the candidate was refused and nothing
    was published), a one-line ``message`` and, when published, the new model's ``card``."""

    name: str
    ok: bool
    message: str
    card: dict[str, Any] | None = None


def store_examples(store, names: Iterable[str]) -> dict[str, list[learn.Example]]:
    """Turn-level examples from human reviews in the store: the evidence turns of a result the
    tool passed become ``yes`` when a human confirmed the pass and ``no`` when a human overrode
    it to fail (a fail has no turn to learn from). One group per call."""
    from ..store.labels import latest_reviews

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


def gold_labels(labels: Path) -> dict:
    """A gold set's labels; when a ``split.csv`` (call_id, split) lies beside them, only the calls of
    split ``heldout`` (the others may have been used for tuning)."""
    import csv

    from .calibration import read_labels

    gold = read_labels(labels)
    split = Path(labels).with_name("split.csv")
    if split.exists():
        with split.open(encoding="utf-8", newline="") as fh:
            held = {r["call_id"] for r in csv.DictReader(fh) if (r.get("split") or "").strip() == "heldout"}
        gold = {cid: row for cid, row in gold.items() if cid in held}
    return gold


def gold_kappa(models_dir: Path, labels: Path, transcripts: Path) -> float | None:
    """Macro Cohen's kappa of the shipped rubrics on a gold set, with the models of ``models_dir``."""
    from .calibration import calibrate, load_transcripts

    with learn.models_from(models_dir):
        gold = gold_labels(labels)
        return calibrate(gold, load_transcripts(transcripts, gold)).macro_kappa


def train_models(names: Iterable[str] | None = None, extra: Iterable[str | Path] = (),
                 replace_data: str | Path | None = None, force: bool = False,
                 out_dir: str | Path | None = None, store=None,
                 gold: Iterable[tuple[Path, Path]] | tuple[Path, Path] | None = None,
                 min_kappa: float | None = None, features: str | None = None, gate: float | None = None,
                 tolerance: float = 0.0, kappa_tolerance: float = 0.0) -> list[TrainOutcome]:
    """Train candidates in a staging copy of the model folder; a candidate goes live only if it
    does at least as well as the current model on the held-out split (``tolerance``: accuracy it
    may lose) and, for every gold set, the rubrics' macro kappa with it is at least the current
    model's (``kappa_tolerance``: kappa it may lose; ``min_kappa``: an optional floor besides)."""

    names = list(names) if names else available_models()
    if not names:
        raise ModelError("no training data found in modelli/dati/")
    if gold is not None and len(gold) == 2 and all(isinstance(g, (str, Path)) for g in gold):
        gold = [tuple(gold)]  # one (labels, transcripts) pair
    golds = [(Path(a), Path(b)) for a, b in (gold or [])]
    live = Path(out_dir) if out_dir else models_dir()
    from_store = store_examples(store, names) if store is not None else {}
    outcomes: list[TrainOutcome] = []
    # QA_E5_CACHE: an .npz of embeddings kept between runs (training embeds the same turns each time)
    with learn.embedding_cache(os.environ.get("QA_E5_CACHE") or None):
        for name in names:
            _train_one(name, live, extra, replace_data, force, from_store, golds, min_kappa, features, gate,
                       tolerance, kappa_tolerance, outcomes)
    return outcomes


def _train_one(name, live, extra, replace_data, force, from_store, golds, min_kappa, features, gate, tolerance,
               kappa_tolerance, outcomes) -> None:
    """Train, gate and (if it passes) publish one model; its outcome is appended to ``outcomes``."""
    import json
    import shutil
    import tempfile

    files = data_files(name, live / "dati" if (live / "dati").is_dir() else None)
    if not files:
        raise ModelError(f"no training data for model {name!r} (expected modelli/dati/{name}.tsv or {name}_*.tsv)")
    examples = read_data(name, files)
    fit, held = learn.split_holdout(examples)
    if replace_data:
        fit = read_data(name, [Path(replace_data)])
    fit += read_data(name, [Path(f) for f in extra])
    fit += from_store.get(name, [])
    card_now = current_card(name, live)
    feats = features or card_now.get("features") or learn.DEFAULT_FEATURES
    g = gate if gate is not None else (card_now.get("cascade_gate") if features is None else None)
    rel = [str(f.relative_to(live.parent)) if f.is_relative_to(live.parent) else f.name for f in files]
    with tempfile.TemporaryDirectory(prefix="qa-train-") as tmp:
        staging = Path(tmp) / "modelli"
        shutil.copytree(live, staging, ignore=shutil.ignore_patterns("dati"))
        try:
            card = learn.train(name, fit, DESCRIPTIONS.get(name, ""), out_dir=staging, holdout=held, force=force,
                               tolerance=tolerance, features=feats, gate=g,
                               extra_card={"data_files": rel,
                                           "store_examples": len(from_store.get(name, []))})
        except learn.ModelRefused as e:
            outcomes.append(TrainOutcome(name, False, str(e)))
            return
        gate_note = ""
        refused = None
        for labels, transcripts in golds:
            k_new = gold_kappa(staging, labels, transcripts)
            k_now = gold_kappa(live, labels, transcripts) if (live / f"{name}.joblib").exists() else None
            card.setdefault("gold", []).append({"labels": str(labels), "macro_kappa": k_new,
                                                "current_macro_kappa": k_now})
            if force:
                continue
            if k_new is None:
                refused = f"model {name!r} not published: no macro kappa on the gold set {labels}"
            elif k_now is not None and k_new < k_now - kappa_tolerance:
                refused = (f"model {name!r} not published: macro kappa on the gold set {labels.parent.name}/"
                           f"{labels.name} would fall from {k_now:.3f} (current model) to {k_new:.3f}")
            elif min_kappa is not None and k_new < min_kappa:
                refused = (f"model {name!r} not published: macro kappa on the gold set {labels.parent.name}/"
                           f"{labels.name} would be {k_new:.3f} (< floor {min_kappa})")
            if refused:
                break
            gate_note += (f", gold {labels.parent.name} macro kappa {k_new:.3f} (current "
                          f"{'-' if k_now is None else format(k_now, '.3f')})")
        if refused:
            outcomes.append(TrainOutcome(name, False, refused))
            return
        if golds:
            card["gold_macro_kappa"] = card["gold"][0]["macro_kappa"]
            (staging / f"{name}.card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n",
                                                       encoding="utf-8")
        for suffix in (".joblib", ".card.json"):
            tmpfile = live / f".{name}{suffix}.tmp"
            shutil.copy2(staging / f"{name}{suffix}", tmpfile)
            tmpfile.replace(live / f"{name}{suffix}")
        learn.load_model.cache_clear()
    acc = card["holdout"]["accuracy"]
    outcomes.append(TrainOutcome(name, True, f"trained on {card['data_size']} examples ({feats}), held-out accuracy "
                                             f"{acc:.1%} on {card['holdout_size']}{gate_note}", card))
