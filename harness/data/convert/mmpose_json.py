"""MMPose's own released annotation files, accepted as they are.

``--src`` is MMPose's data root for the set (``annotations/`` and ``images/``). The JSON
files are copied unchanged under this project's split names; images are linked.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from harness.data.card import write_card
from harness.data.check import check_annotation_file
from harness.data.convert.common import CONVERTER_VERSION, link_images
from harness.data.errors import DataError
from harness.schemes import get_scheme

__all__ = ["MMPOSE_FILES", "looks_like_mmpose", "prepare_mmpose_json"]

# MMPose file name -> this project's split name
MMPOSE_FILES = {
    "wflw": {"face_landmarks_wflw_train.json": "train", "face_landmarks_wflw_test.json": "test",
             **{f"face_landmarks_wflw_test_{m}.json": f"test_{a}" for m, a in (
                 ("largepose", "pose"), ("expression", "expression"), ("illumination", "illumination"),
                 ("makeup", "makeup"), ("occlusion", "occlusion"), ("blur", "blur"))}},
    "300w": {"face_landmarks_300w_train.json": "train", "face_landmarks_300w_valid_common.json": "test_common",
             "face_landmarks_300w_valid_challenge.json": "test_challenge",
             "face_landmarks_300w_valid.json": "test_full"},
    "cofw": {"cofw_train.json": "train", "cofw_test.json": "test"},
}


def looks_like_mmpose(name: str, src: Path) -> bool:
    return any(src.rglob(next(iter(MMPOSE_FILES[name]))))


def prepare_mmpose_json(name: str, src: Path, out: Path) -> Path:
    """Copy MMPose's JSON files of ``name`` from ``src`` into ``out`` and check them."""
    sch = get_scheme(name)
    images = src / "images"
    if not images.is_dir():
        raise DataError(src, "has MMPose annotation files but no images/ folder beside annotations/")
    out.mkdir(parents=True, exist_ok=True)
    link_images(out, images)
    counts = {}
    for fname, split in MMPOSE_FILES[name].items():
        hits = sorted(src.rglob(fname))
        if not hits:
            continue
        dest = out / "annotations" / f"{split}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(hits[0], dest)
        counts[split] = check_annotation_file(dest, out / "images", sch.num_keypoints, decode_images=False)["images"]
    card = {"name": name, "kind": "real", "scheme": sch.name, "num_keypoints": sch.num_keypoints,
            "splits": counts, "seed": None, "generator": "harness.data.convert.mmpose_json",
            "generator_version": CONVERTER_VERSION, "source": str(src)}
    write_card(out, card, f"The {name.upper()} benchmark from MMPose's released annotation files in {src}.")
    return out
