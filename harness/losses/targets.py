"""Target distributions q_n over the grid, for F_n(y_n) at a continuous y_n.

The structured loss replaces the score at the target by an expectation sum_p q(p) F(p)
(method.md section 2). Three shapes of q cover every mode without materialising more
than needed:

- ``SparseTarget``: a few cells with weights ("nearest": 1 cell, "bilinear": 4);
- ``SeparableTarget``: q(row, col) = rows(row) * cols(col) ("gaussian": an isotropic
  Gaussian normalised over the grid factorises into two normalised 1-D Gaussians);
- ``DenseTarget``: any (B, K, H, W) distribution (the image-aware soft label, or one
  supplied by the caller).

Each offers ``expect(scores) -> (B, K)``, ``subtract_from(grad)`` (grad -= q, in place,
for the fused backward) and ``dense() -> (B, K, H, W)``. Coordinates are in grid cells,
cell centres at integers, x = column, y = row.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .common import bilinear_form, grid_offsets
from .eig2x2 import sym2x2_eig

__all__ = [
    "TARGET_MODES",
    "DenseTarget",
    "SeparableTarget",
    "SparseTarget",
    "bilinear_target",
    "gaussian_target",
    "image_aware_target",
    "make_target",
    "nearest_target",
]

TARGET_MODES = ("nearest", "bilinear", "gaussian")


@dataclass(frozen=True)
class SparseTarget:
    """q on M cells per keypoint: index (B, K, M) into the flattened H*W grid, weight (B, K, M)."""

    index: Tensor
    weight: Tensor
    height: int
    width: int

    def expect(self, scores: Tensor) -> Tensor:
        flat = scores.flatten(2)
        return (flat.gather(-1, self.index) * self.weight).sum(-1)

    def subtract_from(self, grad: Tensor) -> None:
        grad.view(*grad.shape[:2], -1).scatter_add_(-1, self.index, -self.weight)

    def dense(self) -> Tensor:
        b, k, _ = self.index.shape
        out = self.weight.new_zeros(b, k, self.height * self.width)
        return out.scatter_add_(-1, self.index, self.weight).view(b, k, self.height, self.width)


@dataclass(frozen=True)
class SeparableTarget:
    """q(row, col) = rows[..., row] * cols[..., col]; rows (B, K, H), cols (B, K, W), each summing to 1."""

    rows: Tensor
    cols: Tensor

    def expect(self, scores: Tensor) -> Tensor:
        return bilinear_form(self.rows, scores, self.cols)

    def subtract_from(self, grad: Tensor) -> None:
        grad.addcmul_(self.rows.unsqueeze(-1), self.cols.unsqueeze(-2), value=-1.0)

    def dense(self) -> Tensor:
        return self.rows.unsqueeze(-1) * self.cols.unsqueeze(-2)


@dataclass(frozen=True)
class DenseTarget:
    """An explicit (B, K, H, W) distribution."""

    prob: Tensor

    def expect(self, scores: Tensor) -> Tensor:
        return (self.prob * scores).sum((-2, -1))

    def subtract_from(self, grad: Tensor) -> None:
        grad.sub_(self.prob)

    def dense(self) -> Tensor:
        return self.prob


def nearest_target(keypoints: Tensor, height: int, width: int) -> SparseTarget:
    """One-hot at the cell nearest to (B, K, 2) keypoints; halves round up, outside points clamp to the border."""
    col = torch.floor(keypoints[..., 0] + 0.5).clamp(0, width - 1).long()
    row = torch.floor(keypoints[..., 1] + 0.5).clamp(0, height - 1).long()
    index = (row * width + col).unsqueeze(-1)
    return SparseTarget(index, torch.ones_like(keypoints[..., :1]), height, width)


def _linear_pair(coord: Tensor, size: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The two cells bracketing coord along one axis and their linear weights (clamped to the grid)."""
    lo = torch.floor(coord).clamp(0, max(size - 2, 0))
    frac = (coord - lo).clamp(0, 1)
    hi = (lo + 1).clamp(max=size - 1)
    return lo.long(), hi.long(), 1 - frac, frac


def bilinear_target(keypoints: Tensor, height: int, width: int) -> SparseTarget:
    """Bilinear weights over the 4 cells around each keypoint (clamped to the grid), (B, K, 4)."""
    x0, x1, wx0, wx1 = _linear_pair(keypoints[..., 0], width)
    y0, y1, wy0, wy1 = _linear_pair(keypoints[..., 1], height)
    index = torch.stack([y0 * width + x0, y0 * width + x1, y1 * width + x0, y1 * width + x1], -1)
    weight = torch.stack([wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1], -1)
    return SparseTarget(index, weight, height, width)


def _gaussian_1d(center: Tensor, size: int, sigma: float) -> Tensor:
    """Normalised 1-D Gaussian over ``size`` cells, (B, K, size); a softmax, so far-off centres never give 0/0."""
    cells = torch.arange(size, dtype=center.dtype, device=center.device)
    return torch.softmax(-0.5 * ((cells - center.unsqueeze(-1)) / sigma).square(), dim=-1)


def gaussian_target(keypoints: Tensor, height: int, width: int, sigma: float | None) -> SeparableTarget:
    """Isotropic Gaussian of std ``sigma`` grid cells around each keypoint, normalised over the grid."""
    if sigma is None or sigma <= 0:
        raise ValueError(f"target='gaussian' needs sigma > 0 (in grid cells), got {sigma}")
    return SeparableTarget(
        _gaussian_1d(keypoints[..., 1], height, sigma), _gaussian_1d(keypoints[..., 0], width, sigma)
    )


