"""Decoders from score maps to landmark coordinates (method.md section 2, "Inference").

Every decoder takes (B, K, H, W) scores and returns ``(coords, maxvals)``: (B, K, 2)
coordinates (x, y) in heatmap-grid units (cell centres at integers, x = column,
y = row) and (B, K) the score at the arg-max cell. Converting to input pixels is the
codec's job. The decoder is part of a method's identity: log its name and options.

| method | what it does | options |
|---|---|---|
| "none" | integer arg-max | - |
| "quarter" | arg-max + 0.25 cell toward the larger neighbour on each axis | - |
| "dark" | Taylor step on the log of a Gaussian-blurred map (DARK, Zhang et al., CVPR 2020) | blur_sigma=2.0 cells, logits=False |
| "local_softargmax" | soft-argmax in a (2r+1)^2 window around the arg-max | radius=1, beta=1.0 |
| "softargmax" | global expectation under softmax(beta * scores) | beta=1.0 |
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from harness.losses.softargmax import soft_argmax
from harness.losses.star import heatmap_moments, to_distribution

__all__ = ["DECODERS", "decode_heatmaps"]


def _argmax(scores: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Integer (col, row) of the maximum, (B, K) long each, and the max value (B, K)."""
    maxvals, idx = scores.flatten(2).max(-1)
    width = scores.shape[-1]
    return idx % width, idx // width, maxvals


def _at(maps: Tensor, col: Tensor, row: Tensor) -> Tensor:
    """maps[b, k, row, col] for (B, K) index tensors (already clamped to the grid)."""
    return maps.flatten(2).gather(-1, (row * maps.shape[-1] + col).unsqueeze(-1)).squeeze(-1)


def _neighbours(maps: Tensor, col: Tensor, row: Tensor, dc: int, dr: int) -> tuple[Tensor, Tensor]:
    """Value at (col + dc, row + dr), clamped to the grid, and whether it was inside."""
    h, w = maps.shape[-2:]
    c, r = col + dc, row + dr
    inside = (c >= 0) & (c < w) & (r >= 0) & (r < h)
    return _at(maps, c.clamp(0, w - 1), r.clamp(0, h - 1)), inside


def decode_argmax(scores: Tensor) -> tuple[Tensor, Tensor]:
    """Integer arg-max decoding."""
    col, row, maxvals = _argmax(scores)
    return torch.stack([col, row], -1).to(maxvals.dtype), maxvals


def decode_quarter(scores: Tensor) -> tuple[Tensor, Tensor]:
    """Arg-max plus a quarter-cell shift toward the larger neighbour (interior cells only)."""
    col, row, maxvals = _argmax(scores)
    coords = torch.stack([col, row], -1).to(maxvals.dtype)
    for axis, (dc, dr) in enumerate([(1, 0), (0, 1)]):
        after, in_after = _neighbours(scores, col, row, dc, dr)
        before, in_before = _neighbours(scores, col, row, -dc, -dr)
        shift = 0.25 * torch.sign(after - before)
        coords[..., axis] += torch.where(in_after & in_before, shift, torch.zeros_like(shift))
    return coords, maxvals


def _blur_matrix(size: int, sigma: float, like: Tensor) -> Tensor:
    """(size, size) 1-D Gaussian blur with replicate borders folded in, radius ceil(3 sigma)."""
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.arange(-radius, radius + 1, device=like.device)
    kernel = torch.exp(-0.5 * (taps.to(like.dtype) / sigma) ** 2)
    kernel = kernel / kernel.sum()
    src = (torch.arange(size, device=like.device).view(-1, 1) + taps).clamp(0, size - 1)
    return like.new_zeros(size, size).scatter_add_(1, src, kernel.expand(size, -1).contiguous())


