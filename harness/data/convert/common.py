"""What every converter shares: a parsed face, bad-record policy, writing a prepared set.

A converter parses the official files into :class:`Face` records per split and hands
them to :func:`write_prepared`, which writes ``annotations/{split}.json``, links the
source images under ``images/`` (no copy of a 10,000-image folder) and writes the card.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from harness.data.card import write_card
from harness.data.coco import make_annotation, make_image, write_annotation_file
from harness.data.errors import DataError
from harness.schemes import get_scheme

__all__ = ["Face", "BadRecords", "write_prepared", "link_images", "CONVERTER_VERSION"]

log = logging.getLogger(__name__)
CONVERTER_VERSION = "1"


@dataclass
class Face:
    """One annotated face.

    Attributes:
        file_name: image path relative to the set's ``images/`` folder.
        points: (K, 2) 0-based pixel coordinates.
        visible: (K,) bool, False for occluded points.
        bbox: official (x, y, w, h) face box, or None to use the landmarks' box.
        attributes: WFLW's six flags, or None.
        width, height: image size when already known (else read from the file).
    """

    file_name: str
    points: np.ndarray
    visible: np.ndarray
    bbox: tuple[float, float, float, float] | None = None
    attributes: dict[str, int] | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class BadRecords:
    """Raise at the first bad record, or, with ``skip``, count and log it."""

    skip: bool = False
    skipped: list[str] = field(default_factory=list)

    def __call__(self, error: DataError) -> None:
        if not self.skip:
            raise error
        log.warning("skipped: %s", error)
        self.skipped.append(str(error))


def link_images(out: Path, images_root: Path) -> None:
    """Make ``out/images`` point at ``images_root`` (a symlink, replaced if it exists)."""
    target = out / "images"
    if target.is_symlink():
        target.unlink()
    elif target.exists():
        raise DataError(target, "exists and is not a link made by `harness data prepare`; choose another --out")
    os.symlink(images_root.resolve(), target, target_is_directory=True)


def _image_size(path: Path) -> tuple[int, int] | None:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return None if img is None else (img.shape[1], img.shape[0])


def write_prepared(
    out: Path,
    *,
    name: str,
    scheme: str,
    splits: Mapping[str, list[Face]],
    source: str,
    bad: BadRecords,
) -> Path:
    """Write a prepared real set; images must already be under ``out/images``."""
    sch = get_scheme(scheme)
    sizes: dict[str, tuple[int, int] | None] = {}
    counts = {}
    for split, faces in splits.items():
        images: list[dict[str, Any]] = []
        anns: list[dict[str, Any]] = []
        img_ids: dict[str, int] = {}
        for face in faces:
            if face.file_name not in sizes:
                sizes[face.file_name] = ((face.width, face.height) if face.width and face.height is not None
                                         else _image_size(out / "images" / face.file_name))
            size = sizes[face.file_name]
            if size is None:
                bad(DataError(out / "images" / face.file_name, "missing or unreadable image", record=split))
                continue
            if face.file_name not in img_ids:
                img_ids[face.file_name] = len(img_ids) + 1
                images.append(make_image(img_ids[face.file_name], face.file_name, *size))
            anns.append(make_annotation(len(anns) + 1, img_ids[face.file_name], face.points, face.visible,
                                        face.bbox, face.attributes))
        if not anns:
            raise DataError(out / "annotations" / f"{split}.json", "no usable record in this split")
        write_annotation_file(out / "annotations" / f"{split}.json", images, anns, sch.num_keypoints,
                              info={"description": f"{name} {split}, converted from {source}"})
        counts[split] = len(images)
    card = {
        "name": name,
        "kind": "real",
        "scheme": sch.name,
        "num_keypoints": sch.num_keypoints,
        "splits": counts,
        "faces": {s: len(f) for s, f in splits.items()},
        "seed": None,
        "generator": f"harness.data.convert.{name}",
        "generator_version": CONVERTER_VERSION,
        "source": source,
        "skipped_records": len(bad.skipped),
    }
    write_card(out, card, f"The {name.upper()} benchmark, converted by `harness data prepare {name}` from {source}.")
    return out
