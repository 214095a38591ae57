"""Who is speaking: agent or customer, for segments a mono recording leaves as ``unknown``.

A dual-channel recording tells the parties apart by channel; a mono one (or a transcript from
elsewhere, like the LUNA help-desk calls) does not. ``assign_roles`` decides per segment from
evidence combined in a two-state hidden Markov model over the segments:

- what is said (``qa.analysis.roles_text``): a scikit-learn classifier of agent vs customer
  segments (model ``modelli/ruoli.joblib``, trained by ``train_role_model`` on scripted turns and on
  spontaneous ASR-style dialogues, it/de/fr/en) and a few cue words per language;
- turn-taking (``qa.analysis.turns``): consecutive segments usually alternate between the parties;
  the gap between them (a very short one: the same speaker going on; an overlap: the other party)
  and the context of the boundary (a segment cut mid-sentence is continued by its speaker; a bare
  "sì" / "okay" comes from the other party, who then usually goes on) set the chance of a change;
  the first speaker of an inbound call is usually the agent. Forward-backward over the whole call
  makes the decision call-level, with the change probabilities refitted to each call (EM);
- the voices, when the audio is passed (``audio=``, ``qa.analysis.roles_voice``): segments are
  clustered into two voices; which voice is the agent is a call-level choice between two
  hypotheses, weighed by the text and turn-taking evidence.

On mono Italian transcripts without punctuation (a real call's machine transcript, like LUNA's) the
text and turn-taking evidence is instead weighed by the sequence model (``qa.analysis.sequence``,
``modelli/ruoli.seq.joblib``): a two-state CRF over the segments whose per-segment and per-boundary
weights were fitted jointly on whole dialogues, decoded by the same forward-backward (anchors, gaps,
per-call refit and voices combine with it as above). Other calls keep the hand-set chain.

Each segment gets ``extra["role_confidence"]`` (posterior probability of the chosen role,
0.5..1); below ``threshold`` the speaker stays ``unknown`` rather than a guess. Segments with
word timestamps and a long internal pause are first split into turns at the pause.
"""

from __future__ import annotations

import copy
import math
import os
import re
from pathlib import Path

from ..model import Segment, Transcript, Word
from .roles_text import (AGENT_CUES, CUSTOMER_CUES, DEFAULT_THRESHOLD, MODEL_NAME, SEQ_REFIT,  # noqa: F401
                         cue_ratio, normalise_text, load_sequence_model, sequence_example, text_probabilities, train_role_model,
                         train_sequence_model, training_data_files, training_data_path)
from .roles_voice import VOICE_MAX_RELIABILITY, VOICE_MIN_SILHOUETTE, voice_clusters, voice_features  # noqa: F401
from .sequence import decode_sequence, sequence_scores_fast
from .turns import change_shifts, decode, decode_with_voices, gap_kind, timing_informative

# The sequence model is opt-in (QA_ROLES_SEQUENCE=1): it assigns more turns right on real mono calls
# (LUNA held-out 66.4 % against 61.0 %), but the rubrics agreed no better with it on the LUNA tune calls
# (macro kappa 0.817 against 0.818 for the hand-set chain, with SCORING_ROLE_CONFIDENCE; accuracy
# 0.946 against 0.955): bench/results/roles.md.
SEQUENCE_DEFAULT = os.environ.get("QA_ROLES_SEQUENCE", "0") == "1"
SPLIT_PAUSE_S = 1.2  # a silence this long inside a segment is taken as a possible change of turn
P_FIRST_AGENT = {"inbound": 0.75, "outbound": 0.5, None: 0.65}  # outbound: the customer may answer first
# Languages the sequence model decides: those with enough whole dialogues in its training data (the
# spontaneous dialogues are mostly Italian; de/fr/en have a few each, and with the sequence model the
# scripted de/fr/en sets got worse than with the hand-set chain: bench/results/roles.md)
SEQ_LANGS = ("it",)
# ... and transcripts written as its training dialogues are (lower case, no punctuation: a real call's
# machine transcript like LUNA's); on punctuated scripted calls cut into sentences the hand-set chain,
# whose text classifier reads the punctuation, did better (bench/results/roles.md)
SEQ_MAX_PUNCTUATED = 0.2
_PUNCT = re.compile(r"[.?!,;:]")


def unpunctuated(segments) -> bool:
    """Whether at most ``SEQ_MAX_PUNCTUATED`` of the segments carry punctuation."""
    texts = [s.text for s in segments if s.text.strip()]
    return bool(texts) and sum(1 for t in texts if _PUNCT.search(t)) <= SEQ_MAX_PUNCTUATED * len(texts)  # refit the sequence model's change rate to each call (EM); see bench/results/roles.md
TEXT_TEMPER = 1.0  # exponent on the classifier's likelihoods (< 1: trust the text less than the turn-taking)


