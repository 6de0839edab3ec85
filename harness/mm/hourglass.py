"""STAR's stacked hourglass with CoordConv and AAM heads, as an MMPose backbone.

Zhou et al., "STAR Loss", CVPR 2023, and the ICCV 2025 paper's refactor of it
(method.md section 7: ``StackedHGNetV1``, 4 stacks, 4 levels, 256 channels, about
13.37 M parameters for WFLW). Written from that description and the public layout of
STAR's network; submodule names follow its ``state_dict`` keys (``pre``, ``hgs``,
``features``, ``out_heatmaps``, ``out_pointmaps``, ``out_edgemaps``, ``merge_*``,
``e2h_transform``) so a released checkpoint maps onto this module by prefix alone
(:mod:`harness.mm.star_checkpoint`).

The landmark, point and edge maps of each stack are fed back into the next stack, so the
1x1 output convolutions live here, not in a head: the backbone returns every stack's maps
(:class:`StackMaps`) and :class:`harness.mm.aam_head.StackedAAMHead` supervises them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from mmpose.models.backbones.base_backbone import BaseBackbone
from mmpose.registry import MODELS
from torch import Tensor, nn

from harness.mm.aam_edges import Edge, edges_for
from harness.schemes import get_scheme

__all__ = ["StackMaps", "STARHourglass", "coord_channels"]

HEATMAP_ACTIVATIONS = ("none", "in+relu")
# The previous stack's last landmark map marks where the boundary coordinates are kept.
_BOUNDARY_THRESHOLD = 0.05


class StackMaps(NamedTuple):
    """One stack's outputs, each (B, C, H, W) at stride 4.

    ``landmarks``: K landmark maps after the configured activation (raw scores for
    ``"none"``); ``points``: K point maps and ``edges``: E edge maps, both after a sigmoid;
    ``fused``: ``landmarks`` times the AAM mask (edge-to-point transform times point maps),
    STAR's input to its loss and decoder. Without AAM, ``points``/``edges`` are empty
    (C = 0) and ``fused`` is ``landmarks``.
    """

    landmarks: Tensor
    points: Tensor
    edges: Tensor
    fused: Tensor


def coord_channels(height: int, width: int, like: Tensor) -> Tensor:
    """(1, 3, H, W): row and column coordinates in [-1, 1] and the radius scaled to max 1.

    The row coordinate comes first, as in STAR's CoordConv (its "x" runs down the rows).
    """
    rows = torch.linspace(-1.0, 1.0, height, dtype=like.dtype, device=like.device)
    cols = torch.linspace(-1.0, 1.0, width, dtype=like.dtype, device=like.device)
    r_grid, c_grid = torch.meshgrid(rows, cols, indexing="ij")
    radius = (r_grid.square() + c_grid.square()).sqrt()
    return torch.stack([r_grid, c_grid, radius / radius.max()])[None]


class ConvBlock(nn.Module):
    """Conv (with bias, 'same' padding) -> optional BatchNorm -> optional ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1,
                 bn: bool = False, relu: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding=(kernel - 1) // 2, bias=True)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: Tensor) -> Tensor:
        """(B, cin, H, W) -> (B, cout, H / stride, W / stride)."""
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x) if self.relu is not None else x


