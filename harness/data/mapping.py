"""Landmark-scheme mappings that live in the data layer: WFLW's 98 points to COFW's 29 and 300W's 68.

COFW (Burgos-Artizzu et al., ICCV 2013) uses the 29-point LFPW subset. Its order, as
MMPose's ``cofw.py`` flip pairs and the normaliser indices (8/9 outer eye corners, 16/17
pupils) imply, with even indices of a pair on the image-left side:

    0/1 brow outer corners     2/3 brow inner corners    4/6 brow top middles
    5/7 brow bottom middles    8/9 outer eye corners     10/11 inner eye corners
    12/14 upper-lid middles    13/15 lower-lid middles   16/17 pupils
    18/19 nose wings           20 nose tip               21 nose bottom (subnasale)
    22/23 mouth corners        24 upper-lip top          25 upper-lip bottom (inner)
    26 lower-lip top (inner)   27 lower-lip bottom       28 chin

Unverified: the COFW release documents no names; the brow points 4-7 (top vs bottom
middle) and which side is "left" follow the LFPW figure, not a check against COFW files.
Each COFW point is the mean of the listed WFLW points.
"""
from __future__ import annotations

import numpy as np

__all__ = ["WFLW_TO_COFW", "WFLW_TO_300W", "SCHEME_MAPS", "wflw_to_cofw", "map_points"]

WFLW_TO_COFW: tuple[tuple[int, ...], ...] = (
    (33,), (46,),          # 0, 1 brow outer corners
    (37, 38), (42, 50),    # 2, 3 brow inner corners
    (35,), (40,),          # 4, 5 image-left brow: top middle, bottom middle
    (44,), (48,),          # 6, 7 image-right brow: top middle, bottom middle
    (60,), (72,),          # 8, 9 outer eye corners
    (64,), (68,),          # 10, 11 inner eye corners
    (62,), (66,),          # 12, 13 image-left eye: upper lid, lower lid
    (70,), (74,),          # 14, 15 image-right eye: upper lid, lower lid
    (96,), (97,),          # 16, 17 pupils
    (55,), (59,),          # 18, 19 nose wings
    (54,), (57,),          # 20 nose tip, 21 subnasale
    (76,), (82,),          # 22, 23 mouth corners
    (79,), (90,),          # 24 upper-lip top, 25 upper-lip bottom
    (94,), (85,),          # 26 lower-lip top, 27 lower-lip bottom
    (16,),                 # 28 chin
)


def wflw_to_cofw(points: np.ndarray) -> np.ndarray:
    """Map (..., 98, D) WFLW points to (..., 29, D) COFW points."""
    return map_points(points, "wflw", "cofw")


# WFLW 98 -> 300W 68, the correspondence WFLW's authors give (Wu et al., CVPR 2018): every
# other jaw point, the upper brow contours, the whole nose, six of the eight points per
# eye (corners and the two on each lid nearest them), the whole mouth. Unverified against
# a 300W-annotated WFLW image, like the COFW table above.
WFLW_TO_300W: tuple[tuple[int, ...], ...] = (
    *((i,) for i in range(0, 33, 2)),                 # 0-16 jaw
    *((i,) for i in range(33, 38)),                   # 17-21 image-left brow, upper contour
    *((i,) for i in range(42, 47)),                   # 22-26 image-right brow, upper contour
    *((i,) for i in range(51, 60)),                   # 27-35 nose bridge and base
    (60,), (61,), (63,), (64,), (65,), (67,),         # 36-41 image-left eye
    (68,), (69,), (71,), (72,), (73,), (75,),         # 42-47 image-right eye
    *((i,) for i in range(76, 96)),                   # 48-67 mouth
)

# (model scheme, data scheme) -> the table; a pair absent here has no mapping.
SCHEME_MAPS: dict[tuple[str, str], tuple[tuple[int, ...], ...]] = {
    ("wflw", "cofw"): WFLW_TO_COFW,
    ("wflw", "300w"): WFLW_TO_300W,
}


def map_points(points: np.ndarray, source: str, target: str) -> np.ndarray:
    """Map (..., K_source, D) points of scheme ``source`` to (..., K_target, D) of ``target``.

    Raises:
        KeyError: no mapping from ``source`` to ``target`` (the same scheme maps to itself).
    """
    points = np.asarray(points)
    if source == target:
        return points
    table = SCHEME_MAPS[(source, target)]
    return np.stack([points[..., list(idx), :].mean(axis=-2) for idx in table], axis=-2)
