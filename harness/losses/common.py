"""Helpers shared by the loss cores: working precision, label sanitising, reduction.

Every loss in this package takes per-keypoint visibility weights (B, K) and reduces
them the same way, so that methods are comparable term for term.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "REDUCTIONS",
    "bilinear_form",
    "check_scores",
    "column_sums",
    "clean_keypoints",
    "grid_offsets",
    "weighted_reduce",
    "work_dtype",
]

REDUCTIONS = ("none", "sum", "mean")


def work_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for half/bfloat16/float32 inputs, float64 stays float64.

    logsumexp and second moments over 4096 cells lose too much in 16-bit floats.
    """
    return torch.promote_types(dtype, torch.float32)


def clean_keypoints(keypoints: Tensor, dtype: torch.dtype) -> Tensor:
    """(B, K, 2) labels as constants in ``dtype``; NaN/inf coordinates become 0.

    Datasets mark missing landmarks with NaN or huge values and weight 0; replacing them
    keeps the per-keypoint loss finite so that weight 0 really yields 0 loss and 0 grad.
    """
    kp = keypoints.detach().to(dtype)
    return torch.where(torch.isfinite(kp), kp, torch.zeros_like(kp))


def weighted_reduce(per_keypoint: Tensor, weights: Tensor | None, reduction: str) -> Tensor:
    """Apply (B, K) weights to a (B, K) loss and reduce it.

    Args:
        per_keypoint: (B, K) unweighted loss per landmark.
        weights: (B, K) visibility weights or None (all ones).
        reduction: "none" -> (B, K) weighted; "sum" -> scalar; "mean" -> weighted sum
            divided by the sum of weights (0, never NaN, when all weights are 0).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if weights is None:
        weighted = per_keypoint
        total = per_keypoint.new_tensor(float(per_keypoint.numel()))
    else:
        if weights.shape != per_keypoint.shape:
            raise ValueError(f"weights must be {tuple(per_keypoint.shape)}, got {tuple(weights.shape)}")
        w = weights.detach().to(per_keypoint.dtype)
        # where(), not a product alone: 0 * inf would still be NaN for a masked landmark.
        weighted = torch.where(w != 0, per_keypoint * w, torch.zeros_like(per_keypoint))
        total = w.sum()
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / total.clamp_min(torch.finfo(per_keypoint.dtype).tiny)


def check_scores(scores: Tensor, keypoints: Tensor) -> tuple[int, int, int, int]:
    """Validate (B, K, H, W) scores against (B, K, 2) keypoints; return the shape."""
    if scores.dim() != 4:
        raise ValueError(f"scores must be (B, K, H, W), got shape {tuple(scores.shape)}")
    b, k, h, w = scores.shape
    if keypoints.shape != (b, k, 2):
        raise ValueError(f"keypoints must be ({b}, {k}, 2), got {tuple(keypoints.shape)}")
    return b, k, h, w


def grid_offsets(keypoints: Tensor, height: int, width: int) -> tuple[Tensor, Tensor]:
    """Signed offsets from each keypoint to every cell centre, in grid cells.

    Returns dx (B, K, 1, W) = col - x and dy (B, K, H, 1) = row - y: the two separable
    factors from which any distance map broadcasts to (B, K, H, W).
    """
    cols = torch.arange(width, dtype=keypoints.dtype, device=keypoints.device)
    rows = torch.arange(height, dtype=keypoints.dtype, device=keypoints.device)
    dx = cols.view(1, 1, 1, width) - keypoints[..., 0, None, None]
    dy = rows.view(1, 1, height, 1) - keypoints[..., 1, None, None]
    return dx, dy


def bilinear_form(rows: Tensor, maps: Tensor, cols: Tensor) -> Tensor:
    """sum_{h,w} rows[b,k,h] * maps[b,k,h,w] * cols[b,k,w] for (B,K,H), (B,K,H,W), (B,K,W) -> (B, K).

    Two bmm calls on flattened 3-D views: on CPU this is several times faster than a
    4-D matmul chain or einsum, and never builds a (B, K, H, W) product.
    """
    b, k, h, w = maps.shape
    left = torch.bmm(rows.reshape(b * k, 1, h), maps.reshape(b * k, h, w))
    return torch.bmm(left, cols.reshape(b * k, w, 1)).view(b, k)


def column_sums(maps: Tensor) -> Tensor:
    """(B, K, H, W) -> (B, K, W) sums over rows (a bmm with ones: a strided sum(-2) is slower on CPU)."""
    b, k, h, w = maps.shape
    ones = maps.new_ones(1, 1, h).expand(b * k, 1, h)
    return torch.bmm(ones, maps.reshape(b * k, h, w)).view(b, k, w)
