"""MMPose's COCO-style face annotation files: build, write and read them.

The fields are exactly what MMPose 1.3's face datasets parse (``Face300WDataset``,
``WFLWDataset``, ``COFWDataset``: ``parse_data_info`` reads ``center``, ``scale``,
``keypoints``, ``num_keypoints``, ``iscrowd``, ``image_id``, ``id``): ``scale`` is the
face box side divided by ``PIXEL_STD`` = 200, the convention of those classes, which
multiply it back. ``bbox`` (x, y, w, h), ``area`` and ``category_id`` are written too so
the file is also a valid COCO file for ``xtcocotools`` and generic tools.

Keypoint visibility follows COCO: 2 = visible, 1 = annotated but occluded (MMPose turns
both into weight 1, so occluded points are still trained and evaluated, as in the
benchmarks), 0 = not annotated.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "PIXEL_STD",
    "WFLW_ATTRIBUTES",
    "bbox_from_points",
    "make_annotation",
    "make_image",
    "write_annotation_file",
    "read_annotation_file",
    "keypoints_of",
]

PIXEL_STD = 200.0
WFLW_ATTRIBUTES = ("pose", "expression", "illumination", "makeup", "occlusion", "blur")
_DECIMALS = 3  # sub-pixel labels to 1/1000 px: exact enough, and the JSON stays byte-stable


def bbox_from_points(points: np.ndarray) -> tuple[float, float, float, float]:
    """Tight (x, y, w, h) box of ``points`` (K, 2)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])


def _r(x: float) -> float:
    return round(float(x), _DECIMALS)


def make_image(image_id: int, file_name: str, width: int, height: int) -> dict[str, Any]:
    """One ``images`` entry; ``file_name`` is relative to the set's ``images/`` folder."""
    return {"id": int(image_id), "file_name": file_name, "width": int(width), "height": int(height)}


def make_annotation(
    ann_id: int,
    image_id: int,
    points: np.ndarray,
    visible: np.ndarray | None = None,
    bbox: Sequence[float] | None = None,
    attributes: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """One face annotation.

    Args:
        ann_id, image_id: COCO ids (unique per file).
        points: (K, 2) pixel coordinates, 0-based, x right, y down.
        visible: (K,) bool; False marks an occluded point (written as v=1). Default all True.
        bbox: the face box (x, y, w, h); default the tight box of ``points``. ``center`` and
            ``scale`` (= max(w, h) / 200) come from it.
        attributes: WFLW's six 0/1 flags, stored under ``"attributes"``.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    vis = np.ones(len(points), bool) if visible is None else np.asarray(visible, bool)
    x, y, w, h = bbox_from_points(points) if bbox is None else (float(v) for v in bbox)
    kps: list[float] = []
    for (px, py), v in zip(points, vis, strict=False):
        kps += [_r(px), _r(py), 2 if v else 1]
    ann: dict[str, Any] = {
        "id": int(ann_id),
        "image_id": int(image_id),
        "category_id": 1,
        "iscrowd": 0,
        "bbox": [_r(x), _r(y), _r(w), _r(h)],
        "area": _r(w * h),
        "center": [_r(x + w / 2), _r(y + h / 2)],
        "scale": round(max(w, h) / PIXEL_STD, 6),
        "num_keypoints": len(points),
        "keypoints": kps,
    }
    if attributes is not None:
        ann["attributes"] = {k: int(attributes[k]) for k in WFLW_ATTRIBUTES}
    return ann


def write_annotation_file(
    path: str | Path,
    images: Iterable[dict[str, Any]],
    annotations: Iterable[dict[str, Any]],
    num_keypoints: int,
    info: Mapping[str, Any] | None = None,
) -> Path:
    """Write a COCO file; byte-identical for identical input (sorted keys, fixed rounding)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "info": dict(info or {}),
        "categories": [
            {
                "id": 1,
                "name": "face",
                "supercategory": "face",
                "keypoints": [f"kpt-{i}" for i in range(num_keypoints)],
                "skeleton": [],
            }
        ],
        "images": list(images),
        "annotations": list(annotations),
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
    tmp.replace(path)  # never leave a half-written file a later check would trust
    return path


def read_annotation_file(path: str | Path) -> dict[str, Any]:
    """Load a COCO file as a dict (no validation: see :mod:`harness.data.check`)."""
    with open(path) as f:
        doc: dict[str, Any] = json.load(f)
    return doc


def keypoints_of(ann: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) float points and (K,) int visibility flags of one annotation."""
    kp = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
    return kp[:, :2], kp[:, 2].astype(int)
