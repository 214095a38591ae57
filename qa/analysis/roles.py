"""Who is speaking: agent or customer, for segments a mono recording leaves as ``unknown``.

A dual-channel recording tells the parties apart by channel; a mono one (or a transcript from
elsewhere, like the LUNA help-desk calls) does not. ``assign_roles`` decides per turn from
two kinds of evidence combined in a two-state hidden Markov model over the segments:

- what is said: a scikit-learn classifier of agent vs customer utterances (``qa.learning.learn``
  recipe, model ``modelli/ruoli.joblib``, trained on ``modelli/dati/ruoli.tsv`` in it/de/fr/en
  by ``train_role_model``). "servizio clienti, sono Laura, come posso aiutarla?" is an agent,
  "ho un problema con la fattura" a customer; "sì" or "okay" could be either and counts little;
- turn-taking: consecutive segments usually alternate between the parties; a segment that
  follows the previous one after a very short gap is likely the same speaker continuing, an
  overlap likely the other party; the first speaker of an inbound call is usually the agent
  (of an outbound call, the customer answering). Forward-backward over the whole call makes
  the decision call-level: the alternation ties each turn to the "voice" of its neighbours, so a
  clear agent turn also fixes the roles of the ambiguous turns around it. The change
  probabilities are refitted to each call (EM), so a call that strictly alternates is decided
  as a whole and one whose ASR segments cut turns into pieces is not forced to alternate;
- the voices, when the audio is passed (``audio=``): segments are clustered into two voices
  (MFCCs in the telephone band + pitch, k-means); which voice is the agent is a call-level
  choice between two hypotheses, weighed by the text and turn-taking evidence.

Each segment gets ``extra["role_confidence"]`` (posterior probability of the chosen role,
0.5..1); below ``threshold`` the speaker stays ``unknown`` rather than a guess. Segments with
word timestamps and a long internal pause are first split into turns at the pause.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any, Sequence

from ..errors import ModelError
from ..model import Segment, Transcript, Word

MODEL_NAME = "ruoli"
DEFAULT_THRESHOLD = 0.6
SPLIT_PAUSE_S = 1.2  # a silence this long inside a segment is taken as a possible change of turn

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
P_FIRST_AGENT = {"inbound": 0.75, "outbound": 0.5, None: 0.65}  # outbound: the customer may answer first
# How much the text classifier is trusted on a turn of n words: 1-2 word turns ("sì", "okay")
# are weak evidence whatever the model says.
TEXT_WEIGHT_WORDS = 4.0
P_CLIP = 0.02
VOICE_MIN_SILHOUETTE = 0.12  # below this the two voice clusters are not worth trusting
VOICE_MAX_RELIABILITY = 0.99
VOICE_WEIGHT = 2.0  # clean voice clusters outweigh a garbled turn's text and the alternation prior
TEXT_TEMPER = 1.0  # exponent on the classifier's likelihoods (< 1: trust the text less than the turn-taking)

# anonymisation tags (LUNA: <PER>, <NUM>, <DIGIT>, <ORG>, <LOC>, ...) read as plain words
_MASKS = [(re.compile(r"<\s*PER\s*>", re.I), "Rossi"), (re.compile(r"<\s*(NUM|DIGIT)\s*>", re.I), "12"),
          (re.compile(r"<\s*[A-Z]{2,8}\s*>"), "Lugano")]
_WORD = re.compile(r"\w+", re.U)


def training_data_path() -> Path:
    from ..config import models_dir

    return models_dir() / "dati" / f"{MODEL_NAME}.tsv"


def train_role_model(data: str | Path | None = None, out_dir: str | Path | None = None,
                     force: bool = False) -> dict[str, Any]:
    """Train the agent/customer turn classifier from ``modelli/dati/ruoli.tsv``; return its card.

    As every ``qa.learning.learn`` model, the new one replaces the current one only if it does at least as
    well on the held-out split (or ``force``)."""
    from ..learning.learn import read_examples, train

    path = Path(data) if data else training_data_path()
    if not path.exists():
        raise ModelError("role training data not found", str(path))
    examples = read_examples(path)
    bad = sorted({e.label for e in examples} - {"agent", "customer"})
    if bad:
        raise ModelError(f"role training data has labels other than agent/customer: {bad}", str(path))
    return train(
        MODEL_NAME, examples, out_dir=out_dir, force=force,
        description="Agent vs customer, one transcript turn (it/de/fr/en), for mono recordings. "
                    "Used by qa.analysis.roles.assign_roles together with turn-taking cues.",
        extra_card={"training_data": f"modelli/dati/{path.name}",
                    "intended_use": "speaker role of ASR turns in contact-centre calls; weak on 1-2 word turns"},
    )


def normalise_text(text: str) -> str:
    """What the classifier sees: anonymisation masks (<PER>, <NUM>) replaced by plain words."""
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text.strip()


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


def _mel_filterbank(sr: int, n_fft: int, n_mels: int = 32, fmin: float = 100.0, fmax: float = 3800.0):
    import numpy as np

    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    fmax = min(fmax, sr / 2 - 1)
    points = hz(np.linspace(mel(fmin), mel(fmax), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fb = np.zeros((n_mels, bins.size))
    for k in range(n_mels):
        lo, mid, hi = points[k], points[k + 1], points[k + 2]
        fb[k] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0.0, None)
    return fb


def voice_features(audio, segments: Sequence[Segment], sample_rate: int = 16000):
    """Per segment: mean and spread of MFCCs (telephone band) and the median pitch of its voiced
    frames; ``None`` for segments with under 0.15 s of speech."""
    import numpy as np
    from scipy.fft import dct

    x = np.asarray(audio, dtype=np.float32)
    win, hop = int(0.025 * sample_rate), int(0.010 * sample_rate)
    n_fft = 1 << (win - 1).bit_length()
    fb = _mel_filterbank(sample_rate, n_fft)
    window = np.hanning(win).astype(np.float32)
    lag_lo, lag_hi = int(sample_rate / 400), int(sample_rate / 60)
    out = []
    for seg in segments:
        a, b = int(seg.start * sample_rate), min(x.size, int(seg.end * sample_rate))
        y = x[a:b]
        n = 1 + (y.size - win) // hop if y.size >= win else 0
        if n < 15:
            out.append(None)
            continue
        frames = np.lib.stride_tricks.sliding_window_view(y, win)[::hop][:n] * window
        power = np.abs(np.fft.rfft(frames, n_fft)) ** 2
        energy = 10 * np.log10(power.sum(axis=1) + 1e-10)
        voiced = energy > energy.max() - 25.0
        if voiced.sum() < 12:
            out.append(None)
            continue
        logmel = np.log(power[voiced] @ fb.T + 1e-8)
        mfcc = dct(logmel, type=2, norm="ortho", axis=1)[:, 1:13]
        # pitch: autocorrelation peak between 60 and 400 Hz, on the voiced frames
        f = frames[voiced]
        ac = np.fft.irfft(np.abs(np.fft.rfft(f, 2 * n_fft)) ** 2)[:, :lag_hi + 1]
        lags = lag_lo + np.argmax(ac[:, lag_lo:lag_hi + 1], axis=1)
        strength = ac[np.arange(len(f)), lags] / (ac[:, 0] + 1e-10)
        pitched = lags[strength > 0.3]
        f0 = float(np.log(sample_rate / np.median(pitched))) if pitched.size >= 10 else float("nan")
        out.append(np.concatenate([mfcc.mean(axis=0), mfcc.std(axis=0), [f0]]))
    return out


def voice_clusters(audio, segments: Sequence[Segment], sample_rate: int = 16000):
    """Cluster the segments into two voices: (P(voice A) per segment, reliability 0.5..0.95),
    or ``None`` when the voices cannot be told apart."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    feats = voice_features(audio, segments, sample_rate)
    idx = [i for i, f in enumerate(feats) if f is not None]
    if len(idx) < 6:
        return None
    X = np.array([feats[i] for i in idx], dtype=np.float64)
    pitch = X[:, -1]
    if np.isnan(pitch).all():
        X = X[:, :-1]
    else:
        X[np.isnan(pitch), -1] = np.nanmedian(pitch)
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-9)
    weights = np.array([max(0.3, segments[i].end - segments[i].start) for i in idx])
    km = KMeans(n_clusters=2, n_init=10, random_state=0).fit(X, sample_weight=weights)
    labels = km.labels_
    if min(np.bincount(labels, minlength=2)) < 2:
        return None
    sil = float(silhouette_score(X, labels))
    if sil < VOICE_MIN_SILHOUETTE:
        return None
    d = km.transform(X)  # distance to each centre
    margin = d[:, 1] - d[:, 0]
    scale = float(np.median(np.abs(margin))) or 1.0
    p_a = 1.0 / (1.0 + np.exp(-4.0 * margin / scale))
    membership = [0.5] * len(segments)
    for k, i in enumerate(idx):
        membership[i] = float(p_a[k])
    reliability = float(min(VOICE_MAX_RELIABILITY, 0.5 + sil))
    return membership, reliability