class ResBlock(nn.Module):
    """Pre-activation bottleneck (BN-ReLU-conv 1x1, 3x3, 1x1 at half width) plus a skip.

    The 1x1 ``skip_layer`` exists only when cin != cout. STAR's network builds it in every
    block and leaves it unused at equal widths (3.70 M parameters in 56 blocks); without
    them the count is 13.48 M, the published 13.37 M within 1%. A checkpoint's unused
    skip weights are dropped on loading (:mod:`harness.mm.star_checkpoint`).
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = cout // 2
        self.relu = nn.ReLU()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), ConvBlock(cin, mid, 1, relu=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(mid), ConvBlock(mid, mid, 3, relu=False)
        self.bn3, self.conv3 = nn.BatchNorm2d(mid), ConvBlock(mid, cout, 1, relu=False)
        self.skip_layer = ConvBlock(cin, cout, 1, relu=False) if cin != cout else None

    def forward(self, x: Tensor) -> Tensor:
        """(B, cin, H, W) -> (B, cout, H, W)."""
        residual = self.skip_layer(x) if self.skip_layer is not None else x
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + residual


class CoordConv(nn.Module):
    """Concatenate coordinate channels (and, after the first stack, boundary ones) then conv.

    Boundary channels: the row and column coordinates where the previous stack's last
    landmark map (clamped to [0, 1]) exceeds 0.05, zero elsewhere.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, boundary: bool = False,
                 bn: bool = False, relu: bool = False) -> None:
        super().__init__()
        self.boundary = boundary
        self.conv = nn.Conv2d(cin + 3 + (2 if boundary else 0), cout, kernel, stride, padding=(kernel - 1) // 2)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: Tensor, heatmap: Tensor | None = None) -> Tensor:
        """x (B, cin, H, W); heatmap (B, K, H, W) of the previous stack iff ``boundary``."""
        if self.boundary != (heatmap is not None):
            raise ValueError("a boundary CoordConv needs the previous stack's heatmap, and only it does")
        coords = coord_channels(x.shape[-2], x.shape[-1], x).expand(x.shape[0], -1, -1, -1)
        parts = [x, coords]
        if heatmap is not None:
            mask = heatmap[:, -1:].clamp(0.0, 1.0) > _BOUNDARY_THRESHOLD
            parts.append(torch.where(mask, coords[:, :2], torch.zeros_like(coords[:, :2])))
        out = self.conv(torch.cat(parts, dim=1))
        if self.bn is not None:
            out = self.bn(out)
        return self.relu(out) if self.relu is not None else out


class Hourglass(nn.Module):
    """One hourglass of ``levels`` recursive halvings at constant width."""

    def __init__(self, levels: int, channels: int, coord: str = "none") -> None:
        """coord: "none", "first" (coordinates only) or "boundary" (coordinates + boundary)."""
        super().__init__()
        self.coordconv = (None if coord == "none" else
                          CoordConv(channels, channels, 1, boundary=coord == "boundary"))
        self.up1 = ResBlock(channels, channels)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.low1 = ResBlock(channels, channels)
        self.low2: nn.Module = (Hourglass(levels - 1, channels) if levels > 1
                                else ResBlock(channels, channels))
        self.low3 = ResBlock(channels, channels)
        self.up2 = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: Tensor, heatmap: Tensor | None = None) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W); H, W divisible by 2 ** levels."""
        if self.coordconv is not None:
            x = self.coordconv(x, heatmap)
        return self.up1(x) + self.up2(self.low3(self.low2(self.low1(self.pool1(x)))))


class EdgeToPoint(nn.Module):
    """Fixed 1x1 map from E edge maps to K landmark masks: a landmark's mask is the sum of
    its edges' maps, or 1 for a landmark on no edge. Buffers, so they are in the state dict.
    """

    weight: Tensor
    bias: Tensor

    def __init__(self, edges: Sequence[Edge], num_points: int) -> None:
        super().__init__()
        weight = torch.zeros(num_points, len(edges))
        for e, (_, indices) in enumerate(edges):
            weight[list(indices), e] = 1.0
        self.register_buffer("weight", weight[:, :, None, None])
        self.register_buffer("bias", (weight.sum(1) == 0).float())

    def forward(self, edge_maps: Tensor) -> Tensor:
        """(B, E, H, W) -> (B, K, H, W)."""
        return F.conv2d(edge_maps, self.weight, self.bias)


def _convs(n: int, cin: int, cout: int) -> nn.ModuleList:
    return nn.ModuleList(ConvBlock(cin, cout, 1, relu=False) for _ in range(n))


@MODELS.register_module()
class STARHourglass(BaseBackbone):
    """Stacked hourglass with CoordConv and AAM (STAR's ``StackedHGNetV1``).

    Args:
        scheme: landmark scheme whose AAM edges are predicted ("wflw", "300w", "cofw").
        num_keypoints: K landmark (and point) maps per stack; None: the scheme's.
        num_stacks, num_levels, channels: 4, 4, 256 in STAR.
        heatmap_act: "none" (raw scores, the ICCV 2025 paper's ``activation="none"``) or
            "in+relu" (instance norm then ReLU, STAR's own).
        use_aam: predict point and edge maps and feed them back (STAR's ``use_AAM``).
        init_cfg: MMEngine init config; None keeps PyTorch's default initialisation, as STAR.

    Input (B, 3, H, W) with H, W divisible by 4 * 2 ** num_levels; output a tuple of
    ``num_stacks`` :class:`StackMaps` at (H / 4, W / 4), the last one final.
    """

    def __init__(self, scheme: str = "wflw", num_keypoints: int | None = None, num_stacks: int = 4,
                 num_levels: int = 4, channels: int = 256, heatmap_act: str = "none", use_aam: bool = True,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        num_keypoints = num_keypoints or get_scheme(scheme).num_keypoints
        if heatmap_act not in HEATMAP_ACTIVATIONS:
            raise ValueError(f"heatmap_act must be one of {HEATMAP_ACTIVATIONS}, got {heatmap_act!r}")
        self.num_stacks, self.heatmap_act, self.use_aam = num_stacks, heatmap_act, use_aam
        self.pre = nn.Sequential(
            CoordConv(3, 64, 7, stride=2, bn=True, relu=True),
            ResBlock(64, 128), nn.MaxPool2d(2, 2), ResBlock(128, 128), ResBlock(128, channels))
        self.hgs = nn.ModuleList(Hourglass(num_levels, channels, "first" if i == 0 else "boundary")
                                 for i in range(num_stacks))
        self.features = nn.ModuleList(
            nn.Sequential(ResBlock(channels, channels), ConvBlock(channels, channels, 1, bn=True))
            for _ in range(num_stacks))
        self.out_heatmaps = _convs(num_stacks, channels, num_keypoints)
        self.merge_features = _convs(num_stacks - 1, channels, channels)
        self.merge_heatmaps = _convs(num_stacks - 1, num_keypoints, channels)
        if use_aam:
            edges = edges_for(scheme)
            self.e2h_transform = EdgeToPoint(edges, num_keypoints)
            self.out_edgemaps = _convs(num_stacks, channels, len(edges))
            self.out_pointmaps = _convs(num_stacks, channels, num_keypoints)
            self.merge_edgemaps = _convs(num_stacks - 1, len(edges), channels)
            self.merge_pointmaps = _convs(num_stacks - 1, num_keypoints, channels)

    def _activate(self, scores: Tensor) -> Tensor:
        return scores if self.heatmap_act == "none" else F.relu(F.instance_norm(scores))

    def forward(self, x: Tensor) -> tuple[StackMaps, ...]:
        """(B, 3, H, W) -> one :class:`StackMaps` per stack."""
        x = self.pre(x)
        outputs: list[StackMaps] = []
        heatmaps: Tensor | None = None
        for i in range(self.num_stacks):
            feature = self.features[i](self.hgs[i](x, heatmap=heatmaps))
            heatmaps = self._activate(self.out_heatmaps[i](feature))
            empty = heatmaps[:, :0]
            points = edges = empty
            fused = heatmaps
            if self.use_aam:
                points = torch.sigmoid(self.out_pointmaps[i](feature))
                edges = torch.sigmoid(self.out_edgemaps[i](feature))
                fused = self.e2h_transform(edges) * points * heatmaps
            if i < self.num_stacks - 1:
                x = x + self.merge_features[i](feature) + self.merge_heatmaps[i](heatmaps)
                if self.use_aam:
                    x = x + self.merge_pointmaps[i](points) + self.merge_edgemaps[i](edges)
            outputs.append(StackMaps(heatmaps, points, edges, fused))
        return tuple(outputs)
