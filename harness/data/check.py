"""Validate a prepared or synthetic set before anything trains on it.

``check_annotation_file`` stops at the first bad record with a one-line
:class:`~harness.data.errors.DataError` naming the file and the record; the training
command calls it before building a Runner, so a broken set fails in a second, not after
an epoch. ``check_dataset`` checks every ``annotations/*.json`` of a set against its card.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from harness.data.card import REQUIRED_KEYS, read_card
from harness.data.coco import WFLW_ATTRIBUTES
from harness.data.errors import DataError

__all__ = ["check_annotation_file", "check_dataset"]

# A few real faces (300W's ibug, WFLW's large poses) have chin or jaw points just
# outside the frame; allow that much, in image widths/heights, and no more.
OUTSIDE_TOLERANCE = 0.05


def _load(ann_file: Path) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = json.loads(ann_file.read_text())
    except OSError as exc:
        raise DataError(ann_file, f"cannot read the annotation file ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise DataError(ann_file, f"not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    for key in ("images", "annotations"):
        if not isinstance(doc.get(key), list):
            raise DataError(ann_file, f"no {key!r} list: not a COCO-style annotation file")
    if not doc["annotations"]:
        raise DataError(ann_file, "has no annotations")
    return doc


def _check_image(ann_file: Path, img_dir: Path, img: dict[str, Any], decode: bool) -> None:
    rec = f"image id {img.get('id')}"
    for key in ("id", "file_name", "width", "height"):
        if key not in img:
            raise DataError(ann_file, f"missing {key!r}", record=rec)
    path = img_dir / img["file_name"]
    if not path.is_file():
        raise DataError(ann_file, f"image file {path} does not exist", record=rec)
    if decode:
        data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if data is None:
            raise DataError(ann_file, f"image file {path} is not a readable image", record=rec)
        if data.shape[:2] != (img["height"], img["width"]):
            raise DataError(ann_file, f"image {path} is {data.shape[1]}x{data.shape[0]}, the record says "
                            f"{img['width']}x{img['height']}", record=rec)


def _check_annotation(ann_file: Path, ann: dict[str, Any], img: dict[str, Any], k_expected: int | None) -> int:
    """Check one record; returns its number of keypoints."""
    rec = f"annotation id {ann.get('id')} (image id {ann.get('image_id')})"
    for key in ("id", "image_id", "keypoints", "center", "scale", "num_keypoints"):
        if key not in ann:
            raise DataError(ann_file, f"missing {key!r} (MMPose's face datasets need it)", record=rec)
    kp = ann["keypoints"]
    if not isinstance(kp, list) or len(kp) == 0 or len(kp) % 3:
        raise DataError(ann_file, "keypoints must be a flat list of x, y, v triples", record=rec)
    k = len(kp) // 3
    if k_expected is not None and k != k_expected:
        raise DataError(ann_file, f"has {k} keypoints, expected {k_expected}", record=rec)
    try:
        arr = np.asarray(kp, dtype=np.float64).reshape(k, 3)
    except (TypeError, ValueError):
        raise DataError(ann_file, "keypoints are not all numbers", record=rec) from None
    if not np.isfinite(arr).all():
        bad = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise DataError(ann_file, f"keypoint {bad} is not finite", record=rec)
    if not np.isin(arr[:, 2], (0, 1, 2)).all():
        raise DataError(ann_file, "visibility flags must be 0, 1 or 2", record=rec)
    w, h = img["width"], img["height"]
    lo = -OUTSIDE_TOLERANCE * np.array([w, h])
    hi = (1 + OUTSIDE_TOLERANCE) * np.array([w, h])
    labelled = arr[:, 2] > 0
    outside = labelled & ((arr[:, :2] < lo) | (arr[:, :2] > hi)).any(axis=1)
    if outside.any():
        i = int(np.argmax(outside))
        raise DataError(ann_file, f"keypoint {i} ({arr[i, 0]:.1f}, {arr[i, 1]:.1f}) is outside the "
                        f"{w}x{h} image", record=rec)
    if int(ann["num_keypoints"]) != int(labelled.sum()) and int(ann["num_keypoints"]) != k:
        raise DataError(ann_file, f"num_keypoints {ann['num_keypoints']} does not match the {k} keypoints",
                        record=rec)
    scale = ann["scale"]
    if not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise DataError(ann_file, f"scale must be a positive number, got {scale!r}", record=rec)
    c = ann["center"]
    if not (isinstance(c, list) and len(c) == 2 and all(isinstance(v, (int, float)) and math.isfinite(v) for v in c)):
        raise DataError(ann_file, f"center must be [x, y], got {c!r}", record=rec)
    if "bbox" in ann:
        b = ann["bbox"]
        if not (isinstance(b, list) and len(b) == 4) or not (b[2] > 0 and b[3] > 0):
            raise DataError(ann_file, f"bbox must be [x, y, w, h] with w, h > 0, got {b!r}", record=rec)
    if "attributes" in ann:
        att = ann["attributes"]
        if set(att) != set(WFLW_ATTRIBUTES) or any(att[a] not in (0, 1) for a in WFLW_ATTRIBUTES):
            raise DataError(ann_file, f"attributes must be the six WFLW flags as 0/1, got {att!r}", record=rec)
    return k


def check_annotation_file(
    ann_file: str | Path,
    img_dir: str | Path,
    expected_keypoints: int | None = None,
    *,
    decode_images: bool = True,
) -> dict[str, Any]:
    """Validate one COCO-style face annotation file and its images.

    Checks: readable JSON with images and annotations; unique image and annotation ids;
    every annotation points at a listed image; images exist, decode and have the listed
    size; keypoints are (K, 3) finite numbers with flags 0/1/2, K the same in every record
    (and equal to ``expected_keypoints``), inside the image; valid center, scale and box.

    Returns:
        {"images": N, "annotations": M, "num_keypoints": K, "occluded_fraction": f}
    Raises:
        DataError: at the first bad record, naming the file and the record.
    """
    ann_file, img_dir = Path(ann_file), Path(img_dir)
    doc = _load(ann_file)
    images: dict[Any, dict[str, Any]] = {}
    for img in doc["images"]:
        if img.get("id") in images:
            raise DataError(ann_file, "duplicate image id", record=f"image id {img.get('id')}")
        _check_image(ann_file, img_dir, img, decode_images)
        images[img["id"]] = img
    seen: set[Any] = set()
    k_file = expected_keypoints
    occluded = labelled = 0
    for ann in doc["annotations"]:
        if ann.get("id") in seen:
            raise DataError(ann_file, "duplicate annotation id", record=f"annotation id {ann.get('id')}")
        seen.add(ann.get("id"))
        if ann.get("image_id") not in images:
            raise DataError(ann_file, "refers to an image id that is not listed",
                            record=f"annotation id {ann.get('id')} (image id {ann.get('image_id')})")
        k_file = _check_annotation(ann_file, ann, images[ann["image_id"]], k_file)
        flags = np.asarray(ann["keypoints"][2::3])
        occluded += int((flags == 1).sum())
        labelled += int((flags > 0).sum())
    return {
        "images": len(images),
        "annotations": len(doc["annotations"]),
        "num_keypoints": k_file,
        "occluded_fraction": occluded / max(labelled, 1),
    }


def check_dataset(data_dir: str | Path, *, decode_images: bool = True) -> dict[str, Any]:
    """Check every ``annotations/*.json`` of a set against its ``card.json``.

    Returns:
        {"dir", "name", "kind", "scheme", "num_keypoints", "splits": {split: file summary}}
    """
    data_dir = Path(data_dir)
    ann_dir = data_dir / "annotations"
    files = sorted(ann_dir.glob("*.json"))
    if not files:
        raise DataError(ann_dir, "no annotation files (expected annotations/{split}.json)")
    card = read_card(data_dir)
    if card is None:
        raise DataError(data_dir / "card.json", "missing or unreadable data-set card")
    missing = [k for k in REQUIRED_KEYS if k not in card]
    if missing:
        raise DataError(data_dir / "card.json", f"lacks {', '.join(missing)}")
    k = int(card["num_keypoints"])
    splits = {f.stem: check_annotation_file(f, data_dir / "images", k, decode_images=decode_images) for f in files}
    for split, count in card["splits"].items():
        if split not in splits:
            raise DataError(ann_dir / f"{split}.json", "listed in card.json but missing")
        if splits[split]["images"] != count:
            raise DataError(ann_dir / f"{split}.json", f"has {splits[split]['images']} images, card.json says {count}")
    return {"dir": str(data_dir), **{key: card[key] for key in ("name", "kind", "scheme", "num_keypoints")},
            "splits": splits}
