"""300W from its official release: ``.pts`` files beside the images.

Folders (names matched case-insensitively): ``afw``, ``helen/trainset``,
``helen/testset``, ``lfpw/trainset``, ``lfpw/testset``, ``ibug``. ``.pts`` coordinates
are 1-based (the iBUG convention), so 1 is subtracted. Standard splits: train = afw +
helen train + lfpw train (3,148), test_common = helen test + lfpw test (554),
test_challenge = ibug (135), test_full = common + challenge (689). No official boxes
are read: the box is the landmarks' tight box.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.data.convert.common import BadRecords, Face, link_images, write_prepared
from harness.data.errors import DataError

__all__ = ["read_pts", "prepare_300w"]

_IMAGE_SUFFIXES = (".jpg", ".png", ".jpeg")


def read_pts(path: Path) -> np.ndarray:
    """(K, 2) points of an iBUG ``.pts`` file, converted to 0-based."""
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    try:
        n = int(next(ln for ln in lines if ln.startswith("n_points")).split(":")[1])
        body = lines[lines.index("{") + 1: lines.index("}")]
        pts = np.array([[float(v) for v in ln.split()] for ln in body], dtype=np.float64)
    except (StopIteration, ValueError, IndexError):
        raise DataError(path, "not an iBUG .pts file (header 'n_points:', points between { and })") from None
    if pts.shape != (n, 2):
        raise DataError(path, f"n_points says {n}, found {len(pts)} points")
    if not np.isfinite(pts).all():
        raise DataError(path, "has a non-finite coordinate")
    return pts - 1.0


def _subset(src: Path, parts: tuple[str, ...]) -> list[Path]:
    """The .pts files under the folder ``src/parts`` (case-insensitive), sorted."""
    hits = []
    for p in sorted(src.rglob("*.pts")):
        rel = [s.lower() for s in p.relative_to(src).parts[:-1]]
        if any(tuple(rel[i:i + len(parts)]) == parts for i in range(len(rel))):
            hits.append(p)
    return hits


def _faces(src: Path, pts_files: list[Path], bad: BadRecords) -> list[Face]:
    faces = []
    for pts_file in pts_files:
        try:
            pts = read_pts(pts_file)
        except DataError as exc:
            bad(exc)
            continue
        if len(pts) != 68:
            bad(DataError(pts_file, f"has {len(pts)} points, 300W has 68"))
            continue
        image = next((pts_file.with_suffix(s) for s in _IMAGE_SUFFIXES if pts_file.with_suffix(s).exists()), None)
        if image is None:
            bad(DataError(pts_file, "no image beside it (.jpg or .png with the same name)"))
            continue
        faces.append(Face(image.relative_to(src).as_posix(), pts, np.ones(68, bool)))
    return faces


def prepare_300w(src: Path, out: Path, bad: BadRecords) -> Path:
    """Convert the release in ``src`` into a prepared set in ``out``."""
    groups: dict[str, list[tuple[str, ...]]] = {
        "train": [("afw",), ("helen", "trainset"), ("lfpw", "trainset")],
        "test_common": [("helen", "testset"), ("lfpw", "testset")],
        "test_challenge": [("ibug",)],
    }
    splits: dict[str, list[Face]] = {}
    for split, folders in groups.items():
        files = [f for parts in folders for f in _subset(src, parts)]
        if not files:
            raise DataError(src, f"no .pts files for {split} (looked in {', '.join('/'.join(p) for p in folders)})")
        splits[split] = _faces(src, files, bad)
    splits["test_full"] = splits["test_common"] + splits["test_challenge"]
    out.mkdir(parents=True, exist_ok=True)
    link_images(out, src)
    return write_prepared(out, name="300w", scheme="300w", splits=splits, source=str(src), bad=bad)
