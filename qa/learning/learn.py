"""Turn-level text classifiers (scikit-learn) saved in modelli/ with a model card.

One recipe for every model the project trains (agent-vs-customer role, the model conditions
of the rubrics, call type, sentiment): word and character n-gram TF-IDF, logistic regression
with calibrated probabilities. Models are fitted artefacts: trained by ``qa train`` (or a
helper script), saved as ``modelli/<name>.joblib`` + ``modelli/<name>.card.json``, and never
trained implicitly at import time.

This module: the training examples, cross-validation, the held-out split and ``train`` (fit, judge
against the current model, save with its card), and loading and asking saved models. The feature
sets and the recipe are in ``qa.learning.features``, the e5 cascade in ``qa.learning.cascade``,
fast prediction for many texts and models in ``qa.learning.fastpredict``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import platform
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import ModelError
from ..parallel import one_blas_thread
from .cascade import make_model
from .features import DEFAULT_FEATURES, recipe

# Also reachable here, as before the split: for the code that reads them as ``learn.embed``,
# ``learn.TextBatch``, ... and for models pickled with this module's classes.
from .cascade import Cascade  # noqa: E402,F401
from .features import E5_DIM, _E5_CACHE, E5Features, embed, embedding_cache, make_pipeline  # noqa: E402,F401
from .fastpredict import TextBatch, fast_predict_proba, register  # noqa: E402,F401


@dataclass
class Example:
    """One training example: a turn's text, its label, its language and its group (one call)."""

    text: str
    label: str
    lang: str = ""
    group: str = ""  # examples of one group (e.g. one call) never straddle a CV split


def read_examples(path: str | Path) -> list[Example]:
    """Read a TSV with header ``text<TAB>label[<TAB>lang[<TAB>group]]``."""
    path = Path(path)
    out: list[Example] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not reader.fieldnames or "text" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise ModelError("training file needs a header with 'text' and 'label' columns", str(path))
        for row in reader:
            if not (row.get("text") or "").strip():
                continue
            out.append(Example(row["text"].strip(), row["label"].strip(), (row.get("lang") or "").strip(),
                               (row.get("group") or "").strip()))
    return out


@one_blas_thread
def cross_validate(examples: Sequence[Example], folds: int = 5, seed: int = 0, features: str = DEFAULT_FEATURES,
                   gate: float | None = None, return_proba: bool = False) -> dict[str, Any]:
    """Cross-validated accuracy overall and per language; groups never straddle folds (GroupKFold
    when every example has a group). ``return_proba``: also the out-of-fold probabilities (key
    ``proba``, columns ``classes``)."""
    import numpy as np
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    texts = [e.text for e in examples]
    labels = np.array([e.label for e in examples])
    langs = np.array([e.lang for e in examples])
    groups = [e.group for e in examples]
    if all(groups):
        splitter = GroupKFold(n_splits=folds)
        splits = splitter.split(texts, labels, groups)
    else:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        splits = splitter.split(texts, labels)
    classes = sorted(set(labels.tolist()))
    proba = np.zeros((len(texts), len(classes)))
    for train, test in splits:
        model = make_model(features, gate)
        model.fit([texts[i] for i in train], labels[train])
        p = model.predict_proba([texts[i] for i in test])
        cols = [classes.index(str(c)) for c in model.classes_]
        proba[np.ix_(test, cols)] = p
    pred = np.array(classes, dtype=object)[proba.argmax(axis=1)]
    correct = pred == labels
    per_lang = {str(lang): round(float(correct[langs == lang].mean()), 4) for lang in sorted(set(langs)) if lang}
    out = {"accuracy": round(float(correct.mean()), 4), "per_language": per_lang, "folds": folds,
           "grouped": bool(all(groups)), "features": features, "n": len(texts)}
    if return_proba:
        out["proba"], out["classes"] = proba, classes
    return out


class ModelRefused(ModelError):
    """A candidate model that does worse than the current one on the held-out split."""


def split_holdout(examples: Sequence[Example], fraction: float = 0.2) -> tuple[list[Example], list[Example]]:
    """Deterministic train / held-out split by a hash of the group (or the text).

    The same example always lands on the same side, whatever else is added to the data, so
    no model trained here has ever seen the held-out examples it is judged on.
    """
    import hashlib

    train_ex, held = [], []
    for e in examples:
        key = (e.group or e.text).encode("utf-8")
        bucket = int(hashlib.sha1(key).hexdigest()[:8], 16) / 0xFFFFFFFF
        (held if bucket < fraction else train_ex).append(e)
    return train_ex, held


def accuracy_on(model, examples: Sequence[Example]) -> dict[str, Any]:
    """Accuracy of a fitted model on ``examples``, overall and per language, with n."""
    import numpy as np

    if not examples:
        return {"accuracy": None, "per_language": {}, "n": 0}
    pred = np.array(model.predict([e.text for e in examples]))
    gold = np.array([e.label for e in examples])
    langs = np.array([e.lang for e in examples])
    ok = pred == gold
    return {"accuracy": round(float(ok.mean()), 4), "n": len(examples),
            "per_language": {str(l): round(float(ok[langs == l].mean()), 4) for l in sorted(set(langs)) if l}}


