"""A codec whose labels are keypoints in heatmap-grid units and whose decoder is named.

Training targets for score-map losses (structured, STAR) are continuous keypoints on the
K x K grid, with cell centres at integer coordinates: grid x = input x / stride, the same
convention as MMPose's MSRAHeatmap. Decoding is argmax plus a named sub-pixel step from
:mod:`harness.decoding`; the decoder is part of a method's identity and is logged.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from mmpose.codecs.base import BaseKeypointCodec
from mmpose.registry import KEYPOINT_CODECS

from harness.decoding import decode_heatmaps

__all__ = ["GridKeypointCodec"]


@KEYPOINT_CODECS.register_module()
class GridKeypointCodec(BaseKeypointCodec):
    """Encode keypoints to grid coordinates; decode score maps with a chosen sub-pixel step.

    Args:
        input_size: (w, h) of the network input.
        heatmap_size: (W, H) of the score maps.
        decoder: a method of :func:`harness.decoding.decode_heatmaps` ("none", "quarter",
            "dark", "local_softargmax", "softargmax").
        decoder_kwargs: extra arguments of that method (e.g. ``radius``, ``beta``).
    """

    label_mapping_table: ClassVar[dict[str, str]] = dict(keypoint_labels="keypoint_labels",
                                                         keypoint_weights="keypoint_weights")

    def __init__(
        self,
        input_size: Sequence[int],
        heatmap_size: Sequence[int],
        decoder: str = "none",
        decoder_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.input_size = tuple(input_size)
        self.heatmap_size = tuple(heatmap_size)
        self.stride = np.array(self.input_size, dtype=np.float32) / np.array(self.heatmap_size, dtype=np.float32)
        self.decoder = decoder
        self.decoder_kwargs = dict(decoder_kwargs or {})

    def encode(self, keypoints: np.ndarray, keypoints_visible: np.ndarray | None = None) -> dict:
        """(N, K, 2) input-pixel keypoints -> (N, K, 2) grid labels and (N, K) weights.

        A keypoint outside the grid (after augmentation) gets weight 0: the loss has no
        cell to put it in.
        """
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        labels = (keypoints / self.stride).astype(np.float32)
        w, h = self.heatmap_size
        inside = ((labels >= -0.5) & (labels <= np.array([w - 0.5, h - 0.5]))).all(axis=-1)
        weights = np.where(inside & (keypoints_visible > 0.5), 1.0, 0.0).astype(np.float32)
        return dict(keypoint_labels=labels, keypoint_weights=weights)

    def decode(self, encoded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, H, W) score maps -> (1, K, 2) input-pixel keypoints and (1, K) scores."""
        keypoints, scores = self.batch_decode(torch.from_numpy(np.asarray(encoded))[None])
        return keypoints[0], scores[0]

    def batch_decode(self, batch_heatmaps: torch.Tensor) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(B, K, H, W) score maps -> B arrays of (1, K, 2) keypoints and of (1, K) scores."""
        coords, maxvals = decode_heatmaps(batch_heatmaps.detach().float(), method=self.decoder, **self.decoder_kwargs)
        keypoints = coords.cpu().numpy() * self.stride
        scores = maxvals.cpu().numpy()
        return [k[None] for k in keypoints], [s[None] for s in scores]
