"""Each kind of corruption is caught, with one line naming the file and the record."""
from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.data.card import write_card
from harness.data.check import check_annotation_file, check_dataset
from harness.data.coco import make_annotation, make_image, write_annotation_file
from harness.data.errors import DataError


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    """Two 40x30 images, one 3-point face each."""
    for i in (1, 2):
        (tmp_path / "images").mkdir(exist_ok=True)
        cv2.imwrite(str(tmp_path / "images" / f"{i}.png"), np.zeros((30, 40, 3), np.uint8))
    pts = np.array([[5.0, 5.0], [20.0, 10.0], [30.0, 25.0]])
    write_annotation_file(
        tmp_path / "annotations" / "train.json",
        [make_image(i, f"{i}.png", 40, 30) for i in (1, 2)],
        [make_annotation(i, i, pts) for i in (1, 2)],
        num_keypoints=3,
    )
    card = {"name": "tiny", "kind": "synthetic", "scheme": "cofw", "num_keypoints": 3, "splits": {"train": 2},
            "seed": 0, "generator": "test", "generator_version": "0"}
    write_card(tmp_path, card, "tiny")
    return tmp_path


def _edit(root: Path, fn) -> Path:
    path = root / "annotations" / "train.json"
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))
    return path


def test_clean_set_passes_with_hand_counted_summary(tiny_set):
    s = check_annotation_file(tiny_set / "annotations" / "train.json", tiny_set / "images", 3)
    assert s == {"images": 2, "annotations": 2, "num_keypoints": 3, "occluded_fraction": 0.0}
    assert check_dataset(tiny_set)["splits"]["train"]["images"] == 2


def _set_kp(doc, i, value):
    doc["annotations"][1]["keypoints"][i] = value


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda d: _set_kp(d, 0, math.nan), r"annotation id 2 \(image id 2\): keypoint 0 is not finite"),
        (lambda d: _set_kp(d, 3, 400.0), r"annotation id 2 \(image id 2\): keypoint 1 \(400.0, 10.0\) is outside"),
        (lambda d: d["annotations"][1].__setitem__("keypoints", d["annotations"][1]["keypoints"][:6]),
         r"annotation id 2 \(image id 2\): has 2 keypoints, expected 3"),
        (lambda d: d["annotations"][1].__setitem__("id", 1), r"annotation id 1: duplicate annotation id"),
        (lambda d: d["images"][1].__setitem__("id", 1), r"image id 1: duplicate image id"),
        (lambda d: d["annotations"][1].__setitem__("image_id", 9),
         r"annotation id 2 \(image id 9\): refers to an image"),
        (lambda d: d["annotations"][1].__setitem__("scale", 0),
         r"annotation id 2 \(image id 2\): scale must be a positive number, got 0"),
        (lambda d: d["annotations"][1].__setitem__("bbox", [1, 1, 0, 5]), r"bbox must be \[x, y, w, h\] with w, h > 0"),
        (lambda d: d["annotations"][1].pop("center"), r"annotation id 2 \(image id 2\): missing 'center'"),
        (lambda d: _set_kp(d, 2, 7), r"visibility flags must be 0, 1 or 2"),
        (lambda d: d["images"][1].__setitem__("file_name", "nope.png"),
         r"image id 2: image file .*nope.png does not exist"),
        (lambda d: d["images"][1].__setitem__("width", 41),
         r"image id 2: image .*2.png is 40x30, the record says 41x30"),
        (lambda d: d.__setitem__("annotations", []), r"train.json: has no annotations"),
    ],
)
def test_each_corruption_is_named(tiny_set, corrupt, message):
    path = _edit(tiny_set, corrupt)
    with pytest.raises(DataError, match=message) as info:
        check_annotation_file(path, tiny_set / "images", 3)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unreadable_image_and_bad_json(tiny_set):
    (tiny_set / "images" / "2.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"image id 2: image file .* is not a readable image"):
        check_dataset(tiny_set)
    (tiny_set / "annotations" / "train.json").write_text("{")
    with pytest.raises(DataError, match=r"train.json: not valid JSON \(line 1"):
        check_dataset(tiny_set)


def test_card_mismatch(tiny_set):
    card = json.loads((tiny_set / "card.json").read_text())
    card["splits"] = {"train": 2, "test": 5}
    (tiny_set / "card.json").write_text(json.dumps(card))
    with pytest.raises(DataError, match=r"test.json: listed in card.json but missing"):
        check_dataset(tiny_set)