def _text_probabilities(texts: Sequence[str], model: str) -> list[float]:
    from ..learning.learn import predict_proba

    probs = predict_proba(model, [normalise_text(t) or "." for t in texts])
    out = []
    for text, p in zip(texts, probs):
        pa = p.get("agent", 0.5)
        n = len(_WORD.findall(text))
        w = min(1.0, n / TEXT_WEIGHT_WORDS)
        out.append(min(1 - P_CLIP, max(P_CLIP, 0.5 + (pa - 0.5) * w)))
    return out


# Words that say who is speaking whatever the service (CRITERIA.md, "Who spoke": the agent asks
# for identifiers, opens or chases requests, connects remotely, addresses the caller as "signora";
# the caller reports what happens on their own side: "non mi funziona", "il mio computer"). Each
# cue found in a turn multiplies its likelihood ratio by CUE_FACTOR (agent) or 1 / CUE_FACTOR.
CUE_FACTOR = 2.5
CUE_MAX = 3  # cues counted per turn, each way
AGENT_CUES = {
    "it": r"\b(signora|signor|signorina|dottore|dottoressa|mi dica|mi dice|mi dà|mi da|mi dia|mi diceva|mi stava dicendo|"
          r"dicevamo|provi|proviamo|riprovi|vediamo|verifico|controllo subito|le lascio|ti lascio|le mando|ti mando|"
          r"le faccio|la richiamo|ti richiamo|la chiamo|ti chiamo|numero (?:della|di) (?:chiamata|richiesta|ticket|"
          r"remedy|intervento|pratica)|apro (?:una|un) |mi collego|in remoto|eccomi|attenda|un attimo che|"
          r"allora (?:mi|le|ti|vediamo)|okay allora|come posso|in cosa posso|(?:il|la) sua|(?:i|le) sue|suoi)\b",
    "de": r"\b(Frau|Herr|sagen Sie mir|geben Sie mir|versuchen Sie|probieren Sie|ich schaue|ich sehe hier|"
          r"ich verbinde mich|ich schicke Ihnen|ich rufe Sie|Ticketnummer|Referenznummer|einen Moment bitte|"
          r"wie kann ich|Ihr|Ihre|Ihren|Ihrem|Ihrer)\b",
    "fr": r"\b(madame|monsieur|dites-moi|donnez-moi|essayez|je regarde|je vérifie|je vous envoie|je vous rappelle|"
          r"numéro de (?:ticket|dossier|demande)|je me connecte|ne quittez pas|un instant|comment puis-je|votre|vos)\b",
    "en": r"\b(madam|sir|can you tell me|could you tell me|try (?:again|to)|let me check|I'll send you|I'll call you|"
          r"ticket number|reference number|I'm connecting|bear with me|one moment|how can I help|your)\b",
}
CUSTOMER_CUES = {
    "it": r"\b(non mi|non riesco|il mio|la mia|i miei|le mie|mio|mia|ho provato|mi sembra|sembra|volevo|vorrei|"
          r"ho un problema|abbiamo un problema|non funziona|mi compare|mi dà|mi da errore|sono una collega|"
          r"sono un collega|dunque|ad esempio|non so)\b",
    "de": r"\b(mein|meine|meinen|meinem|ich habe ein Problem|ich kann nicht|funktioniert nicht|ich wollte|"
          r"ich möchte|ich habe versucht|bei mir)\b",
    "fr": r"\b(mon|ma|mes|j'ai un problème|je n'arrive pas|ça ne marche pas|ne fonctionne pas|je voulais|"
          r"je voudrais|j'ai essayé|chez moi)\b",
    "en": r"\b(my|I've got a problem|I have a problem|I can't|it doesn't work|isn't working|I wanted|"
          r"I'd like|I tried|I've tried)\b",
}
_CUE_RE: dict = {}