def split_at_pauses(segment: Segment, pause: float = SPLIT_PAUSE_S) -> list[Segment]:
    """Split a segment with word timestamps where a silence of ``pause`` s or more lies between words."""
    words = segment.words or []
    if len(words) < 2:
        return [segment]
    pieces: list[list[Word]] = [[words[0]]]
    for prev, w in zip(words, words[1:]):
        if w.start - prev.end >= pause:
            pieces.append([])
        pieces[-1].append(w)
    if len(pieces) == 1:
        return [segment]
    out = []
    for k, ws in enumerate(pieces):
        text = "".join(w.word if w.word[:1].isspace() else " " + w.word for w in ws).strip()
        extra = dict(segment.extra)
        extra["split_from"] = [round(segment.start, 3), round(segment.end, 3)]
        out.append(Segment(speaker=segment.speaker, start=ws[0].start, end=max(w.end for w in ws), text=text,
                           words=list(ws), confidence=segment.confidence, extra=extra))
    return out


def _copy_for_roles(transcript: Transcript) -> Transcript:
    """A copy of ``transcript`` that role assignment may change: new segments (their ``extra`` and
    word lists copied), new ``extra`` and ``metadata``; the immutable rest is shared (a deep copy of a
    60-turn call cost a tenth of its scoring time)."""
    out = copy.copy(transcript)
    # built field by field (dataclasses.replace cost five times as much; tests/test_roles.py checks that
    # these are all of Segment's fields)
    out.segments = [Segment(speaker=s.speaker, start=s.start, end=s.end, text=s.text,
                            words=list(s.words) if s.words is not None else None, confidence=s.confidence,
                            extra=dict(s.extra))
                    for s in transcript.segments]
    out.extra = copy.deepcopy(transcript.extra)
    out.metadata = copy.deepcopy(transcript.metadata)
    return out


