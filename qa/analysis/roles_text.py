"""What is said: the agent/customer text classifier of one segment and the cue words.

The classifier (``qa.learning.learn`` recipe, model ``modelli/ruoli.joblib``) is trained by
``train_role_model`` on ``modelli/dati/ruoli.tsv`` (scripted turns, it/de/fr/en) and
``modelli/dati/ruoli_spont/ruoli_<lang>.tsv`` (whole spontaneous ASR-style dialogues written for
the project, lower case, no punctuation, fragments as a segmenter cuts them, six service domains).
"servizio clienti sono Laura come posso aiutarla" is an agent, "ho un problema con la fattura" a
customer; "sì" or "okay" could be either and counts little.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from ..constants import LANGS
from ..errors import ModelError
from ..langdata import language_data

MODEL_NAME = "ruoli"
# How much the text classifier is trusted on a turn of n words: 1-2 word turns ("sì", "okay")
# are weak evidence whatever the model says.
TEXT_WEIGHT_WORDS = 4.0
P_CLIP = 0.02

# anonymisation tags (LUNA: <PER>, <NUM>, <DIGIT>, <ORG>, <LOC>, <PUNC>, ...) read as plain words
_MASKS = [(re.compile(r"<\s*PUNC\s*>", re.I), " "), (re.compile(r"<\s*PER\s*>", re.I), "Rossi"),
          (re.compile(r"<\s*(NUM|DIGIT)\s*>", re.I), "12"), (re.compile(r"<\s*[A-Z]{2,8}\s*>"), "Lugano")]
_WORD = re.compile(r"\w+", re.U)
_SPACES = re.compile(r"\s+")


def training_data_files(data_dir: Path | None = None) -> list[Path]:
    """The role model's training files: ``ruoli.tsv`` and ``*/ruoli_*.tsv`` (``ruoli_spont/``)."""
    from ..learning.learn import data_files

    return data_files(MODEL_NAME, data_dir)


def training_data_path() -> Path:
    """The scripted training file, ``modelli/dati/ruoli.tsv``."""
    from ..config import models_dir

    return models_dir() / "dati" / f"{MODEL_NAME}.tsv"


def normalise_text(text: str) -> str:
    """What the classifier sees, in training as in scoring: anonymisation masks (<PER>, <NUM>)
    replaced by plain words, spaces collapsed."""
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return _SPACES.sub(" ", text).strip()


def read_training_examples(paths: Sequence[Path]):
    """The examples of ``paths`` (``qa.learning.learn.read_examples``), their text normalised."""
    from ..learning.learn import Example, read_examples

    return [Example(normalise_text(e.text), e.label, e.lang, e.group)
            for p in paths for e in read_examples(p) if normalise_text(e.text)]


def read_dialogues(paths: Sequence[Path] | None = None) -> dict[str, list[tuple[str, str]]]:
    """The spontaneous dialogues of the training data, whole: group -> [(role, text), ...] in the
    order spoken (``ruoli_spont/ruoli_<lang>.tsv`` keep each dialogue's segments in order)."""
    import csv

    if paths is None:
        paths = [p for p in training_data_files() if p.parent.name == "ruoli_spont"]
    out: dict[str, list[tuple[str, str]]] = {}
    for path in paths:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                out.setdefault(row["group"], []).append((row["label"], row["text"]))
    return out


