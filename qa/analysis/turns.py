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
import re
from itertools import repeat
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


# ---------------------------------------------------------------------------------------------
# Sequence model (issue 12): a two-state linear-chain CRF over the segments of a call. Each
# segment's features (its words, first and last word, length, position in the call, the text
# classifier's log-odds, the cue words, the words of its neighbours) give the log-odds that the
# agent speaks it; each boundary's features (cut mid-sentence, backchannel, answer word, the last
# word before and the first word after it, the two lengths, digits read back) give the log-odds of
# a change of speaker. The weights are fitted jointly by maximum likelihood over whole dialogues
# (``train_sequence``); decoding is the forward-backward pass above with those per-segment
# likelihoods and per-boundary change probabilities (a symmetric two-state chain is exactly such a
# CRF), so anchors and the voices combine with it as with the hand-set chain. Trained by
# ``qa.analysis.roles_text.train_sequence_model`` on the spontaneous dialogues (it/de/fr/en) and,
# unless switched off, the LUNA tune calls (CC BY-NC-SA 4.0); saved as modelli/ruoli.seq.joblib.

SEQ_SKIP = True  # the two skip features of a boundary (short interjection in a cut sentence, echo)
_TOKEN = re.compile(r"<\s*([a-z]+)\s*>|(\w+'?)", re.U)
_NUMERIC_MASKS = frozenset(("digit", "num", "char"))
_TOKEN_CACHE: dict[str, tuple[str, ...]] = {}  # a worker sees the same stock phrases again and again


def tokens(text: str) -> tuple[str, ...]:
    """The words of a segment as the sequence model reads them: lower case, masks as ``<per>``,
    ``<loc>``, ..., numbers and digit or letter masks as ``<num>``."""
    got = _TOKEN_CACHE.get(text)
    if got is not None:
        return got
    out = []
    for mask, word in _TOKEN.findall(text.lower()):
        if mask:
            out.append("<num>" if mask in _NUMERIC_MASKS else "<" + mask + ">")
        else:
            out.append("<num>" if word.isdigit() else word)
    if len(_TOKEN_CACHE) > 50000:
        _TOKEN_CACHE.clear()
    got = _TOKEN_CACHE[text] = tuple(out)
    return got


def _lenbin(n: int) -> str:
    return "0" if n == 0 else "1" if n == 1 else "2" if n == 2 else "3" if n <= 4 else "5" if n <= 8 else "9" if n <= 16 else "17"


def sequence_features(texts, p_text, cue_logs, lang=None, context=True):
    """Per segment a feature dict (its agent-vs-customer log-odds), per boundary between consecutive
    segments a feature dict (the log-odds of a change of speaker). Every feature is 1.0 but the
    real-valued ``SEQ_REAL`` ones (the text classifier's log-odds, the cue words' log ratio)."""
    toks = [tokens(t) for t in texts]
    n = len(texts)
    sets = [set(w) for w in toks]
    nodes, edges = [], []
    for i, (t, w) in enumerate(zip(texts, toks)):
        keys = ["bias", "len=" + _lenbin(len(w)), "pos=" + str(min(4, int(5 * i / max(1, n))))]
        keys += ["w=" + x for x in sets[i]]
        keys += ["b=" + a + "_" + b for a, b in zip(w, w[1:])]
        if w:
            keys += ("f=" + w[0], "l=" + w[-1])
            if w.count("<num>") * 2 > len(w):
                keys.append("mostly_num")
        if i == 0:
            keys.append("first")
        elif i == 1:
            keys.append("second")
        if i == n - 1:
            keys.append("last")
        if context:
            if i > 0:
                keys += ["pw=" + x for x in sets[i - 1]]
            if i + 1 < n:
                keys += ["nw=" + x for x in sets[i + 1]]
        f = dict.fromkeys(keys, 1.0)
        pt = min(0.98, max(0.02, p_text[i]))
        f["txt"] = math.log(pt / (1 - pt))
        f["cue"] = cue_logs[i]
        nodes.append(f)
    return nodes, _edge_features(texts, toks, lang)


