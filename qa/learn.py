"""Turn-level text classifiers (scikit-learn) saved in modelli/ with a model card.

One recipe for every model the project trains (agent-vs-customer role, the model conditions
of the rubrics, call type, sentiment): word and character n-gram TF-IDF, logistic regression
with calibrated probabilities. Models are fitted artefacts: trained by ``qa train`` (or a
helper script), saved as ``modelli/<name>.joblib`` + ``modelli/<name>.card.json``, and never
trained implicitly at import time.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from .errors import ModelError


@dataclass
class Example:
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


def make_pipeline(c: float = 4.0):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=True, sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, sublinear_tf=True, min_df=1)),
    ])
    clf = CalibratedClassifierCV(LogisticRegression(C=c, max_iter=2000, class_weight="balanced"), cv=3,
                                 method="sigmoid")
    return Pipeline([("features", features), ("clf", clf)])


def cross_validate(examples: Sequence[Example], folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Cross-validated accuracy overall and per language; groups never straddle folds."""
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
    pred = np.empty(len(texts), dtype=object)
    for train, test in splits:
        model = make_pipeline()
        model.fit([texts[i] for i in train], labels[train])
        pred[test] = model.predict([texts[i] for i in test])
    correct = pred == labels
    per_lang = {str(lang): round(float(correct[langs == lang].mean()), 4) for lang in sorted(set(langs)) if lang}
    return {"accuracy": round(float(correct.mean()), 4), "per_language": per_lang, "folds": folds}


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
    import numpy as np

    if not examples:
        return {"accuracy": None, "per_language": {}, "n": 0}
    pred = np.array(model.predict([e.text for e in examples]))
    gold = np.array([e.label for e in examples])
    langs = np.array([e.lang for e in examples])
    ok = pred == gold
    return {"accuracy": round(float(ok.mean()), 4), "n": len(examples),
            "per_language": {str(l): round(float(ok[langs == l].mean()), 4) for l in sorted(set(langs)) if l}}


def train(name: str, examples: Sequence[Example], description: str = "", out_dir: str | Path | None = None,
          extra_card: dict[str, Any] | None = None, holdout: Sequence[Example] | None = None,
          force: bool = False, tolerance: float = 0.0) -> dict[str, Any]:
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
    cv = cross_validate(fit_ex)
    model = make_pipeline()
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
        "recipe": "TF-IDF word 1-2-grams + char_wb 2-5-grams, LogisticRegression(class_weight=balanced), "
                  "sigmoid-calibrated (CalibratedClassifierCV, cv=3)",
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
    from .config import models_dir

    return models_dir()


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
        return joblib.load(p)
    except Exception as e:  # corrupt or incompatible file
        raise ModelError(f"model {p.name} cannot be loaded: {type(e).__name__}: {e}") from None


def predict_proba(name_or_path: str, texts: Iterable[str]) -> list[dict[str, float]]:
    """Probability of each label for each text."""
    model = load_model(str(name_or_path))
    texts = list(texts)
    if not texts:
        return []
    probs = model.predict_proba(texts)
    classes = list(model.classes_)
    return [{str(c): float(p) for c, p in zip(classes, row)} for row in probs]
