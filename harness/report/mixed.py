"""Image-level evidence that keeps the seed level: a crossed seeds x images mixed model.

Every test image is evaluated under every seed, so the per-image, per-seed difference
(method - baseline, NME points) is modelled as

    d[s, i] = mu + u[s] + v[i] + e[s, i],   u ~ N(0, su2), v ~ N(0, sv2), e ~ N(0, se2)

(seed, image and residual random effects; two-way random-effects ANOVA). On the balanced
grid the variance of the grand mean is su2/S + sv2/I + se2/(S I), estimated by the mean
squares as (MS_seed + MS_image - MS_resid) / (S I) and never below MS_resid / (S I), its
smallest possible value; degrees of freedom by Satterthwaite (1946). The interval is for
the mean difference over new seeds *and* new images of the same population, which a
per-image test that ignores seeds (images as independent replicates) overstates by far,
and a seed-only t ignores the sampling of the test images.

Why not a two-level bootstrap (seeds, then images): with 3 seeds its seed level is a
bootstrap of three values, with the same min-max problem as any small-n percentile
bootstrap; simulated coverage of a nominal 95% interval was 80% at 3 seeds, 88% at 5 and
90% at 10 (seed sd 1, image sd 0.5, residual sd 2, 60 images).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from harness.report.intervals import CONFIDENCE, Interval

__all__ = ["MixedResult", "crossed_mixed", "mean_squares"]

METHOD = "crossed seeds × images mixed model, Satterthwaite df"


@dataclass(frozen=True)
class MixedResult:
    """The interval for the mean difference and the variance shares behind it."""

    interval: Interval
    n_seeds: int
    n_images: int
    share_seed: float  # of the variance of the grand mean, from the seed effect
    share_image: float
    share_resid: float


def mean_squares(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grand mean and the three mean squares of ``d`` shaped (..., S, I) (vectorised)."""
    s, i = d.shape[-2:]
    grand = d.mean(axis=(-2, -1))
    by_seed, by_image = d.mean(axis=-1), d.mean(axis=-2)
    ms_seed = i * ((by_seed - grand[..., None]) ** 2).sum(-1) / (s - 1)
    ms_image = s * ((by_image - grand[..., None]) ** 2).sum(-1) / (i - 1)
    resid = d - by_seed[..., :, None] - by_image[..., None, :] + grand[..., None, None]
    ms_resid = (resid ** 2).sum(axis=(-2, -1)) / ((s - 1) * (i - 1))
    return grand, ms_seed, ms_image, ms_resid


def interval_arrays(
    d: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Grand mean, half-width, df and the three variance parts for ``d`` shaped (..., S, I)."""
    s, i = d.shape[-2:]
    grand, mss, msi, mse = mean_squares(d)
    total = np.maximum(mss + msi - mse, mse)
    spread = mss ** 2 / (s - 1) + msi ** 2 / (i - 1) + mse ** 2 / ((s - 1) * (i - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(spread > 0, total ** 2 / spread, np.inf)
    half = sps.t.ppf(0.5 + CONFIDENCE / 2, df) * np.sqrt(total / (s * i))
    # Parts of S*I*Var(grand mean): I*su2 + S*sv2 + se2, each from its mean square.
    parts = (np.maximum(mss - mse, 0), np.maximum(msi - mse, 0), mse)
    return grand, half, df, total, parts


def crossed_mixed(d: np.ndarray) -> MixedResult:
    """Fit the crossed model to a complete (S seeds, I images) grid of differences."""
    d = np.asarray(d, dtype=float)
    s, i = d.shape
    if s < 2 or i < 2 or not np.all(np.isfinite(d)):
        mean = float(np.nanmean(d)) if d.size else math.nan
        return MixedResult(Interval(mean, math.nan, math.nan, s), s, i, *(math.nan,) * 3)
    arrays = interval_arrays(d)  # 0-d arrays for a 2-d grid
    grand, half, df, total = (float(a) for a in arrays[:4])
    parts = arrays[4]
    se = math.sqrt(total / (s * i))
    p = float(2 * sps.t.sf(abs(grand) / se, df)) if se > 0 else (1.0 if grand == 0 else 0.0)
    shares = np.array([float(x) for x in parts])
    shares = shares / shares.sum() if shares.sum() > 0 else np.full(3, math.nan)
    return MixedResult(Interval(grand, grand - half, grand + half, s, METHOD, p, df), s, i, *map(float, shares))
