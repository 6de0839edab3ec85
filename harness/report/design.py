"""What a design with n paired seeds can and cannot decide (said in the report's verdict).

- An exact two-sided sign-flip or Wilcoxon signed-rank test of n pairs cannot give a
  p-value below 2 / 2**n (all signs alike): 0.25 with 3 seeds, 0.0625 with 5.
- The minimum detectable difference: the true mean difference a two-sided paired t-test at
  alpha = 0.05 finds with 80% power, given the observed spread of the per-seed differences
  (noncentral t; Cohen 1988). Smaller true differences will usually go unnoticed.
"""
from __future__ import annotations

import math

from scipy import optimize
from scipy import stats as sps

__all__ = ["exact_p_floor", "detectable_difference", "ALPHA", "POWER"]

ALPHA = 0.05
POWER = 0.80


def exact_p_floor(n_pairs: int) -> float:
    """Smallest two-sided p-value an exact sign-flip/Wilcoxon test of ``n_pairs`` can reach."""
    return 2.0 / 2 ** n_pairs if n_pairs >= 1 else math.nan


def _power(effect: float, n: int) -> float:
    df, nc = n - 1, effect * math.sqrt(n)
    crit = sps.t.ppf(1 - ALPHA / 2, df)
    # scipy's noncentral t returns NaN far in the tail; that tail's mass is zero anyway.
    upper, lower = sps.nct.sf(crit, df, nc), sps.nct.cdf(-crit, df, nc)
    return float(upper + (lower if math.isfinite(lower) else 0.0))


def detectable_difference(sd: float, n_pairs: int) -> float:
    """Smallest true difference (same unit as ``sd``) detected with 80% power by a paired t-test."""
    if n_pairs < 2 or not math.isfinite(sd) or sd <= 0:
        return math.nan
    effect = optimize.brentq(lambda e: _power(e, n_pairs) - POWER, 1e-6, 20.0)
    return float(effect) * sd  # brentq's root is a Python float; scipy has no type information
