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
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from ..constants import LANGS
from ..errors import ModelError
from ..parallel import one_blas_thread
from ..langdata import language_data

MODEL_NAME = "ruoli"
DEFAULT_THRESHOLD = 0.6  # least posterior to commit to a role (qa.analysis.roles.assign_roles), else unknown
SEQ_REFIT = True  # the sequence model's change rate refitted to each call (EM; qa.analysis.sequence)
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
                                    "segments, which the turn-taking model decides",
                    "sequence_model": "modelli/ruoli.seq.joblib (ruoli.seq.card.json; train_sequence_model): uses this "
                                      "classifier's log-odds as one feature; this classifier is never trained on LUNA"},
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


# ---------------------------------------------------------------------------------------------
# The sequence model (``qa.analysis.sequence``, a linear-chain CRF over a call's segments): its
# training dialogues, training, cross-validation on the LUNA tune calls, loading.
SEQ_MODEL_FILE = "ruoli.seq.joblib"
SEQ_CARD_FILE = "ruoli.seq.card.json"
LUNA_DIR = "ruoli_luna"  # modelli/dati/ruoli_luna: the LUNA tune calls' turns (CC BY-NC-SA 4.0)
SEQ_L2 = 3.0  # L2 penalty of the sparse weights (words); chosen on the LUNA tune CV (1.0: 69.5 %, 3.0: 70.3 %)


