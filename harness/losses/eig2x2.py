"""Closed-form eigen-decomposition of batched symmetric 2x2 matrices.

torch.linalg.eigh on millions of 2x2 blocks is slow on CPU and its backward divides by
(l1 - l2), which is inf/NaN for the isotropic covariances that STAR and the image-aware
target meet routinely (a round blob, a flat image patch). Here the direction comes from
an angle, and the degenerate case is masked before any square root or division.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["sym2x2_eig"]


def sym2x2_eig(a: Tensor, b: Tensor, c: Tensor, *, rel_tol: float = 1e-6) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Eigen-decompose [[a, b], [b, c]] elementwise.

    Args:
        a, b, c: tensors of one shape (e.g. (B, K)): the entries xx, xy and yy.
        rel_tol: the matrix counts as isotropic when the eigenvalue half-gap r is below
            ``rel_tol * (|a| + |c|)``; its principal direction is then the x axis and the
            gradient through the direction is 0 (any direction is an eigenvector).

    Returns:
        (l1, l2, cos_t, sin_t): eigenvalues l1 >= l2 and the principal direction
        v1 = (cos_t, sin_t); the second eigenvector is v2 = (-sin_t, cos_t).
    """
    half_diff = 0.5 * (a - c)
    mean = 0.5 * (a + c)
    r2 = half_diff.square() + b.square()
    scale = rel_tol * (a.abs() + c.abs())
    degenerate = r2 <= scale.square() + torch.finfo(a.dtype).tiny
    # Double where: the masked branch must see harmless inputs, or its inf/NaN
    # derivative leaks into the gradient through 0 * inf.
    r = torch.where(degenerate, torch.zeros_like(r2), torch.where(degenerate, torch.ones_like(r2), r2).sqrt())
    y = torch.where(degenerate, torch.zeros_like(b), 2.0 * b)
    x = torch.where(degenerate, torch.ones_like(half_diff), 2.0 * half_diff)
    theta = 0.5 * torch.atan2(y, x)
    return mean + r, mean - r, theta.cos(), theta.sin()
