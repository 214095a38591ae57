"""The sequence model of speaker roles (issue 12): a two-state linear-chain CRF over the segments
of a call. Each segment's features (its words, first and last word, length, position in the call, the text
classifier's log-odds, the cue words, the words of its neighbours) give the log-odds that the
agent speaks it; each boundary's features (cut mid-sentence, backchannel, answer word, the last
word before and the first word after it, the two lengths, digits read back) give the log-odds of
a change of speaker. The weights are fitted jointly by maximum likelihood over whole dialogues
(``train_sequence``); decoding is the forward-backward pass of
``qa.analysis.turns`` with those per-segment
likelihoods and per-boundary change probabilities (a symmetric two-state chain is exactly such a
CRF), so anchors and the voices combine with it as with the hand-set chain. Trained by
``qa.analysis.roles_text.train_sequence_model`` on the spontaneous dialogues (it/de/fr/en) and,
unless switched off, the LUNA tune calls (CC BY-NC-SA 4.0); saved as modelli/ruoli.seq.joblib.
"""

from __future__ import annotations

import math
import re
from itertools import repeat
from typing import Sequence

from .turns import (BACKCHANNEL_MAX_WORDS, EM_ITERATIONS, P_CHANGE_MAX, P_CHANGE_MIN, P_CHANGE_PRIOR,
                    P_CHANGE_PRIOR_BETA, boundary_features, decode, decode_with_voices, forward_backward, gap_kind)

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
