"""MMPose-registered wrappers of the project's pure loss cores (:mod:`harness.losses`).

The cores take raw score maps (B, K, H, W), keypoints in grid units (B, K, 2) and
weights (B, K); MMPose heads call ``loss_module(pred, target, weights)`` in that order.
"""
from __future__ import annotations

from typing import Any

import torch
from mmpose.models.losses import JSDiscretLoss
from mmpose.registry import MODELS
from torch import Tensor, nn

from harness.losses import STARLoss, StructuredLoss

__all__ = ["StructuredHeatmapLoss", "STARHeatmapLoss", "MaskedJSDiscretLoss"]


class _Weighted(nn.Module):
    """Adds MMPose's ``loss_weight`` to a core loss module called as (scores, keypoints, weights).

    A mixin listed before the core (an ``nn.Module``), so the method order is unchanged.
    """

    def __init__(self, loss_weight: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loss_weight = loss_weight

    def forward(self, scores: Tensor, keypoints: Tensor, weights: Tensor | None = None,
                *args: Any, **inputs: Any) -> Tensor:
        """scores (B, K, H, W), keypoints (B, K, 2) grid units, weights (B, K) -> scalar.

        ``args`` and ``inputs`` go to the core unchanged (``image`` (B, C, Hi, Wi) for an image-aware target).
        """
        return self.loss_weight * super().forward(scores, keypoints, weights, *args, **inputs)


@MODELS.register_module()
class StructuredHeatmapLoss(_Weighted, StructuredLoss):
    """The paper's smoothed structured loss, by name in MMPose configs.

    Args are those of :class:`harness.losses.StructuredLoss` plus ``loss_weight``.
    """


@MODELS.register_module()
class STARHeatmapLoss(_Weighted, STARLoss):
    """The STAR loss (Zhou et al., CVPR 2023) on the main heatmap, by name in MMPose configs.

    Args are those of :class:`harness.losses.STARLoss` plus ``loss_weight``.
    """


@MODELS.register_module()
class MaskedJSDiscretLoss(JSDiscretLoss):
    """MMPose's JSDiscretLoss with the keypoint weight applied after the divergence.

    MMPose multiplies the *maps* by the weight, so a keypoint of weight 0 (e.g. pushed out
    of the crop by augmentation) becomes an all-zero distribution whose KL gradient is
    -inf * 0 = NaN; weighting the per-cell divergence instead gives exactly 0.
    """

    def forward(self, pred_hm, gt_hm, target_weight=None):
        """pred_hm, gt_hm (B, K, H, W) distributions; target_weight (B, K) -> scalar.

        MMPose's value, computed per keypoint before weighting: JS(p, q) summed over cells
        is 0.5 * (sum xlogy(p, p) + sum xlogy(q, q)) - sum m log(m + eps), m = (p + q) / 2,
        which takes log(m) once instead of twice and weights a (B, K) map, not (B, K, H, W)
        (1.5x the time of a plain implementation before; benchmarks/bench_losses.py).
        """
        m = 0.5 * (pred_hm + gt_hm)
        cells = 0.5 * (torch.xlogy(pred_hm, pred_hm) + torch.xlogy(gt_hm, gt_hm)) - m * (m + 1e-24).log()
        loss = cells.sum((-2, -1))
        if self.use_target_weight:
            loss = loss * target_weight.reshape(loss.shape)
        if self.size_average:
            loss = loss / len(gt_hm)
        return loss.sum()