def _cue_ratio(text: str, lang: str | None) -> float:
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


def _timing_informative(segments: Sequence[Segment]) -> bool:
    gaps = [b.start - a.end for a, b in zip(segments, segments[1:])]
    if len(gaps) < 3:
        return True
    mean = sum(gaps) / len(gaps)
    spread = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps))
    return spread > 0.03  # estimated timings (one fixed pause between all segments) say nothing


def _gap_kind(prev: Segment, nxt: Segment, informative: bool) -> str:
    if not informative:
        return "untimed"
    gap = nxt.start - prev.end
    if gap < -0.2:
        return "overlap"
    if gap < TIGHT_GAP_S:
        return "tight"
    return "pause"


def _forward_backward(emissions: list[tuple[float, float]], p_change: list[float],
                      p_first: float) -> tuple[list[float], list[float], float]:
    """2-state chain (0 = agent, 1 = customer): posterior P(agent) per position, per pair of
    neighbours the posterior probability that the speaker changes between them, and the
    log-likelihood of the observations."""
    n = len(emissions)
    alpha = [[0.0, 0.0] for _ in range(n)]
    a0 = [p_first * emissions[0][0], (1 - p_first) * emissions[0][1]]
    s = sum(a0) or 1.0
    loglik = math.log(s) if s > 0 else -1e9
    alpha[0] = [a0[0] / s, a0[1] / s]
    for i in range(1, n):
        c = p_change[i - 1]
        prev = alpha[i - 1]
        cur = [(prev[0] * (1 - c) + prev[1] * c) * emissions[i][0],
               (prev[1] * (1 - c) + prev[0] * c) * emissions[i][1]]
        s = sum(cur) or 1.0
        loglik += math.log(s)
        alpha[i] = [cur[0] / s, cur[1] / s]
    beta = [[1.0, 1.0] for _ in range(n)]
    for i in range(n - 2, -1, -1):
        c = p_change[i]
        e = emissions[i + 1]
        nb = beta[i + 1]
        cur = [(1 - c) * e[0] * nb[0] + c * e[1] * nb[1],
               c * e[0] * nb[0] + (1 - c) * e[1] * nb[1]]
        s = sum(cur) or 1.0
        beta[i] = [cur[0] / s, cur[1] / s]
    post = []
    for a, b in zip(alpha, beta):
        pa, pc = a[0] * b[0], a[1] * b[1]
        post.append(pa / (pa + pc) if pa + pc > 0 else 0.5)
    changes = []
    for i in range(n - 1):
        c = p_change[i]
        e = emissions[i + 1]
        b = beta[i + 1]
        same = alpha[i][0] * (1 - c) * e[0] * b[0] + alpha[i][1] * (1 - c) * e[1] * b[1]
        diff = alpha[i][0] * c * e[1] * b[1] + alpha[i][1] * c * e[0] * b[0]
        changes.append(diff / (same + diff) if same + diff > 0 else c)
    return post, changes, loglik


