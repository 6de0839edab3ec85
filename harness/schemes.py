"""Landmark schemes of the face benchmarks and their NME normalisers.

Indices are 0-based and follow the official annotation order of each benchmark (the
same order MMPose's WFLW/300W/COFW dataset metainfo uses). method.md section 4 lists
the conventions; the published numbers are quoted there with their normaliser.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LandmarkScheme", "SCHEMES", "get_scheme"]


@dataclass(frozen=True)
class LandmarkScheme:
    """One benchmark's landmark layout.

    Attributes:
        name: "wflw", "300w" or "cofw".
        num_keypoints: K.
        outer_eye_corners: the (left, right) indices used for inter-ocular NME.
        pupils: two index groups whose centroids are the pupils (inter-pupil NME).
        mmpose_dataset: the MMPose dataset class that reads this scheme.
        fr_threshold: the FR/AUC cut-off most papers use for this benchmark.
    """

    name: str
    num_keypoints: int
    outer_eye_corners: tuple[int, int]
    pupils: tuple[tuple[int, ...], tuple[int, ...]]
    mmpose_dataset: str
    fr_threshold: float = 0.10


SCHEMES: dict[str, LandmarkScheme] = {
    "wflw": LandmarkScheme("wflw", 98, (60, 72), ((96,), (97,)), "WFLWDataset"),
    "300w": LandmarkScheme(
        "300w", 68, (36, 45), (tuple(range(36, 42)), tuple(range(42, 48))), "Face300WDataset"
    ),
    # COFW: 8/9 are the outer eye corners, 16/17 the pupils (STAR's default normaliser).
    "cofw": LandmarkScheme("cofw", 29, (8, 9), ((16,), (17,)), "COFWDataset"),
}

_BY_COUNT = {s.num_keypoints: s for s in SCHEMES.values()}


def get_scheme(name_or_count: str | int) -> LandmarkScheme:
    """Return a scheme by name ("wflw", "300w", "cofw") or by keypoint count (98, 68, 29)."""
    if isinstance(name_or_count, int) or str(name_or_count).isdigit():
        count = int(name_or_count)
        if count not in _BY_COUNT:
            raise ValueError(f"no landmark scheme has {count} points (known: 98, 68, 29)")
        return _BY_COUNT[count]
    key = str(name_or_count).lower()
    if key not in SCHEMES:
        raise ValueError(f"unknown landmark scheme {name_or_count!r} (known: {sorted(SCHEMES)})")
    return SCHEMES[key]