def assign_roles(transcript: Transcript, threshold: float = DEFAULT_THRESHOLD, model: str = MODEL_NAME,
                 split_pause: float | None = SPLIT_PAUSE_S, turn_taking: bool = True,
                 audio: "np.ndarray | None" = None, sample_rate: int = 16000, cues: bool = True,
                 context: bool = True, sequence: bool | str | None = None) -> Transcript:
    """Return a copy of ``transcript`` whose ``unknown`` segments are labelled agent/customer.

    Segments already labelled (e.g. from a stereo channel) are kept and used as anchors.
    ``threshold``: least posterior probability to commit to a role (else ``unknown``);
    ``split_pause``: split segments with word timestamps at internal pauses this long (None: never);
    ``turn_taking``: False decides every segment from its text alone (for comparison);
    ``audio``: the recording (mono float32 at ``sample_rate``), if at hand: segments are then also
    clustered into two voices, and which voice is the agent is decided for the whole call;
    ``cues``: False leaves out the cue words; ``context``: False leaves out the boundary context
    (cut mid-sentence, backchannel, answer word) of the turn-taking model (for comparison);
    ``sequence``: True decides with the sequence model (``modelli/ruoli.seq.joblib``, a CRF over the
    call's segments) when it is there, or the one saved at the path given; False uses the hand-set
    turn-taking chain; None (default): ``SEQUENCE_DEFAULT`` (environment ``QA_ROLES_SEQUENCE=1``).
    Every segment that was unknown gets ``extra["role_confidence"]`` in [0, 1].
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be between 0 and 1")
    out = _copy_for_roles(transcript)
    if not any(s.speaker == "unknown" for s in out.segments):
        return out
    segments: list[Segment] = []
    for seg in out.segments:
        if seg.speaker == "unknown" and split_pause:
            segments.extend(split_at_pauses(seg, split_pause))
        else:
            segments.append(seg)
    segments.sort(key=lambda s: (s.start, s.end))
    todo = [i for i, s in enumerate(segments) if s.speaker == "unknown"]
    seq_model = None
    if sequence is None:
        sequence = SEQUENCE_DEFAULT
    if sequence and turn_taking and model == MODEL_NAME and (
            isinstance(sequence, str) or (out.language in SEQ_LANGS and unpunctuated(segments))):
        seq_model = load_sequence_model(sequence if isinstance(sequence, str) else None)
    if seq_model is not None:
        posterior, method = _sequence_posterior(segments, out.language, seq_model, model, audio, sample_rate)
    else:
        posterior, method = _chain_posterior(segments, todo, out, model, turn_taking, cues, context, audio,
                                             sample_rate)

    for i in todo:
        seg = segments[i]
        pa = posterior[i]
        role, conf = ("agent", pa) if pa >= 0.5 else ("customer", 1.0 - pa)
        # decided on the value that is stored, so the two always agree; a guess from a mono call is never
        # certain, so the confidence stays below 1 (threshold 1.0 leaves every segment unknown)
        conf = min(0.9999, round(float(conf), 4))
        seg.speaker = role if conf >= threshold else "unknown"
        seg.extra["role_confidence"] = conf
    out.segments = segments
    out.extra["roles"] = {"assigned": True,
                          "method": method,
                          "model": Path(model).stem, "threshold": threshold,
                          "unknown": sum(1 for i in todo if segments[i].speaker == "unknown")}
    return out


def _chain_posterior(segments, todo, out, model, turn_taking, cues, context, audio, sample_rate):
    """P(agent) per segment by the text classifier, the cue words and the hand-set turn-taking chain."""
    p_text = dict(zip(todo, text_probabilities([segments[i].text for i in todo], model)))

    emissions = []
    for i, seg in enumerate(segments):
        if seg.speaker == "agent":
            emissions.append((1.0, 1e-6))
        elif seg.speaker == "customer":
            emissions.append((1e-6, 1.0))
        else:
            # the classifier was trained on balanced classes: p / (1 - p) is the likelihood ratio
            r = cue_ratio(seg.text, out.language) if cues else 1.0
            emissions.append((p_text[i] ** TEXT_TEMPER * r, (1.0 - p_text[i]) ** TEXT_TEMPER))
    informative = timing_informative(segments)
    kinds = [gap_kind(a, b, informative) for a, b in zip(segments, segments[1:])]
    shifts = change_shifts(segments, out.language) if context else None
    direction = str(out.metadata.get("direction") or "").lower() or None
    p_first = P_FIRST_AGENT.get(direction, P_FIRST_AGENT[None])
    voices = voice_clusters(audio, segments, sample_rate) if audio is not None else None
    if turn_taking and voices is not None:
        posterior = decode_with_voices(emissions, kinds, p_first, *voices, shifts=shifts)
    elif turn_taking:
        posterior = decode(emissions, kinds, p_first, shifts=shifts)[0]
    else:
        posterior = [e[0] / (e[0] + e[1]) for e in emissions]

    method = "text classifier + turn-taking HMM" + (" + voice clusters" if voices else "")
    return posterior, method


def _sequence_posterior(segments, lang, seq_model, model, audio, sample_rate):
    """P(agent) per segment by the sequence model (``qa.analysis.sequence``); known speakers are anchors."""
    p_text = text_probabilities([s.text for s in segments], model)
    texts = [s.text for s in segments]
    cues = [math.log(cue_ratio(t, lang)) for t in texts]
    a, s = sequence_scores_fast(texts, p_text, cues, lang, seq_model["node"], seq_model["edge"])
    emissions = []
    for seg, ai in zip(segments, a):
        if seg.speaker == "agent":
            emissions.append((1.0, 1e-6))
        elif seg.speaker == "customer":
            emissions.append((1e-6, 1.0))
        else:
            p = _sigmoid(ai)
            emissions.append((p, 1.0 - p))
    p_change = [min(0.999, max(0.001, _sigmoid(x))) for x in s]
    voices = voice_clusters(audio, segments, sample_rate) if audio is not None else None
    informative = timing_informative(segments)
    kinds = [gap_kind(x, y, informative) for x, y in zip(segments, segments[1:])]
    posterior = decode_sequence(emissions, p_change, voices, kinds, refit=SEQ_REFIT)
    return posterior, "sequence model (CRF over the segments)" + (" + voice clusters" if voices else "")


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def most_overlapping(segment: Segment, candidates: list[Segment]) -> Segment | None:
    """The candidate that overlaps ``segment`` longest in time (the first of equals); None when none
    overlaps it."""
    best, overlap = None, 0.0
    for c in candidates:
        ov = min(segment.end, c.end) - max(segment.start, c.start)
        if ov > overlap:
            best, overlap = c, ov
    return best


def role_accuracy(reference: Transcript, predicted: Transcript) -> dict[str, float]:
    """Share of reference turns whose predicted role is right, matched by time overlap.

    ``accuracy`` counts ``unknown`` as wrong; ``coverage`` is the share given a role at all;
    ``precision`` is the accuracy among those given a role."""
    total = right = assigned = 0
    for ref in reference.segments:
        if ref.speaker not in ("agent", "customer"):
            continue
        best = most_overlapping(ref, predicted.segments)
        total += 1
        if best is not None and best.speaker in ("agent", "customer"):
            assigned += 1
            right += best.speaker == ref.speaker
    return {
        "turns": total,
        "accuracy": right / total if total else 0.0,
        "coverage": assigned / total if total else 0.0,
        "precision": right / assigned if assigned else 0.0,
    }


def hide_speakers(transcript: Transcript) -> Transcript:
    """A copy with every speaker set to ``unknown`` (what a mono recording gives)."""
    out = copy.deepcopy(transcript)
    for s in out.segments:
        s.speaker = "unknown"
    return out
