"""Adaptive Wing loss (Wang, Bo and Fuxin, "Adaptive Wing Loss for Robust Face Alignment
via Heatmap Regression", ICCV 2019), with the foreground weight map of that paper.

Per pixel, with target y in [0, 1] and error d = |pred - y|:

    AWing(d, y) = omega * log(1 + (d / epsilon) ** (alpha - y))       if d < theta
                  A * d - C                                           otherwise
    A = omega * (alpha - y) * (theta / epsilon) ** (alpha - y - 1) / (epsilon * (1 + (theta / epsilon) ** (alpha - y)))
    C = theta * A - omega * log(1 + (theta / epsilon) ** (alpha - y))

(the linear branch continues the log branch with equal value and slope at theta). The
weight map is ``w + 1`` where a 3 x 3 max filter of the target reaches ``threshold``
and 1 elsewhere. STAR's recipe uses it on the AAM point and edge maps with omega 14,
theta 0.5, epsilon 1, alpha 2.1, w 10, threshold 0.2, averaged over every pixel.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["AWingLoss", "awing_loss", "awing_weight_map"]


def awing_weight_map(target: Tensor, *, w: float = 10.0, threshold: float = 0.2) -> Tensor:
    """(B, C, H, W) target -> (B, C, H, W) weights, 1 + w near the foreground."""
    dilated = F.max_pool2d(target, kernel_size=3, stride=1, padding=1)
    return 1.0 + w * (dilated >= threshold).to(target.dtype)


def awing_loss(
    pred: Tensor, target: Tensor, *, omega: float = 14.0, theta: float = 0.5, epsilon: float = 1.0,
    alpha: float = 2.1, weight_map: bool = True, w: float = 10.0, threshold: float = 0.2,
) -> Tensor:
    """pred, target (B, C, H, W), target in [0, 1] -> scalar mean over every element."""
    target = target.to(pred.dtype)
    d = (pred - target).abs()
    power = alpha - target
    ratio = theta / epsilon
    a = omega * power * ratio ** (power - 1) / (epsilon * (1 + ratio ** power))
    c = theta * a - omega * torch.log1p(ratio ** power)
    # The log branch is evaluated at min(d, theta) so that its gradient stays finite where
    # the linear branch is taken (torch.where backpropagates through both).
    small = omega * torch.log1p((d.clamp_max(theta) / epsilon) ** power)
    loss = torch.where(d < theta, small, a * d - c)
    if weight_map:
        loss = loss * awing_weight_map(target, w=w, threshold=threshold)
    return loss.mean()


class AWingLoss(nn.Module):
    """:func:`awing_loss` as a module (same keyword arguments)."""

    def __init__(self, *, omega: float = 14.0, theta: float = 0.5, epsilon: float = 1.0, alpha: float = 2.1,
                 weight_map: bool = True, w: float = 10.0, threshold: float = 0.2) -> None:
        super().__init__()
        self.omega, self.theta, self.epsilon, self.alpha = omega, theta, epsilon, alpha
        self.weight_map, self.w, self.threshold = weight_map, w, threshold

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target (B, C, H, W) -> scalar."""
        return awing_loss(pred, target, omega=self.omega, theta=self.theta, epsilon=self.epsilon,
                          alpha=self.alpha, weight_map=self.weight_map, w=self.w, threshold=self.threshold)
