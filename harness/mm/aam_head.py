"""Intermediate supervision of :class:`harness.mm.hourglass.STARHourglass`, any method's loss.

The hourglass makes every stack's maps itself (they are fed back), so this head has no
layer of its own. It wraps one of the comparison's heads (``per_stack``: ScoreMapHead,
SoftArgmaxHead, DSNTHeatmapHead, MSEHeatmapHead, with their loss and decoder) with its
1x1 projection removed, runs that head's loss on each stack's landmark maps, and sums
them with STAR's stack weights 2^i / 2^(n-1) (1/8, 1/4, 1/2, 1 for 4 stacks), plus, per
stack and with the same weight, ``aux_weight`` times AWing on the point and the edge maps
against targets drawn from the labels (:mod:`harness.losses.aam_targets`). Prediction is
the wrapped head's, on the final stack.

``maps`` picks what the method sees: ``"landmarks"`` (the raw final scores with the
backbone's ``heatmap_act="none"``: the structured loss's input, as in the paper's code)
or ``"fused"`` (landmark maps times the AAM mask: STAR's loss and decoder input).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import MODELS
from torch import Tensor, nn

from harness.losses.aam_targets import edge_maps, point_maps
from harness.losses.awing import AWingLoss
from harness.mm.aam_edges import edges_for
from harness.mm.hourglass import StackMaps
from harness.schemes import get_scheme

__all__ = ["StackedAAMHead", "stack_weights"]

MAPS = ("landmarks", "fused")


def stack_weights(num_stacks: int) -> tuple[float, ...]:
    """STAR's weights 2^i / 2^(n-1): the final stack 1, each earlier one half the next."""
    return tuple(2.0 ** (i - num_stacks + 1) for i in range(num_stacks))


def _without_projection(head: nn.Module) -> nn.Module:
    """The wrapped head with its 1x1 output conv removed (the hourglass already made K maps)."""
    layer = getattr(head, "final_layer", None)
    if not isinstance(layer, nn.Conv2d):
        raise TypeError(f"per_stack head {type(head).__name__} has no 1x1 final_layer to remove")
    # MMPose's HeatmapHead runs an Identity, IntegralRegressionHead skips a None layer.
    setattr(head, "final_layer", nn.Identity() if hasattr(head, "deconv_layers") else None)  # noqa: B010
    return head


@MODELS.register_module()
class StackedAAMHead(BaseHead):
    """Per-stack loss of any method on STAR's hourglass, plus the AAM point/edge terms.

    Args:
        per_stack: config of a comparison head (its ``in_channels``/``out_channels`` are
            set to ``out_channels``); its loss and decoder are the method's.
        heatmap_size: (W, H) of the maps.
        scheme: landmark scheme of the AAM edges ("wflw", "300w", "cofw").
        out_channels: K landmarks; None: the scheme's.
        num_stacks: stacks of the backbone (weights :func:`stack_weights`).
        maps: "landmarks" or "fused" (module docstring).
        aux_weight: weight of each AWing term (STAR: 10 for points, 10 for edges); 0 drops them.
        aam_sigma: Gaussian sigma of the point and edge targets, grid cells (STAR's 1.5 px
            at 256 px is 0.375 cells on a 64 grid).
        decoder: unused (the wrapped head decodes); accepted so experiment bases can set
            the decoder's sizes for every head alike.
    """

    def __init__(self, per_stack: dict, heatmap_size: Sequence[int], scheme: str = "wflw",
                 out_channels: int | None = None, num_stacks: int = 4, maps: str = "landmarks",
                 aux_weight: float = 10.0, aam_sigma: float = 0.375, decoder: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        out_channels = out_channels or get_scheme(scheme).num_keypoints
        if maps not in MAPS:
            raise ValueError(f"maps must be one of {MAPS}, got {maps!r}")
        inner = dict(per_stack, in_channels=out_channels, out_channels=out_channels, heatmap_size=heatmap_size)
        if decoder is not None and "decoder" in inner:
            inner["decoder"] = {**decoder, **inner["decoder"]}
        # Any: the wrapped head is one of several MMPose head classes, used through their loss/predict.
        self.per_stack: Any = _without_projection(MODELS.build(inner))
        self.heatmap_size = tuple(heatmap_size)
        self.maps, self.aux_weight, self.aam_sigma = maps, aux_weight, aam_sigma
        self.weights = stack_weights(num_stacks)
        self.edges = edges_for(scheme)
        self.aux_loss = AWingLoss()

    @property
    def decoder(self) -> Any:  # MMPose's BaseHead.decode reads self.decoder
        return self.per_stack.decoder

    def _select(self, stack: StackMaps) -> tuple[Tensor]:
        return (stack.fused if self.maps == "fused" else stack.landmarks,)

    def forward(self, feats: Sequence[StackMaps]) -> Tensor:
        """Final stack's (B, K, H, W) maps as the wrapped head sees them."""
        return self._select(feats[-1])[0]

    def predict(self, feats: Any, batch_data_samples: Any, test_cfg: dict | None = None) -> Any:
        """The wrapped head's prediction from the final stack (a flip-test pair stays a pair)."""
        test_cfg = test_cfg or {}
        if test_cfg.get("flip_test", False):
            return self.per_stack.predict([self._select(f[-1]) for f in feats], batch_data_samples, test_cfg)
        return self.per_stack.predict(self._select(feats[-1]), batch_data_samples, test_cfg)

    def loss(self, feats: Sequence[StackMaps], batch_data_samples: Any, train_cfg: dict | None = None) -> dict:
        """Weighted per-stack losses: ``loss_kpt`` (the method), ``loss_point``, ``loss_edge``."""
        if len(feats) != len(self.weights):
            raise ValueError(f"head expects {len(self.weights)} stacks, the backbone gave {len(feats)}")
        labels = torch.cat([d.gt_instance_labels.keypoint_labels for d in batch_data_samples])
        grid = labels * labels.new_tensor(self.heatmap_size)
        losses = dict(loss_kpt=feats[-1].landmarks.new_zeros(()))
        use_aux = self.aux_weight > 0 and feats[-1].points.shape[1] > 0
        if use_aux:
            point_target = point_maps(grid, self.heatmap_size, self.aam_sigma)
            edge_target = edge_maps(grid, self.edges, self.heatmap_size, self.aam_sigma)
            losses.update(loss_point=losses["loss_kpt"], loss_edge=losses["loss_kpt"])
        for weight, stack in zip(self.weights, feats, strict=True):
            main = self.per_stack.loss(self._select(stack), batch_data_samples, train_cfg or {})
            losses["loss_kpt"] = losses["loss_kpt"] + weight * main["loss_kpt"]
            if use_aux:
                losses["loss_point"] = losses["loss_point"] + weight * self.aux_weight * self.aux_loss(
                    stack.points, point_target)
                losses["loss_edge"] = losses["loss_edge"] + weight * self.aux_weight * self.aux_loss(
                    stack.edges, edge_target)
        return losses
