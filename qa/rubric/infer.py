"""What the metadata may not say: the call's language and its call type.

Language: count each language's function words (spaCy's stop-word lists) in the call; the
language with most wins. Call type: the ``tipo_chiamata`` classifier of modelli/ (trained with
qa/learning/learn.py on modelli/dati/tipo_chiamata*.tsv, which holds call openings) over sliding windows
of the first turns, the first window weighing most; when its best guess is below MIN_CONFIDENCE
the call counts as ``assistenza`` (the broadest area).

Measured with bench/call_type.py (one run, the model before -> after the technical-support and
internal help-desk openings of tipo_chiamata_supporto.tsv were added to its training data):
dev set calls that carry metadata.call_type 42/51 -> 44/51 right; LUNA (60 real Italian IT
help-desk calls, every one a support call) 28/60 -> 60/60 inferred ``assistenza`` (acquisizione
27 -> 0, fidelizzazione 5 -> 0), 60/60 with or without the MIN_CONFIDENCE fallback; the held-out
split of the original training files 79.9 % -> 82.5 %; language: 64/64. MIN_CONFIDENCE was
chosen on the dev set: with this model it gives 44/51 for any value up to 0.31, 43 at 0.32,
41 at 0.33-0.35 (0.35 was the old value). Normalising the windows with
``context.model_text`` changed neither set's figure, so it is not done.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..config import CALL_TYPES, LANGUAGES

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
CALL_TYPE_MODEL = "tipo_chiamata"
OPENING_TURNS = 4
MIN_CONFIDENCE = 0.30  # below this the call counts as assistenza, the broadest area (chosen on the dev set)


@lru_cache(maxsize=None)
def _stops() -> dict[str, frozenset[str]]:
    import importlib

    out = {}
    for lang in LANGUAGES:
        mod = importlib.import_module(f"spacy.lang.{lang}.stop_words")
        out[lang] = frozenset(w.lower() for w in mod.STOP_WORDS)
    # words shared by several languages say nothing
    common = set.intersection(*(set(v) for v in out.values()))
    return {k: frozenset(v - common) for k, v in out.items()}


def language_scores(text: str) -> dict[str, int]:
    """Function words of each language found in ``text`` (its first 20,000 characters)."""
    stops = _stops()
    scores = {lang: 0 for lang in LANGUAGES}
    for w in _WORD.findall(text.lower()[:20000]):
        for lang in LANGUAGES:
            if w in stops[lang]:
                scores[lang] += 1
    return scores


def infer_language(transcript) -> str:
    """The call's language (it/de/fr/en) from its words; 'it' when there is nothing to go on."""
    text = " ".join(s.text for s in transcript.segments)
    scores = language_scores(text)
    best = max(LANGUAGES, key=lambda lang: (scores[lang], lang == "it"))
    return best if scores[best] > 0 else "it"


def _model_available() -> bool:
    from ..config import models_dir

    try:
        return (models_dir() / f"{CALL_TYPE_MODEL}.joblib").exists()
    except RuntimeError:
        return False


def _call_type_model():
    """The call-type classifier, None when there is none. Asked of ``load_model`` first (cached per
    process: no file-system lookup per call, which cost a tenth of inferring a call type); a model
    file that exists but cannot be loaded still raises its ModelError."""
    from ..errors import ModelError
    from ..learning.learn import load_model

    try:
        return load_model(CALL_TYPE_MODEL)
    except ModelError:
        if _model_available():
            raise
    except RuntimeError:  # no models directory
        pass
    return None


def _opening_windows(transcript) -> list[str]:
    texts = [s.text for s in transcript.segments if s.text.strip()]
    # the corpus holds call openings (the first exchanges say why the customer calls): classify
    # sliding windows of OPENING_TURNS turns over the first part of the call, the first weighing most
    return [" ".join(texts[i:i + OPENING_TURNS]) for i in range(0, min(len(texts), 3 * OPENING_TURNS), 2)]


def _vote(probs, classes: list[str]) -> tuple[str, float]:
    import numpy as np

    w = np.array([1.0 / (1 + k) for k in range(len(probs))])
    avg = (probs * w[:, None]).sum(axis=0) / w.sum()
    i = int(avg.argmax())
    label = classes[i]
    if label not in CALL_TYPES:
        return ("assistenza", 0.25)
    if avg[i] < MIN_CONFIDENCE and label != "assistenza":
        j = classes.index("assistenza") if "assistenza" in classes else i
        return ("assistenza", round(float(avg[j]), 4))
    return (label, round(float(avg[i]), 4))


def infer_call_type(transcript) -> tuple[str, float]:
    """(call_type, confidence): the classifier's vote over the call's turns, weighted by length."""
    return infer_call_types([transcript])[0]


def infer_call_types(transcripts) -> list[tuple[str, float]]:
    """``infer_call_type`` of many calls, with one pass of the classifier over all their windows."""
    transcripts = list(transcripts)
    model = _call_type_model()
    if model is None:
        return [("assistenza", 0.25)] * len(transcripts)
    from ..learning.fastpredict import fast_predict_proba

    windows = [_opening_windows(t) for t in transcripts]
    flat = [w for ws in windows for w in ws]
    probs = fast_predict_proba(model, flat) if flat else None
    classes = [str(c) for c in model.classes_]
    out = []
    pos = 0
    for ws in windows:
        if not ws:
            out.append(("assistenza", 0.25))
            continue
        out.append(_vote(probs[pos:pos + len(ws)], classes))
        pos += len(ws)
    return out