def _edge_features(texts, toks, lang):
    """Per boundary between consecutive segments its feature dict (``sequence_features``)."""
    n = len(texts)
    edges = []
    bf_prev = [boundary_features(texts[i], texts[i + 1], lang) for i in range(n - 1)]
    for i in range(n - 1):
        a, b = toks[i], toks[i + 1]
        g = {"bias": 1.0}
        for k, v in bf_prev[i].items():
            if v:
                g[k] = 1.0
        if a:
            g["pl=" + a[-1]] = 1.0
        if b:
            g["nf=" + b[0]] = 1.0
        g["lens=" + _lenbin(len(a)) + "_" + _lenbin(len(b))] = 1.0
        if a and b and a[-1] == "<num>" and b[0] == "<num>":
            g["num_num"] = 1.0
        if SEQ_SKIP and i > 0 and len(a) <= BACKCHANNEL_MAX_WORDS and bf_prev[i - 1].get("cut"):
            g["skip_cut"] = 1.0  # a short interjection inside a sentence cut mid-way: back to its speaker
        if SEQ_SKIP and b and a and b[0] in a[-3:]:
            g["echo"] = 1.0  # the next segment opens on a word the last one ended with (a read-back)
        edges.append(g)
    return edges


def _sig(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


SEQ_REAL = ("txt", "cue")  # the real-valued features; every other one is 1.0 where present
_ZERO = 0.0


def _dot(f: dict, w: dict) -> float:
    # every feature counted as 1.0 (one C-level pass), then the real-valued ones corrected
    total = sum(map(w.get, f, repeat(_ZERO)))
    for k in SEQ_REAL:
        x = f.get(k)
        if x is not None:
            total += w.get(k, 0.0) * (x - 1.0)
    return total


def sequence_scores(nodes, edges, w, v):
    """Per segment the agent-vs-customer log-odds and per boundary the change log-odds of weights
    ``w`` and ``v`` (feature name -> weight)."""
    return [_dot(f, w) for f in nodes], [_dot(g, v) for g in edges]


_SPLIT_CACHE: dict[int, tuple[dict, dict, dict]] = {}


def _split_weights(w: dict) -> tuple[dict, dict]:
    """The node weights grouped by feature prefix ("w", "b", "pw", ...: suffix -> weight) and the
    plain ones, built once per model."""
    got = _SPLIT_CACHE.get(id(w))
    if got is not None and got[2] is w:
        return got[0], got[1]
    groups: dict[str, dict] = {p: {} for p in ("w", "b", "f", "l", "pw", "nw", "len", "pos")}
    plain: dict[str, float] = {}
    for key, x in w.items():
        prefix, eq, rest = key.partition("=")
        if eq and prefix in groups:
            groups[prefix][rest] = x
        else:
            plain[key] = x
    _SPLIT_CACHE[id(w)] = (groups, plain, w)
    return groups, plain


def sequence_scores_fast(texts, p_text, cue_logs, lang, w: dict, v: dict) -> tuple[list[float], list[float]]:
    """``sequence_scores(*sequence_features(...))`` without building the per-segment feature dicts (the
    scoring path; tests/test_roles_context.py checks that both agree)."""
    toks = [tokens(t) for t in texts]
    n = len(texts)
    sets = [set(t) for t in toks]
    g, plain = _split_weights(w)
    zeros = repeat(_ZERO)
    gw, gb, gf, gl, gpw, gnw, glen, gpos = (g[k] for k in ("w", "b", "f", "l", "pw", "nw", "len", "pos"))
    own = [sum(map(gw.get, st, zeros)) for st in sets]
    as_prev = [sum(map(gpw.get, st, zeros)) for st in sets]
    as_next = [sum(map(gnw.get, st, zeros)) for st in sets]
    pget = plain.get
    bias, w_txt, w_cue, w_num = pget("bias", 0.0), pget("txt", 0.0), pget("cue", 0.0), pget("mostly_num", 0.0)
    scores = []
    for i, tk in enumerate(toks):
        a = bias + own[i] + glen.get(_lenbin(len(tk)), 0.0) + gpos.get(str(min(4, int(5 * i / max(1, n)))), 0.0)
        if len(tk) > 1:
            a += sum(map(gb.get, {x + "_" + y for x, y in zip(tk, tk[1:])}, zeros))
        if tk:
            a += gf.get(tk[0], 0.0) + gl.get(tk[-1], 0.0)
            if tk.count("<num>") * 2 > len(tk):
                a += w_num
        if i == 0:
            a += pget("first", 0.0)
        elif i == 1:
            a += pget("second", 0.0)
        if i == n - 1:
            a += pget("last", 0.0)
        if i > 0:
            a += as_prev[i - 1]
        if i + 1 < n:
            a += as_next[i + 1]
        pt = min(0.98, max(0.02, p_text[i]))
        a += w_txt * math.log(pt / (1 - pt)) + w_cue * cue_logs[i]
        scores.append(a)
    return scores, [_dot(e, v) for e in _edge_features(texts, toks, lang)]


def sequence_posterior(nodes, edges, w, v, refit: bool = True, kinds: Sequence[str] | None = None) -> list[float]:
    """P(agent) per segment of one call by the sequence model of weights ``w`` (segments) and ``v``
    (boundaries), decoded by ``decode_sequence``."""
    a, s = sequence_scores(nodes, edges, w, v)
    em = [(p, 1.0 - p) for p in map(_sig, a)]
    pc = [min(0.999, max(0.001, _sig(x))) for x in s]
    return decode_sequence(em, pc, None, kinds, refit=refit)


def train_sequence(seqs, l2=1.0, l2_dense=0.1, weights=None, maxiter=300):
    """seqs: list of (nodes, edges, labels) with labels 1 = agent. Returns (w, v) dicts."""
    import numpy as np
    from scipy.optimize import minimize
    from sklearn.feature_extraction import DictVectorizer

    dvn, dve = DictVectorizer(), DictVectorizer()
    Xn = dvn.fit_transform([f for s in seqs for f in s[0]]).tocsr()
    Xe = dve.fit_transform([g for s in seqs for g in s[1]] or [{"bias": 1.0}]).tocsr()
    dn, de = Xn.shape[1], Xe.shape[1]
    y = np.array([l for s in seqs for l in s[2]], dtype=float)
    chg = np.array([float(a != b) for s in seqs for a, b in zip(s[2], s[2][1:])])
    sw = np.array([weights[k] if weights else 1.0 for k, s in enumerate(seqs) for _ in s[2]])
    swe = np.array([weights[k] if weights else 1.0 for k, s in enumerate(seqs) for _ in s[2][1:]])
    bounds_n, bounds_e = [], []
    pn = pe = 0
    for s in seqs:
        bounds_n.append((pn, pn + len(s[0])))
        bounds_e.append((pe, pe + len(s[1])))
        pn += len(s[0])
        pe += len(s[1])
    dense = {"bias", "txt", "cue"}
    regn = np.array([l2_dense if nm in dense else l2 for nm in dvn.feature_names_])
    rege = np.array([l2_dense if nm in dense else l2 for nm in dve.feature_names_])
    seq_w = weights or [1.0] * len(seqs)

    def f(theta):
        wn, we = theta[:dn], theta[dn:]
        A = Xn @ wn
        S = Xe @ we
        q = np.zeros_like(A)
        r = np.zeros_like(S)
        nll = 0.0
        for k, ((n0, n1), (e0, e1)) in enumerate(zip(bounds_n, bounds_e)):
            a = A[n0:n1]
            pa = 1 / (1 + np.exp(-np.clip(a, -30, 30)))
            em = list(zip(pa.tolist(), (1 - pa).tolist()))
            if n1 - n0 == 1:
                post, changes, ll = [pa[0]], [], math.log(0.5)
            else:
                sv = S[e0:e1]
                pc = (1 / (1 + np.exp(-np.clip(sv, -30, 30)))).tolist()
                post, changes, ll = forward_backward(em, pc, 0.5)
            q[n0:n1] = post
            r[e0:e1] = changes
            yy = y[n0:n1]
            # log P(y) = sum log em[y] + sum log pc/1-pc + log .5 - loglik
            lp = np.sum(yy * np.log(pa + 1e-12) + (1 - yy) * np.log(1 - pa + 1e-12)) + math.log(0.5)
            if n1 - n0 > 1:
                cc = chg[e0:e1]
                pcs = 1 / (1 + np.exp(-np.clip(S[e0:e1], -30, 30)))
                lp += np.sum(cc * np.log(pcs + 1e-12) + (1 - cc) * np.log(1 - pcs + 1e-12))
            nll -= seq_w[k] * (lp - ll)
        # gradient: for the emission in (p, 1-p) form, d/da of log em[y] - E[log em] = y - q
        gn = -(Xn.T @ (sw * (y - q)))
        ge = -(Xe.T @ (swe * (chg - r))) if de else np.zeros(0)
        nll += 0.5 * np.sum(regn * wn ** 2) + 0.5 * np.sum(rege * we ** 2)
        gn = gn + regn * wn
        ge = ge + rege * we
        return nll, np.concatenate([gn, ge])

    theta0 = np.zeros(dn + de)
    res = minimize(f, theta0, jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    wn, we = res.x[:dn], res.x[dn:]
    w = {nm: float(x) for nm, x in zip(dvn.feature_names_, wn) if abs(x) > 1e-4}
    v = {nm: float(x) for nm, x in zip(dve.feature_names_, we) if abs(x) > 1e-4}
    return w, v


def decode_sequence(emissions: list[tuple[float, float]], p_change: list[float],
                    voices: tuple[list[float], float] | None = None, kinds: Sequence[str] | None = None,
                    refit: bool = True) -> list[float]:
    """Posterior P(agent) per segment under the sequence model's likelihoods and change probabilities
    (``sequence_scores``). ``refit``: the change probabilities are moved, per kind of gap
    (``gap_kind``; "untimed" when ``kinds`` is None), by the call's own rate of change (EM, as
    ``decode``): a call that strictly alternates is decided as a whole; with ``voices`` (P(voice A)
    per segment, reliability) which voice is the agent is weighed as in ``decode_with_voices``."""
    if len(emissions) == 1:
        e0, e1 = emissions[0]
        return [e0 / (e0 + e1) if e0 + e1 > 0 else 0.5]
    kinds = list(kinds) if kinds is not None else ["untimed"] * len(p_change)
    # the model's change log-odds hold for untimed segments (its training dialogues have no timings): a
    # gap adds its own evidence as the log-odds of its kind's prior against the untimed one (a tight gap:
    # the same speaker going on), and each kind's rate is then refitted to the call
    untimed = math.log(P_CHANGE_PRIOR["untimed"] / (1 - P_CHANGE_PRIOR["untimed"]))
    shifts = [math.log(p / (1 - p)) - untimed for p in p_change]
    if voices is not None:
        return decode_with_voices(emissions, kinds, 0.5, *voices, shifts=shifts)
    if not refit:
        return forward_backward(emissions, p_change, 0.5)[0]
    # ``decode`` with the shifts inlined (one exp per boundary and iteration: a hot path)
    exp, lo, hi = math.exp, P_CHANGE_MIN, P_CHANGE_MAX
    rates = dict(P_CHANGE_PRIOR)
    by_kind: dict[str, list[int]] = {}
    for i, k in enumerate(kinds):
        by_kind.setdefault(k, []).append(i)
    post: list[float] = []
    for _ in range(EM_ITERATIONS):
        base = {k: math.log(r / (1.0 - r)) for k, r in rates.items()}
        pc = [min(hi, max(lo, 1.0 / (1.0 + exp(-(base[k] + z))))) for k, z in zip(kinds, shifts)]
        post, changes, _ = forward_backward(emissions, pc, 0.5)
        for kind, where in by_kind.items():
            prior, strength = P_CHANGE_PRIOR_BETA[kind]
            rates[kind] = min(hi, max(lo, (sum(changes[i] for i in where) + prior * strength) / (len(where) + strength)))
    return post
