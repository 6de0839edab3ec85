"""Pure statistics of the report: rank test, time to target, target rule, AUC.

Every function takes plain arrays and returns plain numbers. Intervals live in
:mod:`harness.report.intervals`, the image-level model in :mod:`harness.report.mixed`.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from harness.report.intervals import clean as _clean

__all__ = ["NO_CI_NOTE", "wilcoxon_p", "steps_to_target", "resolve_target", "auc",
           "CROSSING_RULE"]

NO_CI_NOTE = "no CI possible (1 seed)"
CROSSING_RULE = (
    "first crossing, linearly interpolated between the last epoch above the target and the "
    "first at or below it; later re-crossings are ignored; NaN = never reached"
)


def wilcoxon_p(differences: npt.ArrayLike) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (NaN when undefined).

    scipy picks the exact distribution for small samples without ties; with 3 seeds the
    smallest attainable p is 0.25, which the report states rather than hides.
    """
    arr = _clean(differences)
    if arr.size < 1 or np.all(arr == 0):
        return np.nan
    return float(sps.wilcoxon(arr, alternative="two-sided").pvalue)


def steps_to_target(x: npt.ArrayLike, y: npt.ArrayLike, target: float) -> float:
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


def auc(per_image_nme: npt.ArrayLike, threshold: float) -> float:
    """Exact area under the CED from 0 to ``threshold``, divided by it (same unit as the NMEs).

    The CED is a step function, so the integral is mean(max(threshold - nme_i, 0)).
    """
    arr = _clean(per_image_nme)
    return float(np.mean(np.clip(threshold - arr, 0.0, None)) / threshold) if arr.size else np.nan
