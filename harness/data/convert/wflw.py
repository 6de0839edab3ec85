"""WFLW from its official release.

Reads ``list_98pt_rect_attr_{train,test}.txt`` (one face per line: 196 coordinates
x0 y0 ... x97 y97, the face rectangle x_min y_min x_max y_max, six 0/1 attribute flags in
the order pose, expression, illumination, make-up, occlusion, blur, and the image path
relative to ``WFLW_images/``). Coordinates are 0-based pixels, kept as they are. Writes
train, test and the six test subsets ``test_{attribute}``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.data.coco import WFLW_ATTRIBUTES
from harness.data.convert.common import BadRecords, Face, link_images, write_prepared
from harness.data.errors import DataError

__all__ = ["parse_wflw_list", "prepare_wflw"]

_FIELDS = 196 + 4 + 6 + 1


def parse_wflw_list(path: Path, bad: BadRecords) -> list[Face]:
    """Parse one list file into faces (N of them, K = 98)."""
    faces = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        rec = f"line {line_no}"
        if len(parts) != _FIELDS:
            bad(DataError(path, f"has {len(parts)} fields, expected {_FIELDS}", record=rec))
            continue
        try:
            nums = np.array(parts[:-1], dtype=np.float64)
        except ValueError:
            bad(DataError(path, "has a field that is not a number", record=rec))
            continue
        if not np.isfinite(nums).all():
            bad(DataError(path, "has a non-finite number", record=rec))
            continue
        x0, y0, x1, y1 = nums[196:200]
        if x1 <= x0 or y1 <= y0:
            bad(DataError(path, f"face rectangle {x0:g} {y0:g} {x1:g} {y1:g} is empty", record=rec))
            continue
        flags = nums[200:206].astype(int)
        if not np.isin(flags, (0, 1)).all():
            bad(DataError(path, "attribute flags must be 0 or 1", record=rec))
            continue
        faces.append(Face(
            file_name=parts[-1],
            points=nums[:196].reshape(98, 2),
            visible=np.ones(98, bool),  # WFLW marks occlusion per face (a flag), not per point
            bbox=(x0, y0, x1 - x0, y1 - y0),
            attributes=dict(zip(WFLW_ATTRIBUTES, (int(f) for f in flags), strict=True)),
        ))
    return faces


def _find(src: Path, pattern: str) -> Path:
    hits = sorted(src.rglob(pattern))
    if not hits:
        raise DataError(src, f"no {pattern} below this folder (is it the WFLW release?)")
    return hits[0]


def prepare_wflw(src: Path, out: Path, bad: BadRecords) -> Path:
    """Convert the release in ``src`` into a prepared set in ``out``."""
    train = parse_wflw_list(_find(src, "list_98pt_rect_attr_train.txt"), bad)
    test = parse_wflw_list(_find(src, "list_98pt_rect_attr_test.txt"), bad)
    images = next((p for p in sorted(src.rglob("WFLW_images")) if p.is_dir()), src)
    out.mkdir(parents=True, exist_ok=True)
    link_images(out, images)
    splits = {"train": train, "test": test}
    for att in WFLW_ATTRIBUTES:
        splits[f"test_{att}"] = [f for f in test if f.attributes and f.attributes[att]]
    return write_prepared(out, name="wflw", scheme="wflw", splits=splits, source=str(src), bad=bad)
