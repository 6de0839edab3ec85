"""Where the face parts are in the 68-point (300W) and 98-point (WFLW) orders.

Index groups used to deform a mean face (:mod:`.shapes`) and to draw it
(:mod:`.procedural`). Indices are 0-based in each benchmark's official order.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FaceLayout", "LAYOUTS"]


def _r(a: int, b: int) -> tuple[int, ...]:
    return tuple(range(a, b + 1))


@dataclass(frozen=True)
class FaceLayout:
    """Index groups of one scheme; polygons are listed in drawing (cyclic) order."""

    jaw: tuple[int, ...]
    brows: tuple[tuple[int, ...], tuple[int, ...]]  # image-left, image-right
    brows_closed: bool  # WFLW brows are outlines (fill), 300W brows are centre lines
    nose_bridge: tuple[int, ...]
    nose_base: tuple[int, ...]
    eyes: tuple[tuple[int, ...], tuple[int, ...]]  # cyclic eyelid outlines
    eye_corners: tuple[tuple[int, int], tuple[int, int]]
    pupils: tuple[int, int] | None  # landmark indices, or None (pupil = eye centroid)
    mouth_outer: tuple[int, ...]
    mouth_inner: tuple[int, ...]
    mouth_corners: tuple[int, ...]  # outer and inner corners
    lower_lip: tuple[int, ...]  # points that move down when the mouth opens
    upper_lip_polygon: tuple[int, ...]
    lower_lip_polygon: tuple[int, ...]
    chin: int


LAYOUTS: dict[str, FaceLayout] = {
    "300w": FaceLayout(
        jaw=_r(0, 16),
        brows=(_r(17, 21), _r(22, 26)),
        brows_closed=False,
        nose_bridge=_r(27, 30),
        nose_base=_r(31, 35),
        eyes=(_r(36, 41), _r(42, 47)),
        eye_corners=((36, 39), (42, 45)),
        pupils=None,
        mouth_outer=_r(48, 59),
        mouth_inner=_r(60, 67),
        mouth_corners=(48, 54, 60, 64),
        lower_lip=_r(55, 59) + _r(65, 67),
        upper_lip_polygon=_r(48, 54) + (64, 63, 62, 61, 60),
        lower_lip_polygon=_r(54, 59) + (48, 60, 67, 66, 65, 64),
        chin=8,
    ),
    "wflw": FaceLayout(
        jaw=_r(0, 32),
        brows=(_r(33, 41), _r(42, 50)),
        brows_closed=True,
        nose_bridge=_r(51, 54),
        nose_base=_r(55, 59),
        eyes=(_r(60, 67), _r(68, 75)),
        eye_corners=((60, 64), (68, 72)),
        pupils=(96, 97),
        mouth_outer=_r(76, 87),
        mouth_inner=_r(88, 95),
        mouth_corners=(76, 82, 88, 92),
        lower_lip=_r(83, 87) + _r(93, 95),
        upper_lip_polygon=_r(76, 82) + (92, 91, 90, 89, 88),
        lower_lip_polygon=_r(82, 87) + (76, 88, 95, 94, 93, 92),
        chin=16,
    ),
}
