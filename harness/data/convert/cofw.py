"""COFW from its official MATLAB v7.3 (HDF5) files.

``COFW_train_color.mat`` holds ``IsTr`` (a cell array of images), ``phisTr`` (N x 87:
29 x, 29 y, 29 occlusion flags, 1 = occluded) and ``bboxesTr`` (N x 4: x, y, w, h);
``COFW_test_color.mat`` the same with ``IsT``, ``phisT``, ``bboxesT``. MATLAB writes
arrays column-major, so h5py sees them transposed: (87, N), (4, N) and each H x W (x 3)
image as (W, H) or (3, W, H); both orientations are accepted. MATLAB coordinates are
1-based; 1 is subtracted. Images are written out as PNG files (the .mat holds pixels).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import h5py
import numpy as np

from harness.data.convert.common import BadRecords, Face, write_prepared
from harness.data.errors import DataError

__all__ = ["read_cofw_mat", "prepare_cofw"]

_KEYS = {"train": ("IsTr", "phisTr", "bboxesTr"), "test": ("IsT", "phisT", "bboxesT")}
_FILES = {"train": "COFW_train_color.mat", "test": "COFW_test_color.mat"}


def _rows(arr: np.ndarray, width: int, path: Path, key: str) -> np.ndarray:
    """(N, width) from a MATLAB matrix stored either way round."""
    if arr.ndim == 2 and arr.shape[1] == width:
        return arr
    if arr.ndim == 2 and arr.shape[0] == width:
        return arr.T
    raise DataError(path, f"{key} has shape {arr.shape}, expected N x {width}")


def _image(f: h5py.File, ref: h5py.Reference, path: Path, rec: str) -> np.ndarray:
    """An image from a cell reference, as an (H, W, 3) uint8 BGR array."""
    data = np.asarray(f[ref])
    if data.ndim == 2:  # greyscale, stored (W, H)
        img = data.T
        return cv2.cvtColor(np.ascontiguousarray(img.astype(np.uint8)), cv2.COLOR_GRAY2BGR)
    if data.ndim == 3 and data.shape[0] == 3:  # colour, stored (3, W, H) in RGB
        img = np.transpose(data, (2, 1, 0))
        return cv2.cvtColor(np.ascontiguousarray(img.astype(np.uint8)), cv2.COLOR_RGB2BGR)
    raise DataError(path, f"image has shape {data.shape}, expected (W, H) or (3, W, H)", record=rec)


def read_cofw_mat(path: Path, split: str, image_dir: Path, bad: BadRecords) -> list[Face]:
    """Read one .mat file, write its images to ``image_dir/split/``; returns the faces."""
    img_key, phis_key, box_key = _KEYS[split]
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise DataError(path, "not a MATLAB v7.3 (HDF5) file") from None
    faces = []
    with f:
        for key in _KEYS[split]:
            if key not in f:
                raise DataError(path, f"has no {key!r} variable (found: {', '.join(sorted(f.keys()))})")
        phis = _rows(np.asarray(f[phis_key], dtype=np.float64), 87, path, phis_key)
        boxes = _rows(np.asarray(f[box_key], dtype=np.float64), 4, path, box_key)
        refs = np.asarray(f[img_key]).reshape(-1)
        if not len(refs) == len(phis) == len(boxes):
            raise DataError(path, f"{img_key}, {phis_key}, {box_key} have "
                                  f"{len(refs)}, {len(phis)}, {len(boxes)} entries")
        (image_dir / split).mkdir(parents=True, exist_ok=True)
        for i in range(len(phis)):
            rec = f"{phis_key} row {i + 1}"
            pts = np.stack([phis[i, :29], phis[i, 29:58]], axis=1) - 1.0
            occ = phis[i, 58:87]
            if not (np.isfinite(pts).all() and np.isfinite(boxes[i]).all()):
                bad(DataError(path, "has a non-finite coordinate or box value", record=rec))
                continue
            if not np.isin(occ, (0, 1)).all():
                bad(DataError(path, "occlusion flags must be 0 or 1", record=rec))
                continue
            if boxes[i, 2] <= 0 or boxes[i, 3] <= 0:
                bad(DataError(path, f"box {boxes[i].tolist()} has no area", record=rec))
                continue
            img = _image(f, refs[i], path, rec)
            name = f"{split}/{i + 1:06d}.png"
            cv2.imwrite(str(image_dir / name), img)
            x, y, w, h = boxes[i]
            faces.append(Face(name, pts, occ == 0, (x - 1.0, y - 1.0, w, h), width=img.shape[1], height=img.shape[0]))
    return faces


def prepare_cofw(src: Path, out: Path, bad: BadRecords) -> Path:
    """Convert ``src/COFW_{train,test}_color.mat`` into a prepared set in ``out``."""
    image_dir = out / "images"
    if image_dir.is_symlink():
        raise DataError(image_dir, "is a link; choose a new --out for COFW")
    splits = {}
    for split, fname in _FILES.items():
        hits = sorted(src.rglob(fname))
        if not hits:
            raise DataError(src, f"no {fname} below this folder")
        splits[split] = read_cofw_mat(hits[0], split, image_dir, bad)
    return write_prepared(out, name="cofw", scheme="cofw", splits=splits, source=str(src), bad=bad)
