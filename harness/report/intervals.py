"""95% intervals whose coverage holds at 3 to 10 seeds (tests/report/test_report_coverage.py).

Seeds are the unit of replication (method.md section 8). A percentile bootstrap over 3 to 10
per-seed values is anti-conservative (with 3 seeds it is the min-max of the values), so every
interval here is a small-sample one:

- mean over seeds, paired difference: Student-t (Student 1908), exact under normal noise;
- speed-up, paired seeds: Student-t on per-seed log ratios, back-transformed; it estimates
  the geometric-mean ratio, exact under log-normal times to target;
- speed-up, unpaired: Fieller's interval for a ratio of two independent means (Fieller 1954)
  with Welch-Satterthwaite degrees of freedom; unbounded when the denominator's mean is not
  clearly away from zero, and reported as such rather than clipped.

Each :class:`Interval` carries the name of its method, which the report prints beside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

__all__ = ["Interval", "CONFIDENCE", "clean", "mean_t", "paired_t", "speedup", "fieller"]

CONFIDENCE = 0.95
_NAN = math.nan


@dataclass(frozen=True)
class Interval:
    """A point estimate with a 95% interval (``low``/``high`` NaN when none is possible).

    ``method`` names how the interval was computed; ``p`` is the matching two-sided test of
    "no difference" (NaN where no test applies, e.g. a plain mean).
    """

    value: float
    low: float
    high: float
    n: int
    method: str = ""
    p: float = _NAN
    df: float = _NAN

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def clean(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)  # = dtype=float, spelled so the result is typed
    return arr[np.isfinite(arr)]


def _t_quantile(df: float) -> float:
    return float(sps.t.ppf(0.5 + CONFIDENCE / 2, df))


def mean_t(values: npt.ArrayLike) -> Interval:
    """Mean and Student-t interval over seeds: mean +- t_{n-1} * sd / sqrt(n)."""
    arr = clean(values)
    if arr.size == 0:
        return Interval(_NAN, _NAN, _NAN, 0)
    mean = float(arr.mean())
    if arr.size < 2:
        return Interval(mean, _NAN, _NAN, 1)
    half = _t_quantile(arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size)
    return Interval(mean, mean - half, mean + half, arr.size, "Student-t over seeds", df=arr.size - 1)


def paired_t(differences: npt.ArrayLike) -> Interval:
    """Mean of per-seed paired differences, Student-t interval and paired t-test p-value.

    Identical differences (zero spread) give a zero-width interval and p = 0 when they are
    not zero: the data leave no doubt, and dividing by sd = 0 would say NaN instead.
    """
    arr = clean(differences)
    ci = mean_t(arr)
    if arr.size < 2:
        return ci
    sd = arr.std(ddof=1)
    if sd == 0:
        p = 1.0 if ci.value == 0 else 0.0
    else:
        p = float(2 * sps.t.sf(abs(ci.value) / (sd / math.sqrt(arr.size)), arr.size - 1))
    return Interval(ci.value, ci.low, ci.high, ci.n, "Student-t on paired seed differences", p, ci.df)


def fieller(numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> Interval:
    """Ratio of means of two independent samples, Fieller interval with Welch df.

    Solves (a - r b)^2 <= t^2 (v_a + r^2 v_b) for r, with a, b the means and v_a, v_b their
    squared standard errors; df by Welch-Satterthwaite at the point estimate.
    """
    num, den = clean(numerator), clean(denominator)
    n = min(num.size, den.size)
    a, b = float(num.mean()), float(den.mean())
    value = a / b
    if num.size < 2 or den.size < 2:
        return Interval(value, _NAN, _NAN, n)
    va, vb = num.var(ddof=1) / num.size, den.var(ddof=1) / den.size
    spread = va ** 2 / (num.size - 1) + (value ** 2 * vb) ** 2 / (den.size - 1)
    df = (va + value ** 2 * vb) ** 2 / spread if spread > 0 else float(num.size + den.size - 2)
    t2 = _t_quantile(df) ** 2
    qa, qb, qc = b * b - t2 * vb, -2 * a * b, a * a - t2 * va
    disc = qb * qb - 4 * qa * qc
    label = "Fieller, unpaired seeds (Welch df)"
    if qa <= 0 or disc < 0:  # the denominator's mean is compatible with zero
        return Interval(value, -math.inf, math.inf, n, label, df=df)
    root = math.sqrt(disc)
    return Interval(value, (-qb - root) / (2 * qa), (-qb + root) / (2 * qa), n, label, df=df)


def speedup(baseline: npt.ArrayLike, method: npt.ArrayLike, paired: bool) -> Interval:
    """Speed-up = baseline time / method time to the target (above 1: the method is faster).

    Paired (same seeds, same order): geometric mean of the per-seed ratios with a t interval
    on their logs. Unpaired: ratio of the mean times, Fieller interval. NaN when a seed never
    reached the target: dropping the slow seeds would flatter the ratio.
    """
    base, own = np.asarray(baseline, float), np.asarray(method, float)
    n = min(base.size, own.size)
    if n == 0 or not (np.all(np.isfinite(base)) and np.all(np.isfinite(own))):
        return Interval(_NAN, _NAN, _NAN, n)
    if np.any(base <= 0) or np.any(own <= 0):  # reached at the very first point: no ratio
        return Interval(_NAN, _NAN, _NAN, n)
    if not paired:
        return fieller(base, own)
    logs = paired_t(np.log(base) - np.log(own))
    value = math.exp(logs.value)
    if base.size < 2:
        return Interval(value, _NAN, _NAN, n)
    return Interval(value, math.exp(logs.low), math.exp(logs.high), n,
                    "Student-t on per-seed log ratios, geometric mean", logs.p, logs.df)
