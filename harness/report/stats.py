"""Pure statistics of the report: confidence intervals, paired tests, time to target.

Every function takes plain arrays and returns plain numbers; randomness (bootstrap) uses a
fixed seed so a report regenerated from the same records gives the same digits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

__all__ = [
    "Interval", "NO_CI_NOTE", "mean_ci", "bootstrap_ci", "wilcoxon_p", "steps_to_target",
    "ratio_ci", "resolve_target", "auc", "BOOTSTRAP_SEED", "N_BOOTSTRAP", "CROSSING_RULE",
]

BOOTSTRAP_SEED = 0
N_BOOTSTRAP = 10_000
NO_CI_NOTE = "no CI possible (1 seed)"
CROSSING_RULE = (
    "first crossing, linearly interpolated between the last epoch above the target and the "
    "first at or below it; later re-crossings are ignored; NaN = never reached"
)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a 95% interval (``low``/``high`` NaN when none is possible)."""

    value: float
    low: float
    high: float
    n: int


def _clean(values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[np.isfinite(arr)]


def mean_ci(values, confidence: float = 0.95) -> Interval:
    """Mean and Student-t interval over seeds: mean +- t_{n-1} * sd / sqrt(n).

    With fewer than two finite values the interval is NaN (the caller says "no CI possible").
    """
    arr = _clean(values)
    n = arr.size
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    mean = float(arr.mean())
    if n < 2:
        return Interval(mean, np.nan, np.nan, n)
    half = sps.t.ppf(0.5 + confidence / 2, n - 1) * arr.std(ddof=1) / np.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def bootstrap_ci(values, confidence: float = 0.95, n_boot: int = N_BOOTSTRAP,
                 seed: int = BOOTSTRAP_SEED) -> Interval:
    """Mean with a percentile-bootstrap interval (resampling the values with replacement).

    Used for paired differences (one value per seed or per image). NaN interval below two
    values.
    """
    arr = _clean(values)
    if arr.size < 2:
        return Interval(float(arr.mean()) if arr.size else np.nan, np.nan, np.nan, arr.size)
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(n_boot, arr.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(arr.mean()), float(low), float(high), arr.size)


def wilcoxon_p(differences) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (NaN when undefined).

    scipy picks the exact distribution for small samples without ties; with 3 seeds the
    smallest attainable p is 0.25, which the report states rather than hides.
    """
    arr = _clean(differences)
    if arr.size < 1 or np.all(arr == 0):
        return np.nan
    return float(sps.wilcoxon(arr, alternative="two-sided").pvalue)


def steps_to_target(x, y, target: float) -> float:
    """The x (epoch or seconds) at which curve y first reaches ``target`` (lower is better).

    Rule: see :data:`CROSSING_RULE`. When the very first point is already at or below the
    target its own x is returned (there is nothing earlier to interpolate from).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.argsort(x)
    x, y = x[order], y[order]
    hits = np.flatnonzero(y <= target)
    if hits.size == 0 or not np.isfinite(target):
        return np.nan
    i = int(hits[0])
    if i == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(x0 + (y0 - target) / (y0 - y1) * (x1 - x0))


def ratio_ci(numerator, denominator, paired: bool, confidence: float = 0.95,
             n_boot: int = N_BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> Interval:
    """Ratio of means ``mean(numerator) / mean(denominator)`` with a bootstrap interval.

    The speed-up is ``baseline epochs / method epochs``. Seeds are resampled jointly when
    ``paired`` (same seeds, same order), else each side independently. NaN when any seed never
    reached the target (a ratio would silently drop the slow seeds); NaN interval below two
    seeds.
    """
    num, den = np.asarray(numerator, float), np.asarray(denominator, float)
    if num.size == 0 or den.size == 0 or not (np.all(np.isfinite(num)) and np.all(np.isfinite(den))):
        return Interval(np.nan, np.nan, np.nan, min(num.size, den.size))
    value = float(num.mean() / den.mean())
    n = min(num.size, den.size)
    if num.size < 2 or den.size < 2:
        return Interval(value, np.nan, np.nan, n)
    rng = np.random.default_rng(seed)
    if paired:
        idx = rng.integers(0, num.size, size=(n_boot, num.size))
        ratios = num[idx].mean(axis=1) / den[idx].mean(axis=1)
    else:
        ratios = (num[rng.integers(0, num.size, size=(n_boot, num.size))].mean(axis=1)
                  / den[rng.integers(0, den.size, size=(n_boot, den.size))].mean(axis=1))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(ratios, [alpha, 1 - alpha])
    return Interval(value, float(low), float(high), n)


def resolve_target(spec: str | float, baseline_final: float) -> tuple[float, str]:
    """The NME target and a sentence describing it.

    ``spec`` is a number (NME percent) or ``"baseline-final-5pct"``: 1.05 x the baseline's
    mean final val NME. Never relative to each method's own end point (method.md section 6).
    """
    if isinstance(spec, str) and spec.strip().lower() == "baseline-final-5pct":
        return 1.05 * baseline_final, "within 5% of the baseline's mean final val NME"
    try:
        value = float(spec)
    except (TypeError, ValueError):
        raise ValueError(f"--target must be an NME percent or 'baseline-final-5pct', not {spec!r}") from None
    return value, f"fixed target val NME {value:g}%"


def auc(per_image_nme, threshold: float) -> float:
    """Exact area under the CED from 0 to ``threshold``, divided by it (same unit as the NMEs).

    The CED is a step function, so the integral is mean(max(threshold - nme_i, 0)).
    """
    arr = _clean(per_image_nme)
    return float(np.mean(np.clip(threshold - arr, 0.0, None)) / threshold) if arr.size else np.nan
