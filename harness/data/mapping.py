"""Landmark-scheme mappings that live in the data layer: WFLW's 98 points to COFW's 29.

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

__all__ = ["WFLW_TO_COFW", "wflw_to_cofw"]

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
    points = np.asarray(points)
    return np.stack([points[..., list(idx), :].mean(axis=-2) for idx in WFLW_TO_COFW], axis=-2)
