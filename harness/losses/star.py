"""STAR loss (Zhou et al., "STAR Loss: Reducing Semantic Ambiguity in Facial Landmark
Detection", CVPR 2023), written from its definition in method.md section 3.

Per landmark, with P the heatmap made a distribution, mu its mean, S = V diag(l1, l2) V^T
its covariance and e = y - mu:

    L = sum_i d(v_i^T e) / sqrt(l_i + 1e-5) + w * (l1 + l2)

d is a smooth-l1 with threshold ``threshold`` (quadratic below, linear above), all in
[-1, 1] units. Only this term on the main heatmap is used (the published recipe adds
AWing on auxiliary maps of a 4-stack hourglass; the project compares on one backbone).

Unit conversion: keypoints arrive in grid cells (cell centres at integers, x = column,
y = row) and are mapped, like the grid, with u = 2 * x / (W - 1) - 1 and
v = 2 * y / (H - 1) - 1 (the first cell centre is -1, the last +1: the align-corners
grid of STAR's code). H, W >= 2.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .common import bilinear_form, check_scores, clean_keypoints, column_sums, weighted_reduce, work_dtype
from .eig2x2 import sym2x2_eig

__all__ = ["STAR_NORMALIZE", "STARLoss", "heatmap_moments", "star_loss"]

STAR_NORMALIZE = ("relu_instance_norm", "softmax", "none")
_VAR_EPS = 1e-5


def to_distribution(x: Tensor, normalize: str) -> Tensor:
    """(B, K, H, W) -> (B, K, H, W) maps that sum to 1 (0 for an all-zero ReLU map)."""
    flat = x.flatten(2)
    if normalize == "softmax":
        return torch.softmax(flat, -1).view_as(x)
    if normalize == "relu_instance_norm":
        # relu((x - mean) / sqrt(var + 1e-5)) / sum(...) = relu(x - mean) / sum(relu(x - mean)):
        # the positive std cancels, so the variance pass and its backward are skipped.
        flat = F.relu(flat - flat.mean(-1, keepdim=True))
    elif normalize != "none":
        raise ValueError(f"normalize must be one of {STAR_NORMALIZE}, got {normalize!r}")
    total = flat.sum(-1, keepdim=True)
    return (flat / total.clamp_min(torch.finfo(x.dtype).tiny)).view_as(x)


def _axis(size: int, like: Tensor) -> Tensor:
    """Cell centres of one axis in [-1, 1] units (align corners)."""
    return torch.arange(size, dtype=like.dtype, device=like.device) * (2.0 / (size - 1)) - 1.0


def heatmap_moments(prob: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Mean and covariance of (B, K, H, W) distributions in [-1, 1] units.

    Returns (mu_x, mu_y, s_xx, s_xy, s_yy), each (B, K). Central moments are taken about
    the mean directly (not E[x^2] - mu^2, which cancels badly for sharp maps in float32).
    """
    u, v = _axis(prob.shape[-1], prob), _axis(prob.shape[-2], prob)
    px, py = column_sums(prob), prob.sum(-1)
    mu_x, mu_y = px @ u, py @ v
    du, dv = u - mu_x.unsqueeze(-1), v - mu_y.unsqueeze(-1)
    s_xy = bilinear_form(dv, prob, du)
    return mu_x, mu_y, (px * du.square()).sum(-1), s_xy, (py * dv.square()).sum(-1)


def _smooth_l1(x: Tensor, threshold: float) -> Tensor:
    ax = x.abs()
    return torch.where(ax < threshold, 0.5 * ax.square() / threshold, ax - 0.5 * threshold)


def star_loss(
    scores_or_heatmaps: Tensor,
    keypoints: Tensor,
    weights: Tensor | None = None,
    *,
    w: float = 1.0,
    threshold: float = 0.01,
    normalize: str = "relu_instance_norm",
    reduction: str = "mean",
) -> Tensor:
    """STAR loss per landmark, reduced like the other losses.

    Args:
        scores_or_heatmaps: (B, K, H, W) raw scores or heatmaps, H, W >= 2.
        keypoints: (B, K, 2) targets in grid cells (x = column, y = row); converted to
            [-1, 1] as in the module docstring. Constants; non-finite -> 0.
        weights: (B, K) visibility weights.
        w: weight of the spread term w * (l1 + l2).
        threshold: smooth-l1 switch point, [-1, 1] units.
        normalize: "relu_instance_norm" (STAR's code: instance norm, ReLU, divide by the
            sum), "softmax" over the grid, or "none" (divide a non-negative map by its sum).
        reduction: "none" (B, K), "sum" or "mean" (weighted sum / sum of weights).
    """
    _, _, h, wd = check_scores(scores_or_heatmaps, keypoints)
    if h < 2 or wd < 2:
        raise ValueError(f"STAR needs H, W >= 2, got {h} x {wd}")
    x = scores_or_heatmaps.to(work_dtype(scores_or_heatmaps.dtype))
    prob = to_distribution(x, normalize)
    mu_x, mu_y, s_xx, s_xy, s_yy = heatmap_moments(prob)
    # The eigen step is elementwise on (B, K): float64 costs nothing and keeps the
    # eigenvalue gap out of float32 rounding noise.
    l1, l2, cos_t, sin_t = (t.to(x.dtype) for t in sym2x2_eig(s_xx.double(), s_xy.double(), s_yy.double()))
    kp = clean_keypoints(keypoints, x.dtype)
    ex = kp[..., 0] * (2.0 / (wd - 1)) - 1.0 - mu_x
    ey = kp[..., 1] * (2.0 / (h - 1)) - 1.0 - mu_y
    along_1 = cos_t * ex + sin_t * ey
    along_2 = -sin_t * ex + cos_t * ey
    per_kpt = (
        _smooth_l1(along_1, threshold) / (l1.clamp_min(0) + _VAR_EPS).sqrt()
        + _smooth_l1(along_2, threshold) / (l2.clamp_min(0) + _VAR_EPS).sqrt()
        + w * (s_xx + s_yy)
    )
    return weighted_reduce(per_kpt, weights, reduction)


class STARLoss(nn.Module):
    """``star_loss`` as a module (same keyword arguments)."""

    def __init__(
        self, *, w: float = 1.0, threshold: float = 0.01, normalize: str = "relu_instance_norm", reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.w, self.threshold, self.normalize, self.reduction = w, threshold, normalize, reduction

    def forward(self, scores: Tensor, keypoints: Tensor, weights: Tensor | None = None) -> Tensor:
        """scores (B, K, H, W), keypoints (B, K, 2) grid cells, weights (B, K)."""
        return star_loss(
            scores, keypoints, weights, w=self.w, threshold=self.threshold,
            normalize=self.normalize, reduction=self.reduction,
        )