def luna_dialogues(data_dir: Path | None = None) -> list[tuple[str, list[str], list[str], str]]:
    """The LUNA tune calls of ``modelli/dati/ruoli_luna/turni_luna.tsv``: (call id, texts, roles, lang)
    in the order spoken; empty when the folder is absent (a model trained without LUNA)."""
    import csv

    from ..config import models_dir

    path = (data_dir or models_dir() / "dati") / LUNA_DIR / "turni_luna.tsv"
    if not path.exists():
        return []
    calls: dict[str, tuple[list[str], list[str], str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            c = calls.setdefault(row["group"], ([], [], row["lang"]))
            c[0].append(row["text"])
            c[1].append(row["label"])
    return [(g, t, r, lang) for g, (t, r, lang) in calls.items()]


def spontaneous_dialogues(oof: bool = True) -> list[tuple[str, list[str], list[str], str, list[float]]]:
    """The spontaneous dialogues (``ruoli_spont``) with, per segment, P(agent) by the text classifier
    as scoring computes it; ``oof``: out-of-fold (grouped 5-fold CV over the text model's training
    data, so the sequence model learns how much to trust the classifier on text it never saw)."""
    from ..learning.learn import cross_validate

    paths = training_data_files()
    examples = read_training_examples(paths)
    if oof:
        cv = cross_validate(examples, folds=5, return_proba=True)
        col = cv["classes"].index("agent")
        raw = cv["proba"][:, col].tolist()
    out: dict[str, tuple] = {}
    for k, e in enumerate(examples):
        if not e.group.startswith("spont-"):
            continue
        d = out.setdefault(e.group, (e.group, [], [], e.lang, []))
        d[1].append(e.text)
        d[2].append(e.label)
        if oof:
            n = len(_WORD.findall(e.text))
            w = min(1.0, n / TEXT_WEIGHT_WORDS)
            d[4].append(min(1 - P_CLIP, max(P_CLIP, 0.5 + (raw[k] - 0.5) * w)))
    if not oof:
        for d in out.values():
            d[4].extend(text_probabilities(d[1]))
    return list(out.values())


def sequence_example(texts: Sequence[str], lang: str | None, p_text: Sequence[float] | None = None,
                     roles: Sequence[str] | None = None):
    """(node features, boundary features, labels 1 = agent) of one dialogue (``sequence.sequence_features``)."""
    import math

    from .sequence import sequence_features

    if p_text is None:
        p_text = text_probabilities(list(texts))
    cues = [math.log(cue_ratio(t, lang)) for t in texts]
    nodes, edges = sequence_features(list(texts), list(p_text), cues, lang)
    return nodes, edges, [1 if r == "agent" else 0 for r in (roles or [])]


def _sequence_training_set(luna: bool, spont=None, exclude: Sequence[str] = ()):
    spont = spont if spont is not None else spontaneous_dialogues()
    seqs = [sequence_example(t, lang, p, r) for _, t, r, lang, p in spont]
    calls = [c for c in (luna_dialogues() if luna else []) if c[0] not in set(exclude)]
    seqs += [sequence_example(t, lang, None, r) for _, t, r, lang in calls]
    return seqs, [c[0] for c in calls]


@one_blas_thread
def train_sequence_model(luna: bool = True, out_dir: str | Path | None = None) -> dict[str, Any]:
    """Train the sequence model (``qa.analysis.sequence``) and save ``ruoli.seq.joblib`` and its card in
    ``out_dir`` (default ``modelli/``). ``luna``: also train on the LUNA tune calls
    (``modelli/dati/ruoli_luna``, CC BY-NC-SA 4.0: the model then carries that licence); False trains
    on the project's own dialogues only."""
    import datetime as _dt
    import json

    import joblib

    from ..config import models_dir
    from .sequence import train_sequence

    out = Path(out_dir) if out_dir else models_dir()
    spont = spontaneous_dialogues()
    seqs, luna_calls = _sequence_training_set(luna, spont)
    w, v = train_sequence(seqs, l2=SEQ_L2)
    cv = sequence_cross_validation(luna=luna, spont=spont) if luna_dialogues() else None
    card = {
        "name": "ruoli.seq",
        "description": "Speaker role per segment of a mono call: a two-state linear-chain CRF over the segments "
                       "(segment and neighbour words, text classifier log-odds, cue words, position; boundary "
                       "context for the change of speaker), decoded by forward-backward (qa.analysis.turns).",
        "trained": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_data": ["modelli/dati/ruoli_spont (project's own, it/de/fr/en)"]
                         + ([f"modelli/dati/{LUNA_DIR}/turni_luna.tsv (LUNA tune calls, CC BY-NC-SA 4.0)"]
                            if luna_calls else []),
        "dialogues": len(seqs), "segments": sum(len(s[2]) for s in seqs), "luna_calls": len(luna_calls),
        "l2": SEQ_L2, "node_weights": len(w), "boundary_weights": len(v),
        "licence": ("CC BY-NC-SA 4.0 (trained on LUNA turns: non-commercial use only, share alike); retrain with "
                    "train_sequence_model(luna=False) for a model free of it") if luna_calls
                   else "the project's licence (no LUNA text)",
        "luna_tune_cv": cv,
        "used_on": "qa.analysis.roles.assign_roles: mono transcripts in Italian (SEQ_LANGS) written without punctuation "
                   "(roles.unpunctuated, like a real call's machine transcript); other calls keep the hand-set chain",
    }
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump({"node": w, "edge": v, "card": card}, out / SEQ_MODEL_FILE, compress=3)
    (out / SEQ_CARD_FILE).write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    load_sequence_model.cache_clear()
    return card


def sequence_cross_validation(folds: int = 5, luna: bool = True, spont=None, refit: bool | None = None) -> dict[str, Any]:
    """Per-segment accuracy on the LUNA tune calls, grouped by call: each fold's model is trained on
    the spontaneous dialogues and (``luna``) the other folds' calls, never on its test calls. Roles
    at threshold 0.5 (``accuracy``) and at ``qa.analysis.roles.DEFAULT_THRESHOLD`` (``accuracy_at_default``,
    ``unknown`` counts as wrong)."""
    from .sequence import sequence_posterior, train_sequence

    refit = SEQ_REFIT if refit is None else refit
    spont = spont if spont is not None else spontaneous_dialogues()
    calls = sorted(luna_dialogues(), key=lambda c: c[0])
    if not calls:
        raise ModelError("LUNA tune calls not found", str(LUNA_DIR))
    right = right_default = total = 0
    fixed = None if luna else train_sequence(_sequence_training_set(False, spont)[0], l2=SEQ_L2)
    for k in range(folds):
        test = [c for i, c in enumerate(calls) if i % folds == k]
        if fixed is None:
            seqs, _ = _sequence_training_set(luna, spont, exclude=[c[0] for c in test])
            w, v = train_sequence(seqs, l2=SEQ_L2)
        else:
            w, v = fixed  # no call of the set is trained on: one model for every fold
        for _, texts, roles, lang in test:
            nodes, edges, y = sequence_example(texts, lang, None, roles)
            for pa, yy in zip(sequence_posterior(nodes, edges, w, v, refit), y):
                ok = (pa >= 0.5) == bool(yy)
                right += ok
                right_default += ok and max(pa, 1 - pa) >= DEFAULT_THRESHOLD
                total += 1
    return {"folds": folds, "calls": len(calls), "segments": total, "luna_in_training": luna, "refit": refit,
            "accuracy": round(right / total, 4), "accuracy_at_default": round(right_default / total, 4)}




@lru_cache(maxsize=4)
def load_sequence_model(path: str | None = None) -> dict | None:
    """The saved sequence model (``modelli/ruoli.seq.joblib`` unless ``path``); None when absent."""
    import joblib

    from ..config import models_dir

    p = Path(path) if path else models_dir() / SEQ_MODEL_FILE
    if not p.exists():
        return None
    return joblib.load(p)
