"""Active learning: which calls should a human review first?

A call is uncertain where the rubric's result and the project's turn-level model for the same
criterion disagree, or where the model itself is unsure (probability near 0.5), or where the
engine reports a low confidence for a result, or where a call model that learnt when a criterion
applies (``qa.learning.callmodel``: ``applicabilita_identificazione``) disagrees with the rubric
about whether it applies: on calls nobody tuned on, the rubric's `identificazione` is wrong in
about six of ten such calls and in about one of ten others (BENCHMARKS.md). Reviewing those calls
first teaches the most: their human labels feed ``qa train`` and ``qa calibrate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..constants import REVIEW_FLAG
from ..errors import ModelError
from ..model import Evaluation, Transcript

# criteria that have a turn-level model of the same name in modelli/
MODEL_CRITERIA = ("comprensione", "riepilogo", "prossimi_passi", "empatia", "conferma_risoluzione")
POSITIVE = ("yes", "si", "sì", "pass", "1", "true")


@dataclass
class Uncertain:
    """How unsure the tool is about one call, and why."""

    call_id: str
    uncertainty: float  # 0 (sure) .. 1 (coin flip or rule and model disagree strongly)
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-able form (``qa uncertain --json``)."""
        return {"call_id": self.call_id, "uncertainty": round(self.uncertainty, 4), "reasons": self.reasons}


def _positive_prob(probs: dict[str, float]) -> float:
    for k, v in probs.items():
        if k.lower() in POSITIVE:
            return v
    return max(probs.values()) if probs else 0.0


def applicability_probability(transcript: Transcript, evaluation: Evaluation, model: str) -> float:
    """Call model ``model``'s probability that its criterion applies to the call (the call type as
    scored, each turn's speaker as in the transcript)."""
    return applicability_probabilities([(transcript, evaluation)], model)[0]


def applicability_probabilities(pairs: Sequence[tuple[Transcript, Evaluation]], model: str) -> list[float]:
    """``applicability_probability`` of many calls, the model asked once for all of them."""
    from .callmodel import call_text
    from .fastpredict import fast_predict_proba
    from .learn import load_model

    if not pairs:
        return []
    texts = []
    for transcript, evaluation in pairs:
        call_type = (evaluation.extra.get("call_type") or (transcript.metadata or {}).get("call_type")
                     or evaluation.rubric)
        texts.append(call_text(call_type, [(s.speaker, s.text) for s in transcript.segments]))
    m = load_model(model)
    col = [str(c) for c in m.classes_].index("yes")
    return [float(row[col]) for row in fast_predict_proba(m, texts)]


def second_opinions(pairs: Sequence[tuple[Transcript, Evaluation]]) -> list[list[dict]]:
    """For each call, where a call model in modelli/ (``qa.learning.callmodel``) disagrees with the
    rubric about whether its criterion applies: ``[{"criterion", "result", "p_applies"}]``, empty when
    they agree or no call model is there. Each model is asked once for the whole batch."""
    from ..config import models_dir
    from .callmodel import CALL_MODELS

    out: list[list[dict]] = [[] for _ in pairs]
    for name, crit in sorted(CALL_MODELS.items()):
        if not (models_dir() / f"{name}.joblib").exists():
            continue
        asked = [i for i, (_, ev) in enumerate(pairs) if ev.result(crit) is not None]
        probs = applicability_probabilities([pairs[i] for i in asked], name)
        for i, p in zip(asked, probs):
            r = pairs[i][1].result(crit)
            if (p >= 0.5) != (r.result != "na"):
                out[i].append({"criterion": crit, "result": r.result, "p_applies": round(p, 2)})
    return out


def second_opinion(transcript: Transcript, evaluation: Evaluation) -> list[dict]:
    """``second_opinions`` of one call."""
    return second_opinions([(transcript, evaluation)])[0]


def add_second_opinion(transcript: Transcript, evaluation: Evaluation) -> Evaluation:
    """``add_second_opinions`` of one call."""
    return add_second_opinions([(transcript, evaluation)])[0]


def add_second_opinions(pairs: Sequence[tuple[Transcript, Evaluation]]) -> list[Evaluation]:
    """Record ``second_opinion`` in each evaluation (``extra["second_opinion"]``, flag ``review``) where
    there is one: the call is worth a human look before its result is trusted (docs/FORMATS.md)."""
    for (_, evaluation), doubts in zip(pairs, second_opinions(pairs)):
        if doubts:
            evaluation.extra["second_opinion"] = doubts
            if REVIEW_FLAG not in evaluation.flags:
                evaluation.flags.append(REVIEW_FLAG)
    return [ev for _, ev in pairs]


def call_uncertainty(transcript: Transcript, evaluation: Evaluation, models_available: Iterable[str]) -> Uncertain:
    """The call's uncertainty: the largest over its criteria of low engine confidence, rubric vs
    turn-level model disagreement, the model's own doubt (probability near 0.5), or rubric vs
    applicability model disagreement about whether the criterion applies."""
    from .callmodel import CALL_MODELS
    from .learn import predict_proba

    models_available = set(models_available)
    wanted = {crit for name, crit in CALL_MODELS.items() if name in models_available}
    # the doubts the score stage recorded (qa.pipeline.score), else asked now (an older evaluation)
    found = evaluation.extra.get("second_opinion")
    doubts = {d["criterion"]: d for d in (found if found is not None else second_opinion(transcript, evaluation))
              if d.get("criterion") in wanted} if wanted else {}
    agent_turns = [s.text for s in transcript.segments if s.speaker == "agent" and s.text.strip()]
    best = 0.0
    reasons = []
    for c in evaluation.criteria:
        if c.id in doubts:
            p = float(doubts[c.id]["p_applies"])
            reasons.append(f"{c.id}: rubric {c.result}, applicability model p(applies)={p:.2f}")
            best = max(best, 0.5 + abs(p - 0.5))
        if c.result == "na":
            continue
        if c.confidence is not None:
            u = 1.0 - float(c.confidence)
            if u > 0.3:
                reasons.append(f"{c.id}: engine confidence {c.confidence:.2f}")
            best = max(best, u)
        if c.id in models_available and agent_turns:
            p = max(_positive_prob(pr) for pr in predict_proba(c.id, agent_turns))
            model_pass = p >= 0.5
            if model_pass != (c.result == "pass"):
                u = 0.5 + abs(p - 0.5)
                reasons.append(f"{c.id}: rubric {c.result}, model p(pass)={p:.2f}")
            else:
                u = 0.5 * (1.0 - 2.0 * abs(p - 0.5))
                if u > 0.3:
                    reasons.append(f"{c.id}: model unsure, p(pass)={p:.2f}")
            best = max(best, u)
    return Uncertain(transcript.call_id, best, reasons)


def available_models() -> list[str]:
    """The criteria of ``MODEL_CRITERIA`` whose turn-level model is in the model folder, and the call
    models (``qa.learning.callmodel.CALL_MODELS``) that are there."""
    from ..config import models_dir
    from .callmodel import CALL_MODELS

    return [m for m in (*MODEL_CRITERIA, *sorted(CALL_MODELS)) if (models_dir() / f"{m}.joblib").exists()]


def rank(pairs: Iterable[tuple[Transcript, Evaluation]], n: int = 20) -> list[Uncertain]:
    """The ``n`` most uncertain calls, most uncertain first."""
    models = available_models()
    if not models:
        raise ModelError("no turn-level models in modelli/ (run 'qa train')")
    scored = [call_uncertainty(t, e, models) for t, e in pairs]
    scored.sort(key=lambda u: (-u.uncertainty, u.call_id))
    return scored[:n]
