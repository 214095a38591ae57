"""How sure an agreement figure is: 95 % intervals for accuracy and Cohen's kappa.

On a few dozen calls an accuracy or a kappa moves a lot with a single call: a QA lead comparing the
tool with evaluators, or anyone reading a figure against a target, needs the interval beside the
number. Accuracy: the Wilson score interval (scipy). Kappa, per criterion and the macro mean over
criteria: a percentile bootstrap over calls. The calls are drawn with replacement, the same draw for
every criterion, so the macro interval keeps the criteria of one call together. Each draw's kappa is
the one ``qa.learning.calibration.kappa`` computes (Cohen's kappa; 1.0 where both raters used one
and the same label), from the draw's confusion matrix.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

LEVEL = 0.95
SAMPLES = 2000  # bootstrap draws: the interval's ends move by about 0.01 between seeds at 2,000
SEED = 2026  # fixed: the same labels always give the same interval

Interval = tuple[float, float]


def accuracy_interval(agree: int, n: int, level: float = LEVEL) -> Interval | None:
    """Wilson score interval of ``agree`` right out of ``n`` (None without data)."""
    if n <= 0:
        return None
    from scipy.stats import binomtest

    ci = binomtest(int(agree), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return round(float(ci.low), 4), round(float(ci.high), 4)


def _kappas(counts: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each confusion matrix of ``counts`` (draws x labels x labels); NaN for an empty one."""
    n = counts.sum(axis=(1, 2)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        po = np.trace(counts, axis1=1, axis2=2) / n
        pe = (counts.sum(axis=2) * counts.sum(axis=1)).sum(axis=1) / (n * n)
        k = np.where(pe >= 1 - 1e-12, 1.0, (po - pe) / (1 - pe))
    return np.where(n > 0, k, np.nan)


# Bounded work on a big store (the calibration page over every human review): past BIG_CALLS calls the
# draws fall to SAMPLES * BIG_CALLS / calls (at least MIN_SAMPLES; on so many calls the interval is narrow
# and 400 draws place its ends within about 0.005), and they are drawn CHUNK_CELLS cells at a time.
BIG_CALLS = 2000
MIN_SAMPLES = 400
CHUNK_CELLS = 2_000_000  # draws x calls held at once (16 MB of float64)


def samples_for(calls: int, samples: int = SAMPLES) -> int:
    """The number of bootstrap draws used for ``calls`` calls (fewer on a big set, see BIG_CALLS)."""
    if calls <= BIG_CALLS:
        return samples
    return max(min(samples, MIN_SAMPLES), int(samples * BIG_CALLS / calls))


def _weight_chunks(n_calls: int, samples: int, seed: int):
    """How many times each call is drawn in each bootstrap sample, a block of samples at a time
    (each block: draws x calls)."""
    rng = np.random.default_rng(seed)
    step = max(1, CHUNK_CELLS // max(1, n_calls))
    for start in range(0, samples, step):
        rows = min(step, samples - start)
        drawn = rng.integers(0, n_calls, size=(rows, n_calls))
        weights = np.zeros((rows, n_calls))
        np.add.at(weights, (np.repeat(np.arange(rows), n_calls), drawn.ravel()), 1.0)
        yield weights


def _draws_all(pairs: Mapping[str, Sequence[tuple[str, str, str]]], index: Mapping[str, int], samples: int,
               seed: int) -> dict[str, np.ndarray]:
    """Each criterion's kappa in every bootstrap sample (criteria without a pair left out)."""
    coded = {}
    for crit, rows in pairs.items():
        if not rows:
            continue
        labels = sorted({lab for _, a, b in rows for lab in (a, b)})
        code = {lab: i for i, lab in enumerate(labels)}
        size = len(labels)
        cells = np.array([code[a] * size + code[b] for _, a, b in rows])
        cols = np.array([index[cid] for cid, _, _ in rows])
        # the calls of each cell of the confusion matrix (label a x label b)
        coded[crit] = ([cols[cells == k] for k in range(size * size)], size)
    parts: dict[str, list] = {c: [] for c in coded}
    for weights in _weight_chunks(len(index), samples, seed):
        for crit, (by_cell, size) in coded.items():
            counts = np.stack([weights[:, cols].sum(axis=1) for cols in by_cell], axis=1)
            parts[crit].append(_kappas(counts.reshape(len(weights), size, size)))
    return {c: np.concatenate(v) for c, v in parts.items()}


def _macro(draws: Mapping[str, np.ndarray], wanted: Iterable[str]) -> np.ndarray | None:
    """The mean kappa over the ``wanted`` criteria in every sample (None without any)."""
    rows = [draws[c] for c in wanted if c in draws]
    if not rows:
        return None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a draw with no pair for some criterion
        return np.nanmean(np.vstack(rows), axis=0)


def _ends(values: np.ndarray, level: float) -> Interval:
    lo, hi = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    return tuple(round(float(v), 4) for v in np.nanpercentile(values, [lo, hi]))  # type: ignore[return-value]


def kappa_intervals(pairs: Mapping[str, Sequence[tuple[str, str, str]]], macro: Iterable[str] | None = None,
                    samples: int = SAMPLES, level: float = LEVEL,
                    seed: int = SEED) -> tuple[dict[str, Interval | None], Interval | None]:
    """Bootstrap intervals of kappa: ``pairs`` is criterion -> [(call id, label of rater a, label of
    rater b)]; returns each criterion's interval and that of the mean kappa over the ``macro``
    criteria (default: all of them). None where a criterion has no pair."""
    calls = sorted({cid for rows in pairs.values() for cid, _, _ in rows})
    if not calls:
        return {c: None for c in pairs}, None
    draws = _draws_all(pairs, {cid: i for i, cid in enumerate(calls)}, samples_for(len(calls), samples), seed)
    per = {c: (_ends(draws[c], level) if c in draws else None) for c in pairs}
    mean = _macro(draws, macro if macro is not None else pairs)
    return per, (None if mean is None else _ends(mean, level))


def macro_difference_interval(before: Mapping[str, Sequence[tuple[str, str, str]]],
                              after: Mapping[str, Sequence[tuple[str, str, str]]], macro: Iterable[str],
                              samples: int = SAMPLES, level: float = LEVEL, seed: int = SEED) -> Interval | None:
    """Paired bootstrap interval of macro kappa ``after`` minus ``before`` (two ways of scoring the same
    labelled calls, e.g. a candidate rubric against the current one): both are computed on the same
    draws of calls, so the interval is that of the change, not of either figure."""
    calls = sorted({cid for p in (before, after) for rows in p.values() for cid, _, _ in rows})
    if not calls:
        return None
    index, n = {cid: i for i, cid in enumerate(calls)}, samples_for(len(calls), samples)
    wanted = list(macro)  # the same seed: the same draws of calls for both
    a, b = _macro(_draws_all(before, index, n, seed), wanted), _macro(_draws_all(after, index, n, seed), wanted)
    return None if a is None or b is None else _ends(b - a, level)


def format_interval(ci: Interval | None, percent: bool = False) -> str:
    """``[0.742–0.893]`` (``percent``: ``[74.2–89.3 %]``), or ``-``."""
    if ci is None:
        return "-"
    if percent:
        return f"[{100 * ci[0]:.1f}–{100 * ci[1]:.1f} %]"
    return f"[{ci[0]:.3f}–{ci[1]:.3f}]"