def train_role_model(data: str | Path | None = None, out_dir: str | Path | None = None,
                     force: bool = False) -> dict[str, Any]:
    """Train the agent/customer segment classifier; return its card.

    ``data``: one TSV to train on; by default every file of ``training_data_files`` (the scripted
    turns and the spontaneous dialogues). As every ``qa.learning.learn`` model, the new one
    replaces the current one only if it does at least as well on the held-out split (or ``force``)."""
    from ..learning.learn import train

    paths = [Path(data)] if data else training_data_files()
    for path in paths:
        if not path.exists():
            raise ModelError("role training data not found", str(path))
    if not paths:
        raise ModelError("role training data not found", str(training_data_path()))
    examples = read_training_examples(paths)
    bad = sorted({e.label for e in examples} - {"agent", "customer"})
    if bad:
        raise ModelError(f"role training data has labels other than agent/customer: {bad}", str(paths[0]))
    root = paths[0].parent if data else training_data_path().parent
    return train(
        MODEL_NAME, examples, out_dir=out_dir, force=force,
        description="Agent vs customer, one transcript segment (it/de/fr/en), for mono recordings. "
                    "Used by qa.analysis.roles.assign_roles together with a turn-taking model.",
        extra_card={"training_data": [f"modelli/dati/{p.relative_to(root)}" if p.is_relative_to(root) else p.name
                                      for p in paths],
                    "intended_use": "speaker role of ASR segments in contact-centre calls; weak on 1-2 word "
                                    "segments, which the turn-taking model decides"},
    )


def text_probabilities(texts: Sequence[str], model: str = MODEL_NAME) -> list[float]:
    """P(agent) of each text by the classifier, pulled towards 0.5 for texts of few words."""
    from ..learning.learn import fast_predict_proba, load_model

    if not texts:
        return []
    clf = load_model(str(model))
    probs = fast_predict_proba(clf, [normalise_text(t) or "." for t in texts])
    col = [str(c) for c in clf.classes_].index("agent")
    out = []
    for text, row in zip(texts, probs):
        pa = float(row[col])
        n = len(_WORD.findall(text))
        w = min(1.0, n / TEXT_WEIGHT_WORDS)
        out.append(min(1 - P_CLIP, max(P_CLIP, 0.5 + (pa - 0.5) * w)))
    return out


# Words that say who is speaking whatever the service (CRITERIA.md, "Who spoke": the agent asks
# for identifiers, opens or chases requests, connects remotely, addresses the caller as "signora";
# the caller reports what happens on their own side: "non mi funziona", "il mio computer"). Each
# cue found in a turn multiplies its likelihood ratio by CUE_FACTOR (agent) or 1 / CUE_FACTOR.
CUE_FACTOR = 4.0  # 2.5 before: LUNA tune split 61.1 -> 62.5 % per turn, devset 93.9 -> 94.1 %, samples 95.1 % both
CUE_MAX = 3  # cues counted per turn, each way


def _cue_pattern(cues: Sequence[str]) -> str:
    """One language's cues as one alternation of whole words (none: a pattern that never matches)."""
    return r"\b(" + "|".join(cues) + r")\b" if cues else r"(?!)"


# Language data: rubriche/lingue/<lang>.yaml, section roles (agent_cues, customer_cues), in the order
# written (the first alternative that matches at a place wins); languages with no cue are left out.
_ROLES = {lang: language_data(lang).roles for lang in LANGS}
AGENT_CUES = {lang: _cue_pattern(r.agent_cues) for lang, r in _ROLES.items() if r.agent_cues or r.customer_cues}
CUSTOMER_CUES = {lang: _cue_pattern(r.customer_cues) for lang, r in _ROLES.items() if lang in AGENT_CUES}
_CUE_RE: dict = {}


def cue_ratio(text: str, lang: str | None) -> float:
    """How much the words of a turn favour the agent over the customer (a likelihood ratio)."""
    langs = [lang] if lang in AGENT_CUES else list(AGENT_CUES)
    low = text.lower()
    a = c = 0
    for lg in langs:
        if lg not in _CUE_RE:
            _CUE_RE[lg] = (re.compile(AGENT_CUES[lg], re.I), re.compile(CUSTOMER_CUES[lg], re.I))
        ra, rc = _CUE_RE[lg]
        a = max(a, len(ra.findall(low)))
        c = max(c, len(rc.findall(low)))
    return CUE_FACTOR ** (min(a, CUE_MAX) - min(c, CUE_MAX))
