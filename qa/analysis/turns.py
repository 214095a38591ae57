"""Turn-taking: a two-state hidden Markov model over the segments of a mono call.

Consecutive segments usually alternate between the parties; a segment that follows the previous
one after a very short gap is likely the same speaker continuing, an overlap likely the other
party; the first speaker of an inbound call is usually the agent. Forward-backward over the whole
call makes the decision call-level: the alternation ties each segment to the "voice" of its
neighbours, so a clear agent segment also fixes the roles of the ambiguous ones around it. The
change probabilities are refitted to each call (EM), so a call that strictly alternates is decided
as a whole and one whose ASR segments cut turns into pieces is not forced to alternate.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..constants import LANGS
from ..langdata import language_data
from ..model import Segment

# Turn-taking priors: P(speaker changes between consecutive segments) by the gap between them.
# "overlap": the next segment starts before this one ends (the other party talking over);
# "tight": a gap under TIGHT_GAP_S (usually the same speaker going on: the ASR cut a sentence);
# "pause": a normal pause (turns mostly alternate); "untimed": timings carry no information
# (estimated, all gaps alike). Each rate is refitted per call (EM) around its prior.
TIGHT_GAP_S = 0.12
P_CHANGE_PRIOR = {"overlap": 0.8, "tight": 0.3, "pause": 0.7, "untimed": 0.7}
P_CHANGE_PRIOR_BETA = {k: (v, 2.0) for k, v in P_CHANGE_PRIOR.items()}  # (mean, pseudo-count)
P_CHANGE_MIN, P_CHANGE_MAX = 0.05, 0.97
EM_ITERATIONS = 8
VOICE_WEIGHT = 2.0  # clean voice clusters outweigh a garbled turn's text and the alternation prior

# Context of a boundary between two segments (what a segmenter's cut looks like): a segment that
# ends on a word no utterance ends on (an article, a preposition, a conjunction: "non arriva il
# segnale al" | "monitor") was cut mid-sentence, and the same speaker most likely goes on; a
# segment that opens with an answer or backchannel word ("sì", "okay", "esatto") most likely comes
# from the other party. Each shifts the log-odds of a change at that boundary; the sizes are the
# log-odds ratios measured on the project's own spontaneous dialogues (modelli/dati/ruoli_spont,
# ``change_statistics``), rounded.
SHIFTS = {"cut": -1.2, "answer": 1.0, "backchannel_in": 2.0, "backchannel_out": 0.5}
BACKCHANNEL_MAX_WORDS = 3
# Language data: rubriche/lingue/<lang>.yaml, section roles (open_ended, answer_openers); a language
# without them uses every language's words, as an unknown language does.
OPEN_ENDED = {lang: " ".join(w) for lang in LANGS if (w := language_data(lang).roles.open_ended)}
ANSWER_OPENERS = {lang: " ".join(w) for lang in LANGS if (w := language_data(lang).roles.answer_openers)}
_OPEN_ENDED = {k: frozenset(v.split()) for k, v in OPEN_ENDED.items()}
_ANSWER = {k: frozenset(v.split()) for k, v in ANSWER_OPENERS.items()}
_ALL_OPEN_ENDED = frozenset().union(*_OPEN_ENDED.values())
_ALL_ANSWER = frozenset().union(*_ANSWER.values())


def timing_informative(segments: Sequence[Segment]) -> bool:
    """Whether the gaps between segments say anything (estimated timings put one fixed pause everywhere)."""
    gaps = [b.start - a.end for a, b in zip(segments, segments[1:])]
    if len(gaps) < 3:
        return True
    mean = sum(gaps) / len(gaps)
    spread = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps))
    return spread > 0.03  # estimated timings (one fixed pause between all segments) say nothing


def gap_kind(prev: Segment, nxt: Segment, informative: bool) -> str:
    """The kind of boundary between two segments by their gap: overlap, tight, pause or untimed."""
    if not informative:
        return "untimed"
    gap = nxt.start - prev.end
    if gap < -0.2:
        return "overlap"
    if gap < TIGHT_GAP_S:
        return "tight"
    return "pause"


def forward_backward(emissions: list[tuple[float, float]], p_change: list[float],
                      p_first: float) -> tuple[list[float], list[float], float]:
    """2-state chain (0 = agent, 1 = customer): posterior P(agent) per position, per pair of
    neighbours the posterior probability that the speaker changes between them, and the
    log-likelihood of the observations (scaled forward and backward passes, scalars only)."""
    n = len(emissions)
    log = math.log
    fa = [0.0] * n  # scaled forward probability of agent; of customer is 1 - fa
    e0, e1 = emissions[0]
    x, y = p_first * e0, (1 - p_first) * e1
    s = x + y
    loglik = log(s) if s > 0 else -1e9
    a = x / s if s > 0 else 0.5
    fa[0] = a
    for i in range(1, n):
        c = p_change[i - 1]
        e0, e1 = emissions[i]
        x = (a * (1 - c) + (1 - a) * c) * e0
        y = ((1 - a) * (1 - c) + a * c) * e1
        s = x + y
        if s > 0:
            loglik += log(s)
            a = x / s
        else:
            a = 0.5
        fa[i] = a
    ba = [0.5] * n  # scaled backward message of agent; of customer is 1 - ba
    b = 0.5
    post = [0.0] * n
    changes = [0.0] * (n - 1)
    pa, pc = fa[-1] * b, (1 - fa[-1]) * (1 - b)
    post[-1] = pa / (pa + pc) if pa + pc > 0 else 0.5
    for i in range(n - 2, -1, -1):
        c = p_change[i]
        e0, e1 = emissions[i + 1]
        u, v = e0 * b, e1 * (1 - b)  # next emission times next backward, per state
        x = (1 - c) * u + c * v
        y = c * u + (1 - c) * v
        a = fa[i]
        same = a * (1 - c) * u + (1 - a) * (1 - c) * v
        diff = a * c * v + (1 - a) * c * u
        changes[i] = diff / (same + diff) if same + diff > 0 else c
        s = x + y
        b = x / s if s > 0 else 0.5
        ba[i] = b
        pa, pc = a * b, (1 - a) * (1 - b)
        post[i] = pa / (pa + pc) if pa + pc > 0 else 0.5
    return post, changes, loglik


def _words(text: str) -> list[str]:
    return text.lower().replace("'", "' ").replace(",", " ").split()


def _backchannel(words: list[str], answer: frozenset) -> bool:
    return 0 < len(words) <= BACKCHANNEL_MAX_WORDS and all(w.strip(",.!?") in answer for w in words)


def boundary_features(prev_text: str, next_text: str, lang: str | None = None) -> dict[str, bool]:
    """The context of the boundary between two consecutive segments (names as in ``SHIFTS``)."""
    ended = _OPEN_ENDED.get(lang or "", _ALL_OPEN_ENDED)
    answer = _ANSWER.get(lang or "", _ALL_ANSWER)
    p, n = _words(prev_text), _words(next_text)
    next_bc = _backchannel(n, answer)
    return {"cut": bool(p) and p[-1] in ended and not prev_text.rstrip().endswith((".", "?", "!")),
            "answer": bool(n) and n[0].strip(",.!?") in answer and not next_bc,
            "backchannel_in": next_bc,
            "backchannel_out": _backchannel(p, answer)}


def change_shifts(segments: Sequence[Segment], lang: str | None = None) -> list[float]:
    """Per boundary between consecutive segments, the shift of the log-odds of a change of speaker
    that its context gives (the sum of ``SHIFTS`` over the features it has)."""
    out = []
    for a, b in zip(segments, segments[1:]):
        f = boundary_features(a.text, b.text, lang)
        out.append(sum(SHIFTS[k] for k, v in f.items() if v))
    return out


def change_statistics(dialogues: Sequence[Sequence[tuple[str, str]]], lang: str | None = None) -> dict[str, dict]:
    """From dialogues of (role, text) segments: per boundary feature, how many boundaries have it and
    the share where the speaker changes, and the log-odds ratio of a change with vs without it."""
    counts = {name: [[0, 0], [0, 0]] for name in SHIFTS}  # [without, with] x [same, change]
    for d in dialogues:
        for (ra, ta), (rb, tb) in zip(d, d[1:]):
            for name, has in boundary_features(ta, tb, lang).items():
                counts[name][has][ra != rb] += 1
    out = {}
    for name, ((s0, c0), (s1, c1)) in counts.items():
        lor = math.log((c1 + 0.5) / (s1 + 0.5)) - math.log((c0 + 0.5) / (s0 + 0.5))
        out[name] = {"with": s1 + c1, "change_with": c1 / max(1, s1 + c1), "without": s0 + c0,
                     "change_without": c0 / max(1, s0 + c0), "log_odds_ratio": lor}
    return out


def _shifted(rate: float, shift: float) -> float:
    if not shift:
        return rate
    z = math.log(rate / (1.0 - rate)) + shift
    return min(P_CHANGE_MAX, max(P_CHANGE_MIN, 1.0 / (1.0 + math.exp(-z))))


def decode(emissions: list[tuple[float, float]], kinds: list[str], p_first: float,
           iterations: int = EM_ITERATIONS, shifts: Sequence[float] | None = None) -> tuple[list[float], float]:
    """Posterior P(agent) per segment and the log-likelihood; the turn-taking probabilities are
    fitted to the call (EM with a prior): a call whose segments strictly alternate ends up with a
    near-certain change at every pause, so the whole call's text evidence decides which
    alternating voice is the agent; a call cut into many same-speaker pieces keeps a lower
    change probability. ``shifts``: per boundary, a shift of the log-odds of a change
    (``change_shifts``) around the call's fitted rate."""
    rates = dict(P_CHANGE_PRIOR)
    post: list[float] = [0.5] * len(emissions)
    loglik = 0.0
    shifts = list(shifts) if shifts is not None else [0.0] * len(kinds)
    by_kind: dict[str, list[int]] = {}
    for i, k in enumerate(kinds):
        by_kind.setdefault(k, []).append(i)
    for _ in range(max(1, iterations)):
        memo: dict[tuple[str, float], float] = {}  # a call's boundaries take a handful of distinct values
        p_change = [memo[kd] if kd in memo else memo.setdefault(kd, _shifted(rates[kd[0]], kd[1]))
                    for kd in zip(kinds, shifts)]
        post, changes, loglik = forward_backward(emissions, p_change, p_first)
        for kind, where in by_kind.items():
            prior, strength = P_CHANGE_PRIOR_BETA[kind]
            rates[kind] = min(P_CHANGE_MAX, max(P_CHANGE_MIN, (sum(changes[i] for i in where) + prior * strength)
                                                / (len(where) + strength)))
    return post, loglik


def decode_with_voices(emissions, kinds, p_first, membership: list[float], reliability: float,
                       shifts: Sequence[float] | None = None) -> list[float]:
    """Add the voice cue: segments were clustered into two voices (``membership`` = P(voice A));
    which voice is the agent is a call-level unknown, weighed by how well each hypothesis
    explains the text and turn-taking evidence."""
    posts, logliks = [], []
    for a_is_agent in (True, False):
        em = []
        for (ea, ec), m in zip(emissions, membership):
            m_agent = m if a_is_agent else 1.0 - m
            va = reliability * m_agent + (1 - reliability) * (1 - m_agent)
            em.append((ea * va ** VOICE_WEIGHT, ec * (1.0 - va) ** VOICE_WEIGHT))
        post, ll = decode(em, kinds, p_first, shifts=shifts)
        posts.append(post)
        logliks.append(ll)
    top = max(logliks)
    w = [math.exp(ll - top) for ll in logliks]
    w0 = w[0] / sum(w)
    return [w0 * a + (1 - w0) * b for a, b in zip(*posts)]
