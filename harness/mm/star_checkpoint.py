"""Released STAR / ICCV 2025 checkpoints onto :class:`harness.mm.hourglass.STARHourglass`.

The layout (method.md section 7): ``torch.save`` of a dict whose ``"net"`` entry holds the
weights, every key prefixed ``"module."`` (DataParallel, or ``torch.optim.swa_utils.
AveragedModel``, whose ``"n_averaged"`` counter sits beside them), next to optimizer and
scheduler states. Key names below the prefix are STAR's, which the hourglass keeps, so the
mapping is: strip the prefixes, drop the counter, and drop the skip convolutions STAR
builds but never runs (those of blocks with equal in and out widths: a square 1x1 weight).
Anything else that does not fit is an error, never a partly random model.

Conventions of that code base, for predictions comparable with the published numbers:
input BGR scaled to [-1, 1] (``(img - 127.5) / 127.5``); landmarks decoded in [-1, 1]
(the map grid spans [-1, 1] corner to corner) and taken to input pixels with
align_corners=False, ``px = ((u + 1) * size - 1) / 2``; NME normalised by the outer eye
corners (WFLW, 300W) or the pupils (COFW, STAR's default).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mmpose.registry import KEYPOINT_CODECS
from torch import Tensor

from harness.evaluation.metrics import per_image_nme
from harness.losses.star import heatmap_moments, to_distribution
from harness.mm.codecs import GridKeypointCodec

__all__ = ["StarWeights", "star_state_dict", "load_star_checkpoint", "star_inputs", "star_predict",
           "star_nme", "PAPER_NORMALIZERS", "StarPixelCodec"]

PAPER_NORMALIZERS = {"wflw": "inter_ocular", "300w": "inter_ocular", "cofw": "inter_pupil"}
_PREFIX = "module."


@dataclass(frozen=True)
class StarWeights:
    """A released checkpoint's weights in the hourglass's own keys.

    ``state``: key -> tensor for ``STARHourglass.load_state_dict``; ``dropped``: the unused
    skip-convolution keys left out; ``n_averaged``: the EMA counter, if the file had one.
    """

    state: dict[str, Tensor]
    dropped: tuple[str, ...]
    n_averaged: int | None


def _is_unused_skip(key: str, state: Mapping[str, Tensor]) -> bool:
    if ".skip_layer.conv." not in key:
        return False
    weight = state[key.rsplit(".", 1)[0] + ".weight"]
    return weight.shape[0] == weight.shape[1]


def star_state_dict(checkpoint: Any) -> StarWeights:
    """What ``torch.load`` returned -> :class:`StarWeights`; ValueError when it is not that layout."""
    net = checkpoint.get("net", checkpoint) if isinstance(checkpoint, Mapping) else None
    if not isinstance(net, Mapping) or not net:
        raise ValueError("no 'net' weights in it (STAR's layout: {'net': {'module.<key>': tensor, ...}, ...})")
    state: dict[str, Tensor] = {}
    n_averaged = None
    for key, value in net.items():
        while key.startswith(_PREFIX):
            key = key[len(_PREFIX):]
        if key == "n_averaged":
            n_averaged = int(value)
            continue
        if not isinstance(value, Tensor):
            raise ValueError(f"entry {key!r} of 'net' is a {type(value).__name__}, not a tensor")
        state[key] = value
    dropped = tuple(sorted(k for k in state if _is_unused_skip(k, state)))
    return StarWeights({k: v for k, v in state.items() if k not in dropped}, dropped, n_averaged)


def load_star_checkpoint(path: str | Path, backbone: torch.nn.Module) -> StarWeights:
    """Load a STAR-layout file into ``backbone`` exactly; one-line ValueError naming the file otherwise."""
    try:
        weights = star_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
    except (ValueError, RuntimeError, OSError) as exc:
        raise ValueError(f"{path}: not a STAR checkpoint: {str(exc).splitlines()[0]}") from None
    wanted = backbone.state_dict()
    missing = sorted(set(wanted) - set(weights.state))
    unexpected = sorted(set(weights.state) - set(wanted))
    shapes = sorted(k for k in set(wanted) & set(weights.state) if wanted[k].shape != weights.state[k].shape)
    if missing or unexpected or shapes:
        first = (missing or unexpected or shapes)[0]
        raise ValueError(f"{path}: does not fit the hourglass: {len(missing)} missing, {len(unexpected)} "
                         f"unexpected, {len(shapes)} of another shape (e.g. {first})")
    backbone.load_state_dict(weights.state, strict=True)
    return weights


def star_inputs(images_bgr: np.ndarray) -> Tensor:
    """(B, H, W, 3) uint8 BGR crops -> (B, 3, H, W) float in [-1, 1], STAR's input."""
    return (torch.from_numpy(np.ascontiguousarray(images_bgr)).permute(0, 3, 1, 2).float() - 127.5) / 127.5


@torch.no_grad()
def star_predict(backbone: torch.nn.Module, inputs: Tensor, *, maps: str = "fused") -> Tensor:
    """(B, 3, H, W) STAR inputs -> (B, K, 2) landmarks in input pixels (x, y).

    The final stack's ``maps`` ("fused" for STAR, "landmarks" for raw scores) decoded as
    STAR decodes: the mean of the map divided by its sum, then align_corners=False pixels.
    """
    final = getattr(backbone(inputs)[-1], maps)
    mu_x, mu_y, *_ = heatmap_moments(to_distribution(final.float(), "none"))
    size = inputs.new_tensor([inputs.shape[-1], inputs.shape[-2]])
    return ((torch.stack([mu_x, mu_y], -1) + 1) * size - 1) / 2


def star_nme(pred: np.ndarray, gt: np.ndarray, scheme: str) -> np.ndarray:
    """(N, K, 2) pixels -> (N,) per-image NME in percent with the paper's normaliser."""
    return 100.0 * per_image_nme(pred, gt, normalizer=PAPER_NORMALIZERS[scheme], scheme=scheme)


@KEYPOINT_CODECS.register_module()
class StarPixelCodec(GridKeypointCodec):
    """:class:`GridKeypointCodec` with STAR's map-to-pixel step (for released checkpoints).

    The decoder's grid cell g (cell centres at integers) is u = 2 g / (W - 1) - 1 on STAR's
    corner-to-corner [-1, 1] grid, and ``px = ((u + 1) * size - 1) / 2`` (align_corners=False)
    is ``g * size / (W - 1) - 0.5``, where the trained codec's is ``g * size / W``.
    """

    def batch_decode(self, batch_heatmaps: torch.Tensor) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(B, K, H, W) score maps -> B arrays of (1, K, 2) input pixels and of (1, K) scores."""
        keypoints, scores = super().batch_decode(batch_heatmaps)
        grid = np.array(self.heatmap_size, np.float32)
        scale = np.array(self.input_size, np.float32) / (grid - 1) / self.stride  # undoes the trained g * stride
        return [k * scale - 0.5 for k in keypoints], scores
