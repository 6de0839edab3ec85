"""Task losses Delta(y, p) of the structured objective (method.md section 2).

A margin is a function ``margin(dx, dy) -> Tensor`` of the signed offsets from the
continuous target y to the centre of every cell p, in grid cells: dx is (B, K, 1, W)
(column - x) and dy is (B, K, H, 1) (row - y). It returns Delta broadcast to
(B, K, H, W), which must be >= 0 and 0 at the target itself for L_n >= 0 to hold.
Taking the two 1-D factors instead of a (B, K, H, W) coordinate grid is what keeps the
distance map to one broadcast pass (the "separable" construction measured in
method.md section 6).

Built-ins (all in grid cells): "l1" = |dx| + |dy|, "l2" = sqrt(dx^2 + dy^2),
"squared_l2" = dx^2 + dy^2, "smooth_l1" = Huber of the Euclidean distance with
``beta`` = 1 cell (quadratic below beta, linear above; ``smooth_l1_margin(beta)`` for
another beta; 0.01 in [-1, 1] units is 0.01 * (W - 1) / 2 cells).
"""
from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

__all__ = ["MARGINS", "Margin", "get_margin", "smooth_l1_margin"]

Margin = Callable[[Tensor, Tensor], Tensor]


def l1_margin(dx: Tensor, dy: Tensor) -> Tensor:
    """Manhattan distance |dx| + |dy|, (B, K, H, W)."""
    return dx.abs() + dy.abs()


def squared_l2_margin(dx: Tensor, dy: Tensor) -> Tensor:
    """Squared Euclidean distance dx^2 + dy^2, (B, K, H, W)."""
    return dx.square() + dy.square()


def l2_margin(dx: Tensor, dy: Tensor) -> Tensor:
    """Euclidean distance, (B, K, H, W)."""
    return squared_l2_margin(dx, dy).sqrt_()


def smooth_l1_margin(beta: float = 1.0) -> Margin:
    """Huber of the Euclidean distance d: 0.5 d^2 / beta below ``beta`` cells, d - beta/2 above."""
    if beta <= 0:
        raise ValueError(f"smooth_l1 beta must be > 0 cells, got {beta}")

    def margin(dx: Tensor, dy: Tensor) -> Tensor:
        sq = squared_l2_margin(dx, dy)
        dist = sq.sqrt()
        return sq.mul_(0.5 / beta).where(dist < beta, dist.sub_(0.5 * beta))

    margin.__name__ = f"smooth_l1_margin(beta={beta})"
    return margin


MARGINS: dict[str, Margin] = {
    "l1": l1_margin,
    "l2": l2_margin,
    "squared_l2": squared_l2_margin,
    "smooth_l1": smooth_l1_margin(1.0),
}


def get_margin(margin: str | Margin) -> Margin:
    """Resolve a margin name from ``MARGINS`` or pass a callable through."""
    if callable(margin):
        return margin
    if margin not in MARGINS:
        raise ValueError(f"unknown margin {margin!r}; expected one of {sorted(MARGINS)} or a callable")
    return MARGINS[margin]