@one_blas_thread
def train(name: str, examples: Sequence[Example], description: str = "", out_dir: str | Path | None = None,
          extra_card: dict[str, Any] | None = None, holdout: Sequence[Example] | None = None,
          force: bool = False, tolerance: float = 0.0, features: str = DEFAULT_FEATURES,
          gate: float | None = None) -> dict[str, Any]:
    """Fit a candidate, judge it on the held-out split, and save it unless it does worse.

    ``examples`` are split with :func:`split_holdout` unless ``holdout`` is given (then all of
    ``examples`` are used for fitting). The candidate replaces ``modelli/<name>.joblib`` only if
    its held-out accuracy is at least the current model's (minus ``tolerance``), or ``force``.
    Returns the model card; raises :class:`ModelRefused` otherwise.
    """
    import joblib
    import sklearn

    if holdout is None:
        fit_ex, held = split_holdout(examples)
    else:
        fit_ex, held = list(examples), list(holdout)
    if len({e.label for e in fit_ex}) < 2:
        raise ModelError(f"model {name!r} needs at least two labels in its training data")
    cv = cross_validate(fit_ex, features=features, gate=gate)
    model = make_model(features, gate)
    model.fit([e.text for e in fit_ex], [e.label for e in fit_ex])
    held_out = accuracy_on(model, held)
    out = Path(out_dir) if out_dir else _models_dir()
    current_path = out / f"{name}.joblib"
    current = None
    if current_path.exists() and held:
        try:
            current = accuracy_on(joblib.load(current_path), held)
        except Exception:  # unreadable current model: the candidate may replace it
            current = None
    if (current and current["accuracy"] is not None and held_out["accuracy"] is not None and not force
            and held_out["accuracy"] < current["accuracy"] - tolerance):
        raise ModelRefused(
            f"model {name!r} not replaced: held-out accuracy {held_out['accuracy']:.1%} is worse than the "
            f"current model's {current['accuracy']:.1%} on the same {held_out['n']} held-out examples")
    labels = sorted({e.label for e in fit_ex})
    card = {
        "name": name,
        "description": description,
        "task": "text classification of one turn",
        "labels": labels,
        "data_size": len(fit_ex),
        "holdout_size": len(held),
        "per_label": {lab: sum(1 for e in fit_ex if e.label == lab) for lab in labels},
        "per_language": {lang: sum(1 for e in fit_ex if e.lang == lang) for lang in sorted({e.lang for e in fit_ex})},
        "cross_validation": cv,
        "holdout": held_out,
        "replaced_model_holdout_accuracy": current["accuracy"] if current else None,
        "features": features,
        "cascade_gate": gate if features == "tfidf+e5" else None,
        "recipe": recipe(features) + (f"; cascade: the TF-IDF model screens every turn, the e5 model answers for "
                                      f"those with p >= {gate}" if features == "tfidf+e5" and gate is not None else ""),
        "trained_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
    }
    if extra_card:
        card.update(extra_card)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{name}.joblib.tmp"
    joblib.dump(model, tmp, compress=3)
    tmp.replace(current_path)
    (out / f"{name}.card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    load_model.cache_clear()
    return card


def _models_dir() -> Path:
    from ..config import models_dir

    return models_dir()


@contextmanager
def models_from(directory):
    """Within the block, model names resolve in ``directory`` (``QA_MODELS_DIR``); the model
    cache is emptied on the way in and out. ``None`` leaves the directory as it is."""
    old = os.environ.get("QA_MODELS_DIR")
    if directory is not None:
        os.environ["QA_MODELS_DIR"] = str(directory)
    load_model.cache_clear()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("QA_MODELS_DIR", None)
        else:
            os.environ["QA_MODELS_DIR"] = old
        load_model.cache_clear()


@lru_cache(maxsize=32)
def load_model(name_or_path: str):
    """Load a fitted model by name (from modelli/) or path; cached per process."""
    import joblib

    p = Path(name_or_path)
    if not p.suffix:
        p = _models_dir() / f"{name_or_path}.joblib"
    if not p.exists():
        raise ModelError(f"model {name_or_path!r} not found at {p} (train it with 'qa train')")
    try:
        model = joblib.load(p)
    except Exception as e:  # corrupt or incompatible file
        raise ModelError(f"model {p.name} cannot be loaded: {type(e).__name__}: {e}") from None
    register(model)  # its n-grams join the shared vocabulary now, not at its first question
    return model


def predict_proba(name_or_path: str, texts: Iterable[str]) -> list[dict[str, float]]:
    """Probability of each label for each text."""
    model = load_model(str(name_or_path))
    texts = list(texts)
    if not texts:
        return []
    probs = model.predict_proba(texts)
    classes = list(model.classes_)
    return [{str(c): float(p) for c, p in zip(classes, row)} for row in probs]


def data_files(name: str, data_dir: Path | None = None) -> list[Path]:
    """The model's training files: ``<name>.tsv``, ``<name>_*.tsv`` and ``*/<name>_*.tsv`` in ``data_dir``
    (default ``modelli/dati``)."""
    d = data_dir or _models_dir() / "dati"
    return sorted({*d.glob(f"{name}.tsv"), *d.glob(f"{name}_*.tsv"), *d.glob(f"*/{name}_*.tsv")})