def _decode(emissions: list[tuple[float, float]], kinds: list[str], p_first: float,
            iterations: int = EM_ITERATIONS) -> tuple[list[float], float]:
    """Posterior P(agent) per segment and the log-likelihood; the turn-taking probabilities are
    fitted to the call (EM with a prior): a call whose segments strictly alternate ends up with a
    near-certain change at every pause, so the whole call's text evidence decides which
    alternating voice is the agent; a call cut into many same-speaker pieces keeps a lower
    change probability."""
    rates = dict(P_CHANGE_PRIOR)
    post: list[float] = [0.5] * len(emissions)
    loglik = 0.0
    for _ in range(max(1, iterations)):
        post, changes, loglik = _forward_backward(emissions, [rates[k] for k in kinds], p_first)
        for kind, (prior, strength) in P_CHANGE_PRIOR_BETA.items():
            observed = [c for c, k in zip(changes, kinds) if k == kind]
            if observed:
                rates[kind] = min(P_CHANGE_MAX, max(P_CHANGE_MIN, (sum(observed) + prior * strength)
                                                    / (len(observed) + strength)))
    return post, loglik


def _decode_with_voices(emissions, kinds, p_first, membership: list[float], reliability: float) -> list[float]:
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
        post, ll = _decode(em, kinds, p_first)
        posts.append(post)
        logliks.append(ll)
    top = max(logliks)
    w = [math.exp(ll - top) for ll in logliks]
    w0 = w[0] / sum(w)
    return [w0 * a + (1 - w0) * b for a, b in zip(*posts)]


