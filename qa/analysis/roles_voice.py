"""Voices of a mono call: per-segment voice features and a two-voice clustering.

Used by ``qa.analysis.roles.assign_roles`` when the recording is at hand: segments are clustered
into two voices (MFCCs in the telephone band + pitch, k-means); which voice is the agent is decided
for the whole call by the turn-taking decoder (``qa.analysis.turns.decode_with_voices``).
"""

from __future__ import annotations

from typing import Sequence

from ..model import Segment

VOICE_MIN_SILHOUETTE = 0.12  # below this the two voice clusters are not worth trusting
VOICE_MAX_RELIABILITY = 0.99


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
