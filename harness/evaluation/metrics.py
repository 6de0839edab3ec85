"""Face-alignment metrics: NME, FR, AUC and the CED (method.md section 4).

Pure numpy. NME per image = mean over (visible) landmarks of ||pred - gt|| / d, then
averaged over images, reported in percent; this differs from MMPose's NME metric, which
pools distances over all keypoints and reports a fraction.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from harness.schemes import get_scheme

__all__ = ["NORMALIZERS", "ced_curve", "face_metrics", "normalizer_distances", "per_image_nme", "per_landmark_nme"]

NORMALIZERS = ("inter_ocular", "inter_pupil", "bbox")


def normalizer_distances(gt: npt.ArrayLike, name: str, scheme: str | int | None = None) -> np.ndarray:
    """(N,) normalising distances of (N, K, 2) ground truth.

    - "inter_ocular": distance between the scheme's outer eye corners;
    - "inter_pupil": distance between the centroids of the scheme's two pupil groups;
    - "bbox": sqrt(w * h) of the box spanned by the gt landmarks' extent (finite points
      only). For a detector or annotation box, compute sqrt(w * h) yourself and pass the
      (N,) array as ``normalizer``.

    ``scheme`` is "wflw", "300w", "cofw" or None (inferred from K = 98, 68, 29).
    """
    points = np.asarray(gt, dtype=np.float64)
    d: np.ndarray
    if name == "bbox":
        lo, hi = np.nanmin(points, axis=1), np.nanmax(points, axis=1)
        d = np.sqrt(np.prod(hi - lo, axis=-1))
        return d
    spec = get_scheme(scheme if scheme is not None else points.shape[1])
    if points.shape[1] != spec.num_keypoints:
        raise ValueError(f"scheme {spec.name!r} has {spec.num_keypoints} points, gt has {points.shape[1]}")
    if name == "inter_ocular":
        a, b = spec.outer_eye_corners
        d = np.linalg.norm(points[:, a] - points[:, b], axis=-1)
        return d
    if name == "inter_pupil":
        left, right = (points[:, list(group)].mean(axis=1) for group in spec.pupils)
        d = np.linalg.norm(left - right, axis=-1)
        return d
    raise ValueError(f"unknown normalizer {name!r}; expected one of {NORMALIZERS} or an (N,) array")


def _normalized_errors(pred: npt.ArrayLike, gt: npt.ArrayLike, normalizer: str | npt.ArrayLike,
                       scheme: str | int | None, mask: npt.ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) errors / d with NaN where masked out, and the (N,) normaliser."""
    p, g = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if p.shape != g.shape or p.ndim != 3 or p.shape[-1] != 2:
        raise ValueError(f"pred and gt must both be (N, K, 2), got {p.shape} and {g.shape}")
    if isinstance(normalizer, str):
        d = normalizer_distances(g, normalizer, scheme)
    else:
        d = np.asarray(normalizer, dtype=np.float64).reshape(-1)
        if d.shape != (g.shape[0],):
            raise ValueError(f"normalizer must be a name or an ({g.shape[0]},) array, got shape {d.shape}")
    if not np.all(np.isfinite(d) & (d > 0)):
        raise ValueError("every normalising distance must be finite and > 0")
    err = np.linalg.norm(p - g, axis=-1) / d[:, None]
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != err.shape:
            raise ValueError(f"mask must be {err.shape}, got {m.shape}")
        err = np.where(m, err, np.nan)
    return err, d


def _mean_over(err: np.ndarray, axis: int) -> np.ndarray:
    """Mean of the non-NaN entries along ``axis``; NaN where there are none."""
    counts = np.sum(~np.isnan(err), axis=axis)
    return np.where(counts > 0, np.nansum(err, axis=axis) / np.maximum(counts, 1), np.nan)


def per_image_nme(pred: npt.ArrayLike, gt: npt.ArrayLike, *, normalizer: str | npt.ArrayLike,
                  scheme: str | int | None = None, mask: npt.ArrayLike | None = None) -> np.ndarray:
    """(N,) per-image NME as a fraction; NaN for an image with no visible landmark."""
    return _mean_over(_normalized_errors(pred, gt, normalizer, scheme, mask)[0], axis=1)


def per_landmark_nme(pred: npt.ArrayLike, gt: npt.ArrayLike, *, normalizer: str | npt.ArrayLike,
                     scheme: str | int | None = None, mask: npt.ArrayLike | None = None) -> np.ndarray:
    """(K,) mean normalised error of each landmark over the images where it is visible (fraction)."""
    return _mean_over(_normalized_errors(pred, gt, normalizer, scheme, mask)[0], axis=0)


def ced_curve(per_image_nme: np.ndarray, max_error: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative error distribution: ``steps`` thresholds from 0 to ``max_error`` (same unit
    as the NMEs, e.g. fraction) and the share of images with NME <= each threshold."""
    nme = np.asarray(per_image_nme, dtype=np.float64)
    nme = nme[~np.isnan(nme)]
    thresholds = np.linspace(0.0, max_error, steps)
    if nme.size == 0:
        return thresholds, np.zeros_like(thresholds)
    return thresholds, np.mean(nme[None, :] <= thresholds[:, None], axis=1)


def face_metrics(pred: npt.ArrayLike, gt: npt.ArrayLike, *, normalizer: str | npt.ArrayLike, threshold: float = 0.1,
                 scheme: str | int | None = None, mask: npt.ArrayLike | None = None) -> dict[str, Any]:
    """NME, failure rate and AUC of (N, K, 2) predictions.

    Args:
        pred, gt: (N, K, 2) arrays, any consistent unit (pixels).
        normalizer: an (N,) array of distances, or "inter_ocular", "inter_pupil", "bbox"
            (see ``normalizer_distances``).
        threshold: FR/AUC cut-off as a fraction (0.1 = 10% of the normaliser).
        scheme: "wflw", "300w", "cofw" for named normalisers; None infers it from K.
        mask: optional (N, K) bool, True where the landmark counts (visible/annotated).
            Images with no counted landmark are left out of nme, fr and auc.

    Returns:
        dict with "nme" (percent), "fr" (percent of images with NME > threshold),
        "auc" (area under the CED from 0 to threshold divided by threshold, in [0, 1]),
        "per_image" (N,) NME fraction, "per_landmark" (K,) fraction, "normalizer" (N,).
        The AUC is exact: the CED is a step function, so its integral from 0 to t is
        mean(max(t - nme_i, 0)); a trapezoid over ``ced_curve`` converges to it.
    """
    err, d = _normalized_errors(pred, gt, normalizer, scheme, mask)
    per_image = _mean_over(err, axis=1)
    valid = per_image[~np.isnan(per_image)]
    if valid.size == 0:
        raise ValueError("no image has a landmark to evaluate")
    return {
        "nme": float(100.0 * valid.mean()),
        "fr": float(100.0 * np.mean(valid > threshold)),
        "auc": float(np.mean(np.clip(threshold - valid, 0.0, None)) / threshold),
        "per_image": per_image,
        "per_landmark": _mean_over(err, axis=0),
        "normalizer": d,
    }