def assign_roles(transcript: Transcript, threshold: float = DEFAULT_THRESHOLD, model: str = MODEL_NAME,
                 split_pause: float | None = SPLIT_PAUSE_S, turn_taking: bool = True,
                 audio: "np.ndarray | None" = None, sample_rate: int = 16000, cues: bool = True) -> Transcript:
    """Return a copy of ``transcript`` whose ``unknown`` segments are labelled agent/customer.

    Segments already labelled (e.g. from a stereo channel) are kept and used as anchors.
    ``threshold``: least posterior probability to commit to a role (else ``unknown``);
    ``split_pause``: split segments with word timestamps at internal pauses this long (None: never);
    ``turn_taking``: False decides every segment from its text alone (for comparison);
    ``audio``: the recording (mono float32 at ``sample_rate``), if at hand: segments are then also
    clustered into two voices, and which voice is the agent is decided for the whole call.
    Every segment that was unknown gets ``extra["role_confidence"]`` in [0, 1].
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be between 0 and 1")
    out = copy.deepcopy(transcript)
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
    p_text = dict(zip(todo, _text_probabilities([segments[i].text for i in todo], model)))

    emissions = []
    for i, seg in enumerate(segments):
        if seg.speaker == "agent":
            emissions.append((1.0, 1e-6))
        elif seg.speaker == "customer":
            emissions.append((1e-6, 1.0))
        else:
            # the classifier was trained on balanced classes: p / (1 - p) is the likelihood ratio
            r = _cue_ratio(seg.text, out.language) if cues else 1.0
            emissions.append((p_text[i] ** TEXT_TEMPER * r, (1.0 - p_text[i]) ** TEXT_TEMPER))
    informative = _timing_informative(segments)
    kinds = [_gap_kind(a, b, informative) for a, b in zip(segments, segments[1:])]
    direction = str(out.metadata.get("direction") or "").lower() or None
    p_first = P_FIRST_AGENT.get(direction, P_FIRST_AGENT[None])
    voices = voice_clusters(audio, segments, sample_rate) if audio is not None else None
    if turn_taking and voices is not None:
        posterior = _decode_with_voices(emissions, kinds, p_first, *voices)
    elif turn_taking:
        posterior = _decode(emissions, kinds, p_first)[0]
    else:
        posterior = [e[0] / (e[0] + e[1]) for e in emissions]

    for i in todo:
        seg = segments[i]
        pa = posterior[i]
        role, conf = ("agent", pa) if pa >= 0.5 else ("customer", 1.0 - pa)
        conf = round(float(conf), 4)  # decided on the value that is stored, so the two always agree
        seg.speaker = role if conf >= threshold else "unknown"
        seg.extra["role_confidence"] = conf
    out.segments = segments
    out.extra["roles"] = {"assigned": True,
                          "method": "text classifier + turn-taking HMM" + (" + voice clusters" if voices else ""),
                          "model": Path(model).stem, "threshold": threshold,
                          "unknown": sum(1 for i in todo if segments[i].speaker == "unknown")}
    return out


def role_accuracy(reference: Transcript, predicted: Transcript) -> dict[str, float]:
    """Share of reference turns whose predicted role is right, matched by time overlap.

    ``accuracy`` counts ``unknown`` as wrong; ``coverage`` is the share given a role at all;
    ``precision`` is the accuracy among those given a role."""
    total = right = assigned = 0
    for ref in reference.segments:
        if ref.speaker not in ("agent", "customer"):
            continue
        best, overlap = None, 0.0
        for p in predicted.segments:
            ov = min(ref.end, p.end) - max(ref.start, p.start)
            if ov > overlap:
                best, overlap = p, ov
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
