"""The comparison's heads: one constructor, one layer layout, different loss and decoder.

Every head here is a 1x1 convolution from the neck's stride-4 features to K maps of
``heatmap_size`` with MMPose's HeatmapHead initialisation, so methods differ only in the
loss and the decoder. All of them train from the same codec output in the data pipeline
(MMPose's ``IntegralRegressionLabel`` with ``normalize=False``): normalised keypoint
labels (B, K, 2) in [0, 1] of the input, Gaussian target heatmaps (B, K, H, W) and
keypoint weights (B, K).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from mmpose.models.heads import DSNTHead, HeatmapHead, IntegralRegressionHead
from mmpose.registry import MODELS

__all__ = ["ScoreMapHead", "MSEHeatmapHead", "SoftArgmaxHead", "DSNTHeatmapHead"]

# HeatmapHead's own default, applied to every head so initialisation is not a confounder.
_INIT = [
    dict(type="Normal", layer=["Conv2d", "ConvTranspose2d"], std=0.001),
    dict(type="Constant", layer="BatchNorm2d", val=1),
]


_DSNT_LOSS = dict(
    type="MultipleLossWrapper",
    losses=[dict(type="SmoothL1Loss", use_target_weight=True),
            dict(type="MaskedJSDiscretLoss", use_target_weight=True)],
)


def _regression_layout(in_channels: int, out_channels: int, heatmap_size: Sequence[int], init_cfg) -> dict:
    """IntegralRegressionHead arguments for a bare 1x1 conv on the features."""
    return dict(
        in_channels=in_channels,
        in_featuremap_size=tuple(heatmap_size),
        num_joints=out_channels,
        deconv_out_channels=None,
        final_layer=dict(kernel_size=1),
        init_cfg=init_cfg or _INIT,
    )


def _labels_and_weights(batch_data_samples) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.cat([d.gt_instance_labels.keypoint_labels for d in batch_data_samples])
    weights = torch.cat([d.gt_instance_labels.keypoint_weights for d in batch_data_samples])
    return labels, weights


@MODELS.register_module()
class MSEHeatmapHead(HeatmapHead):
    """MMPose's HeatmapHead (Gaussian-target regression) in the comparison's layout."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        heatmap_size: Sequence[int],
        loss: dict | None = None,
        decoder: dict | None = None,
        init_cfg: list | None = None,
    ) -> None:
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            deconv_out_channels=None,
            conv_out_channels=None,
            final_layer=dict(kernel_size=1),
            loss=loss or dict(type="KeypointMSELoss", use_target_weight=True),
            decoder=decoder,
            init_cfg=init_cfg or _INIT,
        )
        self.heatmap_size = tuple(heatmap_size)


@MODELS.register_module()
class ScoreMapHead(MSEHeatmapHead):
    """Raw score maps trained against continuous grid keypoints (structured loss, STAR).

    The loss module is called as ``loss(scores (B, K, H, W), keypoints (B, K, 2),
    weights (B, K))`` with keypoints in grid units (cell centres at integer coordinates),
    converted from the normalised labels: grid = label * (W, H), because the label is
    input_px / input_size and a cell is input_size / (W, H) pixels wide.
    """

    def loss(self, feats, batch_data_samples, train_cfg=None, images=None) -> dict:
        """``images`` (B, 3, H_in, W_in): the input crops, needed by an image-aware target only."""
        scores = self.forward(feats)
        labels, weights = _labels_and_weights(batch_data_samples)
        size = labels.new_tensor(self.heatmap_size)
        keypoints = (labels * size).to(scores.dtype)
        if getattr(self.loss_module, "target", None) != "image_aware":
            return dict(loss_kpt=self.loss_module(scores, keypoints, weights))
        if images is None:
            raise ValueError("loss target 'image_aware' needs the input crops: set "
                             "model.type='ImageAwareTopdownPoseEstimator' in the config")
        return dict(loss_kpt=self.loss_module(scores, keypoints, weights, image=images))


@MODELS.register_module()
class SoftArgmaxHead(IntegralRegressionHead):
    """MMPose's IntegralRegressionHead (soft-argmax, optional debias) in the comparison's layout."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        heatmap_size: Sequence[int],
        beta: float = 1.0,
        debias: bool = False,
        loss: dict | None = None,
        decoder: dict | None = None,
        init_cfg: list | None = None,
    ) -> None:
        super().__init__(
            **_regression_layout(in_channels, out_channels, heatmap_size, init_cfg),
            debias=debias,
            beta=beta,
            loss=loss or dict(type="SmoothL1Loss", use_target_weight=True),
            decoder=decoder,
        )


@MODELS.register_module()
class DSNTHeatmapHead(DSNTHead):
    """MMPose's DSNTHead in the comparison's layout.

    DSNT's Jensen-Shannon term compares distributions, so the shared pipeline's Gaussian
    targets are normalised to sum to 1 per keypoint here rather than in a second codec.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        heatmap_size: Sequence[int],
        beta: float = 1.0,
        debias: bool = False,
        lambda_t: int = -1,
        loss: dict | None = None,
        decoder: dict | None = None,
        init_cfg: list | None = None,
    ) -> None:
        super().__init__(
            **_regression_layout(in_channels, out_channels, heatmap_size, init_cfg),
            lambda_t=lambda_t,
            debias=debias,
            beta=beta,
            loss=loss or _DSNT_LOSS,
            decoder=decoder,
        )

    def loss(self, inputs, batch_data_samples, train_cfg=None) -> dict:
        for sample in batch_data_samples:
            heatmaps = sample.gt_fields.heatmaps
            sample.gt_fields.heatmaps = heatmaps / heatmaps.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-24)
        return super().loss(inputs, batch_data_samples, train_cfg or {})
