"""Turn-level sentiment in it/de/fr/en, with no model download.

``sentiment(texts, lang)`` gives one score per text in [-1, 1] (negative .. positive);
``label_of(score)`` maps it to ``negative`` / ``neutral`` / ``positive``.

The score combines two things the project ships:

* the ``sentimento`` model (``modelli/sentimento.joblib`` + card), trained by :func:`train_model`
  with the recipe of ``qa/learning/learn.py`` on ``modelli/dati/sentimento.tsv`` (contact-centre
  utterances in four languages, written for the project): score = P(positive) - P(negative);
* a small polarity lexicon (``modelli/sentimento.lessico.json``) with negation ("non sono
  contento", "nicht zufrieden", "pas content", "not happy" flip the word's polarity) and
  intensifiers. When the lexicon finds words, the final score is
  ``(1 - w) * model + w * lexicon`` with ``w = LEXICON_WEIGHT`` (``NEGATED_LEXICON_WEIGHT`` when a
  lexicon word is negated: the n-gram model sees negation badly); otherwise it is the model's.

Retrain: ``python -m qa.analysis.sentiment train [--force]`` (writes the model and its card, with the
cross-validated accuracy of the model alone and of the combination).
"""

from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from ..errors import ModelError
from ..parallel import one_blas_thread

MODEL_NAME = "sentimento"
LABELS = ("negative", "neutral", "positive")
LEXICON_WEIGHT = 0.4
# a negated lexicon word ("non ... contento") is something the bag-of-n-grams model sees badly
NEGATED_LEXICON_WEIGHT = 0.7
# |score| below this is neutral
NEUTRAL_BAND = 0.3
NEGATION_WINDOW = 3
INTENSIFIER_WINDOW = 2


def label_of(score: float) -> str:
    """``positive``, ``negative`` or ``neutral`` for a score in -1..1 (neutral within ``NEUTRAL_BAND``)."""
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def _models_dir() -> Path:
    from ..config import models_dir

    return models_dir()


def _data_path() -> Path:
    return _models_dir() / "dati" / "sentimento.tsv"


# --------------------------------------------------------------------------------------------
# lexicon
# --------------------------------------------------------------------------------------------

class _Lexicon:
    def __init__(self, table: dict[str, Any]):
        self.langs: dict[str, dict[str, Any]] = {}
        for lang, d in table.items():
            if lang.startswith("_"):
                continue
            entry = {"words": {}, "prefixes": [], "phrases": [], "negators": set(), "neg_phrases": [],
                     "intens": set(), "intens_phrases": []}
            for pol, key in ((1.0, "positive"), (-1.0, "negative")):
                for w in d.get(key, []):
                    w = w.lower()
                    if " " in w:
                        entry["phrases"].append((tuple(w.split()), pol))
                    elif w.endswith("*"):
                        entry["prefixes"].append((w[:-1], pol))
                    else:
                        entry["words"][w] = pol
            for w in d.get("negators", []):
                (entry["neg_phrases"].append(tuple(w.split())) if " " in w else entry["negators"].add(w.lower()))
            for w in d.get("intensifiers", []):
                (entry["intens_phrases"].append(tuple(w.split())) if " " in w else entry["intens"].add(w.lower()))
            self.langs[lang] = entry

    def polarity(self, tok: str, e: dict[str, Any]) -> float | None:
        if tok in e["words"]:
            return e["words"][tok]
        for p, pol in e["prefixes"]:
            if tok.startswith(p) and len(tok) >= len(p):
                return pol
        return None

    def score(self, text: str, lang: str | None) -> tuple[float, int, int]:
        langs = [lang] if lang in self.langs else list(self.langs)
        low = text.lower().replace("n't", " n't").replace("’", "'")
        toks = re.findall(r"n't|[^\W\d_]+", low)
        best = (0.0, 0, 0)
        for lg in langs:
            e = self.langs[lg]
            total, hits, negs = 0.0, 0, 0
            i = 0
            while i < len(toks):
                pol, width = None, 1
                for ph, p in e["phrases"]:
                    if tuple(toks[i:i + len(ph)]) == ph:
                        pol, width = p, len(ph)
                        break
                if pol is None:
                    pol = self.polarity(toks[i], e)
                if pol is not None:
                    before = toks[max(0, i - NEGATION_WINDOW):i]
                    negated = any(t in e["negators"] for t in before) or any(
                        _contains(before, ph) for ph in e["neg_phrases"])
                    near = toks[max(0, i - INTENSIFIER_WINDOW):i]
                    strong = any(t in e["intens"] for t in near)
                    v = pol * (1.5 if strong else 1.0)
                    total += -v if negated else v
                    hits += 1
                    negs += int(negated)
                i += width
            if hits > best[1]:
                best = (total / (abs(total) + 0.5), hits, negs)
        return best


def _contains(seq: list[str], ph: tuple[str, ...]) -> bool:
    n = len(ph)
    return any(tuple(seq[k:k + n]) == ph for k in range(len(seq) - n + 1))


@lru_cache(maxsize=4)
def _lexicon(path: str) -> _Lexicon:
    p = Path(path)
    if not p.exists():
        raise ModelError(f"sentiment lexicon not found at {p}")
    return _Lexicon(json.loads(p.read_text(encoding="utf-8")))


