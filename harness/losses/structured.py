"""The paper's structured (softmax-margin) loss on raw heatmap scores.

Yang and Yeh, "Heatmap Regression without Soft-Argmax for Facial Landmark Detection",
ICCV 2025 (arXiv 2508.14929); equations in method.md section 2. Per landmark,

    L_n = eps * log sum_p exp((alpha * Delta(y_n, p) + F_n(p)) / eps) - sum_p q_n(p) F_n(p)

with an exact dense logsumexp over all H*W cells and q_n the target distribution
("nearest", "bilinear", "gaussian" or an explicit map; see ``targets``).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .common import check_scores, clean_keypoints, grid_offsets, weighted_reduce, work_dtype
from .fused import fused_structured
from .margins import Margin, get_margin
from .targets import image_aware_target, make_target

__all__ = ["StructuredLoss", "structured_loss", "structured_loss_per_keypoint"]


def structured_loss_per_keypoint(
    scores: Tensor,
    keypoints: Tensor,
    *,
    eps: float = 1.0,
    alpha: float = 1.0,
    margin: str | Margin = "l2",
    target: str | Tensor = "nearest",
    sigma: float | None = None,
    fused: bool = True,
    reuse_buffer: bool = True,
) -> Tensor:
    """Unweighted structured loss per landmark, (B, K), in float32 (float64 for float64 input).

    Same arguments as ``structured_loss``; ``fused=False`` runs plain autograd (the
    reference the fused Function is tested against). With ``fused`` and
    ``reuse_buffer`` (the default) backward may run only once per forward; pass
    ``reuse_buffer=False`` for retain_graph or gradcheck.
    """
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0 (L_n >= 0 needs a non-negative margin), got {alpha}")
    _, _, h, w = check_scores(scores, keypoints)
    dtype = work_dtype(scores.dtype)
    x = scores.to(dtype)
    kp = clean_keypoints(keypoints, dtype)
    q = make_target(target, kp, h, w, sigma)
    dx, dy = grid_offsets(kp, h, w)
    delta = get_margin(margin)(dx, dy)
    if fused:
        return fused_structured(
            x, delta, q, alpha=alpha, eps=eps, delta_is_scratch=isinstance(margin, str), reuse_buffer=reuse_buffer
        )
    z = (alpha * delta + x) / eps
    return eps * torch.logsumexp(z.flatten(2), -1) - q.expect(x)


def structured_loss(
    scores: Tensor,
    keypoints: Tensor,
    weights: Tensor | None = None,
    *,
    eps: float = 1.0,
    alpha: float = 1.0,
    margin: str | Margin = "l2",
    target: str | Tensor = "nearest",
    sigma: float | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Structured loss of raw score maps against continuous landmark targets.

    Args:
        scores: (B, K, H, W) raw scores (no softmax). Any float dtype; computed in float32
            or better, and returned in that precision.
        keypoints: (B, K, 2) targets (x, y) in heatmap-grid units, cell centres at
            integer coordinates (x = column, y = row). Treated as constants; non-finite
            entries (missing landmarks) are replaced by 0 and should carry weight 0.
        weights: (B, K) visibility weights; weight 0 gives exactly 0 loss and 0 gradient.
        eps: temperature > 0 (eps -> 0 gives the structured hinge).
        alpha: margin scale >= 0 (alpha = 0, eps = 1, nearest = pixel cross-entropy).
        margin: "l1", "l2", "squared_l2", "smooth_l1" (beta = 1 cell) or a callable
            ``(dx (B,K,1,W), dy (B,K,H,1)) -> (B,K,H,W)``; Delta is measured in grid cells
            from the continuous target to each cell centre (see ``margins``).
        target: "nearest", "bilinear", "gaussian", or an explicit (B, K, H, W)
            distribution (e.g. from ``image_aware_target``).
        sigma: std of the "gaussian" target in grid cells (required there, ignored otherwise).
        reduction: "none" -> (B, K) weighted; "sum"; "mean" = weighted sum / sum of weights.
    """
    per_kpt = structured_loss_per_keypoint(
        scores, keypoints, eps=eps, alpha=alpha, margin=margin, target=target, sigma=sigma
    )
    return weighted_reduce(per_kpt, weights, reduction)


class StructuredLoss(nn.Module):
    """``structured_loss`` as a module; ``target="image_aware"`` builds the soft label from an image.

    Args:
        eps, alpha, margin, sigma, reduction: as in ``structured_loss``.
        target: "nearest", "bilinear", "gaussian" or "image_aware" (the project's reading
            of the paper's image-aware label smoothing; ``forward`` then needs ``image``).
        anisotropy, blend, window: options of ``image_aware_target`` (image_aware only).
    """

    def __init__(
        self,
        *,
        eps: float = 1.0,
        alpha: float = 1.0,
        margin: str | Margin = "l2",
        target: str = "nearest",
        sigma: float | None = None,
        reduction: str = "mean",
        anisotropy: float = 2.0,
        blend: float = 0.5,
        window: float | None = None,
    ) -> None:
        super().__init__()
        if target == "image_aware" and (sigma is None or sigma <= 0):
            raise ValueError("target='image_aware' needs sigma > 0 (grid cells)")
        self.eps, self.alpha, self.margin, self.target = eps, alpha, margin, target
        self.sigma, self.reduction = sigma, reduction
        self.image_aware: dict[str, Any] = dict(anisotropy=anisotropy, blend=blend, window=window)

    def forward(
        self, scores: Tensor, keypoints: Tensor, weights: Tensor | None = None, image: Tensor | None = None
    ) -> Tensor:
        """scores (B, K, H, W), keypoints (B, K, 2) grid cells, weights (B, K), image (B, C, Hi, Wi)."""
        target: str | Tensor = self.target
        if self.target == "image_aware":
            if image is None:
                raise ValueError("target='image_aware' needs the input image (or an edge map) in forward()")
            kp = clean_keypoints(keypoints, work_dtype(scores.dtype))
            assert self.sigma is not None  # checked in __init__ for target="image_aware"
            target = image_aware_target(kp, image, *scores.shape[-2:], sigma=self.sigma, **self.image_aware).prob
        return structured_loss(
            scores, keypoints, weights, eps=self.eps, alpha=self.alpha, margin=self.margin,
            target=target, sigma=self.sigma, reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return f"eps={self.eps}, alpha={self.alpha}, margin={self.margin!r}, target={self.target!r}, sigma={self.sigma}"
