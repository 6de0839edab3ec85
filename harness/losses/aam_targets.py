"""Targets of STAR's AAM heads, drawn on the heatmap grid from the landmark labels.

STAR draws them in the data pipeline at input resolution (a Gaussian of 1.5 px per point,
a 1 px polyline per facial contour) and downsamples by 4. The project's reading draws
them directly on the grid, in grid cells (cell centres at integers, x = column, y = row),
as a Gaussian of the distance to the point and to the contour polyline, peak 1, with the
same sigma: one definition for both, differentiable nowhere it matters (targets are
constants), and no second data pipeline.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["point_maps", "edge_maps"]


def _grid(height: int, width: int, like: Tensor) -> Tensor:
    """(H * W, 2) cell centres (x, y)."""
    ys, xs = torch.meshgrid(torch.arange(height, dtype=like.dtype, device=like.device),
                            torch.arange(width, dtype=like.dtype, device=like.device), indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], -1)


def _clean(keypoints: Tensor, height: int, width: int) -> Tensor:
    """Non-finite -> far outside (zero map); the rest clamped into the grid, as STAR does."""
    upper = keypoints.new_tensor([width - 1, height - 1])
    inside = torch.minimum(keypoints.clamp_min(0), upper)
    return torch.where(torch.isfinite(keypoints), inside, torch.full_like(keypoints, -1e4))


def point_maps(keypoints: Tensor, size: Sequence[int], sigma: float) -> Tensor:
    """(B, K, 2) grid keypoints -> (B, K, H, W) Gaussians of ``sigma`` cells; size = (W, H)."""
    width, height = int(size[0]), int(size[1])
    kp = _clean(keypoints.detach().float(), height, width)
    d2 = (_grid(height, width, kp)[None, None] - kp[:, :, None]).square().sum(-1)
    return torch.exp(-d2 / (2 * sigma**2)).view(*kp.shape[:2], height, width)


def _segment_d2(grid: Tensor, start: Tensor, end: Tensor) -> Tensor:
    """Squared distance of (P, 2) points to (B, S, 2) -> (B, S, 2) segments: (B, S, P)."""
    along = end - start
    length2 = along.square().sum(-1, keepdim=True).clamp_min(1e-12)
    rel = grid[None, None] - start[:, :, None]
    t = ((rel * along[:, :, None]).sum(-1) / length2).clamp(0, 1)
    return (rel - t[..., None] * along[:, :, None]).square().sum(-1)


def edge_maps(keypoints: Tensor, edges: Sequence[tuple[bool, Sequence[int]]], size: Sequence[int],
              sigma: float) -> Tensor:
    """(B, K, 2) grid keypoints -> (B, E, H, W): a Gaussian of each cell's distance to the
    edge's polyline (closed edges also join the last point to the first)."""
    width, height = int(size[0]), int(size[1])
    kp = _clean(keypoints.detach().float(), height, width)
    grid = _grid(height, width, kp)
    maps = []
    for closed, indices in edges:
        order = list(indices) + ([indices[0]] if closed else [])
        ends = kp[:, order]
        d2 = _segment_d2(grid, ends[:, :-1], ends[:, 1:]).amin(1)
        maps.append(torch.exp(-d2 / (2 * sigma**2)))
    return torch.stack(maps, 1).view(kp.shape[0], len(maps), height, width)