def lexicon_score(text: str, lang: str | None = None) -> tuple[float, int, int]:
    """Lexicon polarity of ``text`` in [-1, 1], the number of lexicon words found and how many were negated."""
    return _lexicon(str(_models_dir() / "sentimento.lessico.json")).score(text, _lang(lang))


def _lang(lang: str | None) -> str | None:
    return (lang or "").lower()[:2] or None


# --------------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------------

def _combine(model_scores: Sequence[float], texts: Sequence[str], lang: str | None,
             weight: float = LEXICON_WEIGHT) -> list[float]:
    out = []
    for m, t in zip(model_scores, texts):
        lex, hits, negs = lexicon_score(t, lang)
        w = max(weight, NEGATED_LEXICON_WEIGHT) if (negs and weight > 0) else weight
        s = (1 - w) * m + w * lex if hits else m
        out.append(max(-1.0, min(1.0, s)))
    return out


def _model_scores(model, texts: Sequence[str]) -> list[float]:
    probs = model.predict_proba(list(texts))
    classes = list(model.classes_)
    ip, ineg = classes.index("positive"), classes.index("negative")
    return [float(row[ip] - row[ineg]) for row in probs]


def sentiment(texts: Sequence[str] | str, lang: str | None = None) -> list[float]:
    """One score in [-1, 1] per text (negative < 0 < positive); see :func:`label_of`."""
    from ..learning.learn import load_model

    if isinstance(texts, str):
        texts = [texts]
    texts = [t if isinstance(t, str) else str(t) for t in texts]
    if not texts:
        return []
    model = load_model(MODEL_NAME)
    scores = _model_scores(model, texts)
    out = _combine(scores, texts, _lang(lang))
    return [round(s, 4) if t.strip() else 0.0 for s, t in zip(out, texts)]


def sentiment_labels(texts: Sequence[str] | str, lang: str | None = None) -> list[tuple[float, str]]:
    """``(score, label)`` per text."""
    return [(s, label_of(s)) for s in sentiment(texts, lang)]


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------

@one_blas_thread
def _cv_combined(examples, folds: int = 5) -> dict[str, Any]:
    """Grouped cross-validation of the 3-class label: model alone vs model + lexicon."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from ..learning.features import make_pipeline

    texts = [e.text for e in examples]
    labels = np.array([e.label for e in examples])
    langs = np.array([e.lang for e in examples])
    model_s = np.zeros(len(texts))
    for train, test in GroupKFold(n_splits=folds).split(texts, labels, [e.lang + e.group for e in examples]):
        m = make_pipeline()
        m.fit([texts[i] for i in train], labels[train])
        model_s[test] = _model_scores(m, [texts[i] for i in test])
    res: dict[str, Any] = {"folds": folds}
    for name, w in (("model_only", 0.0), ("model_plus_lexicon", LEXICON_WEIGHT)):
        comb = np.array([
            _combine([model_s[i]], [texts[i]], langs[i] or None, weight=w)[0] for i in range(len(texts))])
        pred = np.array([label_of(s) for s in comb])
        ok = pred == labels
        res[name] = {"accuracy": round(float(ok.mean()), 4),
                     "per_language": {lg: round(float(ok[langs == lg].mean()), 4) for lg in sorted(set(langs))}}
    return res


def train_model(data: str | Path | None = None, out_dir: str | Path | None = None, force: bool = False) -> dict[str, Any]:
    """Train ``sentimento`` on the shipped corpus; write the model and its card; return the card.

    As every model of ``qa/learning/learn.py``, the candidate replaces the current one only if it does
    at least as well on the held-out split (``force`` overrides that).
    """
    from ..learning.learn import read_examples, train

    data = Path(data) if data else _data_path()
    examples = read_examples(data)
    bad = {e.label for e in examples} - set(LABELS)
    if bad:
        raise ModelError(f"unknown sentiment labels {sorted(bad)} (use negative, neutral, positive)", str(data))
    # groups are shared by translations of one sentence: keep them per language in learn's CV too
    combined = _cv_combined(examples)
    return train(MODEL_NAME, examples,
                 description="Turn sentiment (negative/neutral/positive) of contact-centre utterances in "
                             "it/de/fr/en; qa/analysis/sentiment.py turns P(positive) - P(negative) into a score in "
                             "[-1, 1] and blends it with modelli/sentimento.lessico.json.",
                 out_dir=out_dir, force=force,
                 extra_card={"training_data": "modelli/dati/sentimento.tsv",
                             "score": "P(positive) - P(negative), blended with the lexicon "
                                      f"(weight {LEXICON_WEIGHT}) when it finds words; neutral band "
                                      f"|score| < {NEUTRAL_BAND}",
                             "cross_validation_3class": combined})


def main(argv: list[str] | None = None) -> int:
    """``python -m qa.analysis.sentiment train [DATA] [--force]``: train the model and print its card;
    ``python -m qa.analysis.sentiment [score] TEXT...``: score and label each text."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:
        rest = [a for a in argv[1:] if a != "--force"]
        card = train_model(rest[0] if rest else None, force="--force" in argv)
        print(json.dumps({k: card[k] for k in ("data_size", "per_language", "cross_validation",
                                               "cross_validation_3class")}, indent=1))
        return 0
    texts = argv[1:] if argv[:1] == ["score"] else argv
    for t, (s, lab) in zip(texts, sentiment_labels(texts)):
        print(f"{s:+.3f}\t{lab}\t{t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
