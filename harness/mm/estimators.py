"""A top-down estimator that also hands the input crops to the head's loss.

The image-aware soft label (``StructuredHeatmapLoss(target='image_aware')``) is built from
the image the heatmap grid covers. MMPose's TopdownPoseEstimator gives the head only the
backbone features, so this subclass passes the batch of crops as well; everything else,
inference included, is MMPose's own.
"""
from __future__ import annotations

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS

__all__ = ["ImageAwareTopdownPoseEstimator"]


@MODELS.register_module()
class ImageAwareTopdownPoseEstimator(TopdownPoseEstimator):
    """TopdownPoseEstimator whose head loss also receives ``images``."""

    def loss(self, inputs, data_samples) -> dict:
        """inputs: (B, 3, H_in, W_in) normalised crops, the area the (H, W) grid covers."""
        feats = self.extract_feat(inputs)
        if not self.with_head:
            return {}
        return dict(self.head.loss(feats, data_samples, train_cfg=self.train_cfg, images=inputs))
