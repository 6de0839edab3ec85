"""Pure-torch loss cores (no MMPose): the structured loss and the baselines' terms.

The MMPose-registered wrappers live in ``harness.mm``; everything here takes
(B, K, H, W) score maps and (B, K, 2) keypoints in heatmap-grid units.
"""
from .margins import MARGINS, get_margin, smooth_l1_margin
from .softargmax import SoftArgmaxLoss, soft_argmax, softargmax_loss
from .star import STARLoss, heatmap_moments, star_loss
from .structured import StructuredLoss, structured_loss, structured_loss_per_keypoint
from .targets import (
    TARGET_MODES,
    DenseTarget,
    SeparableTarget,
    SparseTarget,
    bilinear_target,
    gaussian_target,
    image_aware_target,
    make_target,
    nearest_target,
)

__all__ = [
    "MARGINS",
    "TARGET_MODES",
    "DenseTarget",
    "STARLoss",
    "SeparableTarget",
    "SoftArgmaxLoss",
    "SparseTarget",
    "StructuredLoss",
    "bilinear_target",
    "gaussian_target",
    "get_margin",
    "heatmap_moments",
    "image_aware_target",
    "make_target",
    "nearest_target",
    "smooth_l1_margin",
    "soft_argmax",
    "softargmax_loss",
    "star_loss",
    "structured_loss",
    "structured_loss_per_keypoint",
]
