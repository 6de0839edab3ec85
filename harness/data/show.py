"""A picture of a set: a grid of samples with their landmarks drawn on top."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from harness.data.coco import keypoints_of, read_annotation_file
from harness.data.errors import DataError

__all__ = ["show_grid"]


def show_grid(data_dir: str | Path, out: str | Path, *, split: str | None = None, n: int = 16,
              tile: int = 160, seed: int = 0) -> Path:
    """Draw ``n`` random faces of ``split`` (default: the first split) into ``out`` (PNG).

    Each tile is the face crop (the annotation's box, padded 25%) resized to ``tile``
    pixels; green dots are visible landmarks, red ones occluded.
    """
    data_dir = Path(data_dir)
    files = sorted((data_dir / "annotations").glob("*.json"))
    if split is not None:
        files = [f for f in files if f.stem == split]
    if not files:
        raise DataError(data_dir / "annotations", f"no annotation file{' for split ' + split if split else ''}")
    doc = read_annotation_file(files[0])
    images = {img["id"]: img for img in doc["images"]}
    anns = doc["annotations"]
    pick = np.random.default_rng(seed).choice(len(anns), size=min(n, len(anns)), replace=False)
    tiles = []
    for i in sorted(pick):
        ann = anns[i]
        path = data_dir / "images" / images[ann["image_id"]]["file_name"]
        img = cv2.imread(str(path))
        if img is None:
            raise DataError(path, "unreadable image", record=f"annotation id {ann['id']}")
        pts, flags = keypoints_of(ann)
        cx, cy = ann["center"]
        half = ann["scale"] * 200 * 1.25 / 2
        # crop = affine map of the padded box onto the tile
        s = tile / (2 * half)
        m = np.array([[s, 0, tile / 2 - s * cx], [0, s, tile / 2 - s * cy]])
        crop = cv2.warpAffine(img, m, (tile, tile), borderValue=(0, 0, 0))
        q = pts * s + m[:, 2]
        for (x, y), v in zip(q, flags, strict=True):
            cv2.circle(crop, (int(round(x * 4)), int(round(y * 4))), 8, (0, 255, 0) if v == 2 else (0, 0, 255),
                       -1, cv2.LINE_AA, 2)
        tiles.append(crop)
    cols = int(np.ceil(np.sqrt(len(tiles))))
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    grid = np.vstack([np.hstack(tiles[r:r + cols]) for r in range(0, len(tiles), cols)])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), grid):
        raise DataError(out, "cannot write the picture (use a .png or .jpg name)")
    return out
