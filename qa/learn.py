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


def train(name: str, examples: Sequence[Example], description: str = "", out_dir: str | Path | None = None,
          extra_card: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fit on all examples, cross-validate, write ``<name>.joblib`` and ``<name>.card.json``; return the card."""
    import joblib
    import sklearn

    if len({e.label for e in examples}) < 2:
        raise ModelError(f"model {name!r} needs at least two labels in its training data")
    cv = cross_validate(examples)
    model = make_pipeline()
    model.fit([e.text for e in examples], [e.label for e in examples])
    labels = sorted({e.label for e in examples})
    card = {
        "name": name,
        "description": description,
        "task": "text classification of one turn",
        "labels": labels,
        "data_size": len(examples),
        "per_label": {lab: sum(1 for e in examples if e.label == lab) for lab in labels},
        "per_language": {lang: sum(1 for e in examples if e.lang == lang) for lang in sorted({e.lang for e in examples})},
        "cross_validation": cv,
        "recipe": "TF-IDF word 1-2-grams + char_wb 2-5-grams, LogisticRegression(class_weight=balanced), "
                  "sigmoid-calibrated (CalibratedClassifierCV, cv=3)",
        "trained_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
    }
    if extra_card:
        card.update(extra_card)
    out = Path(out_dir) if out_dir else _models_dir()
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{name}.joblib.tmp"
    joblib.dump(model, tmp, compress=3)
    tmp.replace(out / f"{name}.joblib")
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