def _gaussian_blur(maps: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of (B, K, H, W) as M_h @ X @ M_w^T (batched matmuls beat
    784 single-channel convolutions on CPU)."""
    h, w = maps.shape[-2:]
    return _blur_matrix(h, sigma, maps) @ maps @ _blur_matrix(w, sigma, maps).T


def decode_dark(scores: Tensor, *, blur_sigma: float = 2.0, logits: bool = False) -> tuple[Tensor, Tensor]:
    """DARK: Newton step -H^{-1} g on the log of the blurred map at the arg-max.

    Args:
        scores: (B, K, H, W) heatmaps (non-negative, e.g. Gaussian-target MSE heads), or raw
            scores with ``logits=True`` (they are turned into softmax probabilities first,
            the structured loss's own reading of a score map).
        blur_sigma: std of the Gaussian blur, cells (2.0 ~ DARK's 11 x 11 kernel).

    The step is skipped (offset 0) at border cells and where the log-map is not
    locally concave; it is clamped to one cell.
    """
    col, row, maxvals = _argmax(scores)
    x = scores.to(torch.promote_types(scores.dtype, torch.float32))
    if logits:
        x = torch.softmax(x.flatten(2), -1).view_as(x)
    logmap = _gaussian_blur(x, blur_sigma).clamp_min(1e-10).log()
    c0 = _at(logmap, col, row)
    xp, ok1 = _neighbours(logmap, col, row, 1, 0)
    xm, ok2 = _neighbours(logmap, col, row, -1, 0)
    yp, ok3 = _neighbours(logmap, col, row, 0, 1)
    ym, ok4 = _neighbours(logmap, col, row, 0, -1)
    pp, _ = _neighbours(logmap, col, row, 1, 1)
    mm, _ = _neighbours(logmap, col, row, -1, -1)
    pm, _ = _neighbours(logmap, col, row, 1, -1)
    mp, _ = _neighbours(logmap, col, row, -1, 1)
    gx, gy = 0.5 * (xp - xm), 0.5 * (yp - ym)
    hxx, hyy = xp - 2 * c0 + xm, yp - 2 * c0 + ym
    hxy = 0.25 * (pp - pm - mp + mm)
    det = hxx * hyy - hxy * hxy
    concave = (hxx < 0) & (det > 1e-12) & ok1 & ok2 & ok3 & ok4
    safe_det = torch.where(concave, det, torch.ones_like(det))
    off_x = -(hyy * gx - hxy * gy) / safe_det
    off_y = -(hxx * gy - hxy * gx) / safe_det
    offset = torch.stack([off_x, off_y], -1).clamp(-1.0, 1.0)
    offset = torch.where(concave.unsqueeze(-1), offset, torch.zeros_like(offset))
    coords = torch.stack([col, row], -1).to(offset.dtype) + offset
    return coords, maxvals


def decode_local_softargmax(scores: Tensor, *, radius: int = 1, beta: float = 1.0) -> tuple[Tensor, Tensor]:
    """Expectation under softmax(beta * scores) restricted to the (2r+1)^2 window at the arg-max.

    Cells of the window outside the grid are left out of the softmax.
    """
    col, row, maxvals = _argmax(scores)
    x = scores.to(torch.promote_types(scores.dtype, torch.float32))
    steps = torch.arange(-radius, radius + 1, device=scores.device)
    dr, dc = torch.meshgrid(steps, steps, indexing="ij")
    cols = col.unsqueeze(-1) + dc.flatten()  # (B, K, M)
    rows = row.unsqueeze(-1) + dr.flatten()
    h, w = scores.shape[-2:]
    inside = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    idx = rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)
    vals = x.flatten(2).gather(-1, idx)
    # Subtracting the peak keeps beta * 1e4-sized scores finite.
    logits = beta * (vals - maxvals.to(x.dtype).unsqueeze(-1))
    prob = torch.softmax(logits.masked_fill(~inside, float("-inf")), -1)
    coords = torch.stack([(prob * cols.to(x.dtype)).sum(-1), (prob * rows.to(x.dtype)).sum(-1)], -1)
    return coords, maxvals


def decode_softargmax(scores: Tensor, *, beta: float = 1.0) -> tuple[Tensor, Tensor]:
    """Global soft-argmax (for soft-argmax/STAR-trained heads); maxvals from the arg-max."""
    _, _, maxvals = _argmax(scores)
    return soft_argmax(scores, beta), maxvals


def decode_star_mean(scores: Tensor, *, normalize: str = "relu_instance_norm") -> tuple[Tensor, Tensor]:
    """Mean of the distribution the STAR loss trains (its own normalisation of the map).

    STAR penalises the error of this mean, so it is the decoder consistent with training.
    """
    _, _, maxvals = _argmax(scores)
    prob = to_distribution(scores, normalize)
    mu_x, mu_y, *_ = heatmap_moments(prob)
    height, width = scores.shape[-2:]
    # heatmap_moments works in align-corners [-1, 1] units; back to grid cells.
    coords = torch.stack([(mu_x + 1) * (width - 1) / 2, (mu_y + 1) * (height - 1) / 2], -1)
    return coords, maxvals


DECODERS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {
    "none": decode_argmax,
    "quarter": decode_quarter,
    "dark": decode_dark,
    "local_softargmax": decode_local_softargmax,
    "softargmax": decode_softargmax,
    "star_mean": decode_star_mean,
}


@torch.no_grad()
def decode_heatmaps(scores: Tensor, method: str = "none", **kw: Any) -> tuple[Tensor, Tensor]:
    """Decode (B, K, H, W) scores with a method from ``DECODERS`` and its keyword options.

    Returns:
        coords (B, K, 2) in grid cells (x = column, y = row), maxvals (B, K).
    """
    if scores.dim() != 4:
        raise ValueError(f"scores must be (B, K, H, W), got shape {tuple(scores.shape)}")
    if method not in DECODERS:
        raise ValueError(f"unknown decoder {method!r}; expected one of {sorted(DECODERS)}")
    return DECODERS[method](scores, **kw)