def _structure_field(image: Tensor, height: int, width: int, dtype: torch.dtype) -> Tensor:
    """Per-cell structure tensor entries (gx^2, gx*gy, gy^2) of an image resampled to the grid, (B, 3, H, W)."""
    gray = image.detach().to(dtype).mean(1, keepdim=True)
    gray = F.adaptive_avg_pool2d(gray, (height, width))
    padded = F.pad(gray, (1, 1, 1, 1), mode="replicate")
    gx = 0.5 * (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2])
    gy = 0.5 * (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1])
    return torch.cat([gx * gx, gx * gy, gy * gy], 1)


def image_aware_target(
    keypoints: Tensor,
    image: Tensor,
    height: int,
    width: int,
    *,
    sigma: float,
    anisotropy: float = 2.0,
    blend: float = 0.5,
    window: float | None = None,
) -> DenseTarget:
    """Image-aware soft label: isotropic Gaussian blended with one stretched along the local edge.

    The paper's details are unpublished; this is the project's own reading. Near a
    landmark on a contour (jaw line, eyebrow, lip), position along the edge is more
    ambiguous than across it. We measure the edge direction with the structure tensor
    J = sum_p w(p) grad I(p) grad I(p)^T of the image resampled to the grid (area
    averaging, central differences), w a Gaussian window of std ``window`` cells
    (default 2 * sigma) at the landmark. With eigenvalues l1 >= l2 of J, the coherence
    c = ((l1 - l2) / (l1 + l2))^2 is 1 on a clean edge and 0 on flat or corner-like
    patches. The anisotropic Gaussian keeps std ``sigma`` across the edge (along the
    dominant gradient) and uses ``sigma * (1 + (anisotropy - 1) * c)`` along it; the
    label is ``(1 - blend) * isotropic + blend * anisotropic``, each normalised over the
    grid. An edge map (e.g. boundary heatmaps) works as well as an image: its ridges
    give the same tangent directions. The label is a constant (no gradient).

    Args:
        keypoints: (B, K, 2) in grid cells.
        image: (B, C, H_img, W_img) image or edge map covering the same crop as the grid.
        height, width: the grid size H, W.
        sigma: std of the isotropic part, grid cells.
        anisotropy: stretch along a perfectly coherent edge (1 gives an isotropic label).
        blend: weight of the anisotropic part in [0, 1].
        window: std of the structure-tensor window, grid cells.

    Returns:
        DenseTarget with prob (B, K, H, W), each map summing to 1.
    """
    if sigma is None or sigma <= 0 or anisotropy < 1 or not 0 <= blend <= 1:
        raise ValueError(f"need sigma > 0, anisotropy >= 1, 0 <= blend <= 1; got {sigma}, {anisotropy}, {blend}")
    if image.dim() != 4 or image.shape[0] != keypoints.shape[0]:
        raise ValueError(f"image must be (B, C, H, W) with B={keypoints.shape[0]}, got {tuple(image.shape)}")
    iso = gaussian_target(keypoints, height, width, sigma)
    win = gaussian_target(keypoints, height, width, window or 2.0 * sigma)
    field = _structure_field(image, height, width, keypoints.dtype)
    # Windowed sums of each field channel around every landmark of the image.
    j = torch.stack([win.expect(field[:, i : i + 1].expand(-1, keypoints.shape[1], -1, -1)) for i in range(3)], -1)
    l1, l2, cos_t, sin_t = sym2x2_eig(j[..., 0], j[..., 1], j[..., 2])
    coherence = ((l1 - l2) / (l1 + l2).clamp_min(torch.finfo(j.dtype).tiny)).square()
    sigma_t = sigma * (1 + (anisotropy - 1) * coherence)
    dx, dy = grid_offsets(keypoints, height, width)
    c, s = cos_t[..., None, None], sin_t[..., None, None]
    across = (c * dx + s * dy) / sigma  # along the dominant gradient: the edge normal
    along = (-s * dx + c * dy) / sigma_t[..., None, None]
    logq = -0.5 * (across.square() + along.square())
    aniso = torch.softmax(logq.flatten(2), -1).view_as(logq)
    return DenseTarget((1 - blend) * iso.dense() + blend * aniso)


def make_target(
    target: str | Tensor, keypoints: Tensor, height: int, width: int, sigma: float | None = None
) -> SparseTarget | SeparableTarget | DenseTarget:
    """Build q from a mode name in ``TARGET_MODES`` or from an explicit (B, K, H, W) distribution."""
    if isinstance(target, Tensor):
        expected = (*keypoints.shape[:2], height, width)
        if tuple(target.shape) != expected:
            raise ValueError(f"a target distribution must be {expected}, got {tuple(target.shape)}")
        return DenseTarget(target.detach().to(keypoints.dtype))
    if target == "nearest":
        return nearest_target(keypoints, height, width)
    if target == "bilinear":
        return bilinear_target(keypoints, height, width)
    if target == "gaussian":
        return gaussian_target(keypoints, height, width, sigma)
    raise ValueError(f"unknown target {target!r}; expected one of {TARGET_MODES} or a (B, K, H, W) tensor")
