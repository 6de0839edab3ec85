"""Each official format: a tiny fixture written here, converted, loaded by MMPose's
dataset class, and compared coordinate by coordinate with the values written."""
from __future__ import annotations

from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest

from harness.data.check import check_dataset
from harness.data.convert import prepare
from harness.data.errors import DataError


def _image(path: Path, w: int = 80, h: int = 60) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 127, np.uint8))


def _mmpose_points(cls_name: str, root: Path, split: str) -> list[np.ndarray]:
    from mmpose.datasets import COFWDataset, Face300WDataset, WFLWDataset

    cls = {"wflw": WFLWDataset, "300w": Face300WDataset, "cofw": COFWDataset}[cls_name]
    ds = cls(data_root=str(root), ann_file=f"annotations/{split}.json", data_prefix=dict(img="images/"),
             test_mode=True)
    return [ds.get_data_info(i) for i in range(len(ds))]


# ---------------------------------------------------------------- WFLW
def _wflw_line(k: int, flags: list[int], name: str) -> tuple[str, np.ndarray]:
    pts = np.stack([10 + (np.arange(98) % 50) + 0.25 * k, 5 + np.arange(98) * 0.5], axis=1)
    fields = [f"{v:.3f}" for v in pts.reshape(-1)] + ["9", "4", "62", "55"] + [str(f) for f in flags] + [name]
    return " ".join(fields), pts


def _wflw_release(src: Path) -> dict[str, np.ndarray]:
    lists = src / "WFLW_annotations" / "list_98pt_rect_attr_train_test"
    lists.mkdir(parents=True)
    expected = {}
    for split, rows in (("train", [[0] * 6, [0] * 6]), ("test", [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]])):
        lines = []
        for k, flags in enumerate(rows):
            name = f"{split}_{k}.jpg"
            _image(src / "WFLW_images" / "0--Parade" / name)
            line, pts = _wflw_line(k, flags, f"0--Parade/{name}")
            lines.append(line)
            expected[f"{split}/{k}"] = pts
        (lists / f"list_98pt_rect_attr_{split}.txt").write_text("\n".join(lines) + "\n")
    return expected


def test_wflw_converts_and_loads_in_mmpose(tmp_path):
    expected = _wflw_release(tmp_path / "src")
    out, skipped = prepare("wflw", tmp_path / "src", tmp_path / "wflw")
    assert skipped == 0
    summary = check_dataset(out)
    assert summary["splits"]["train"]["images"] == 2
    assert summary["splits"]["test_pose"]["images"] == 1  # only face 0 has the pose flag
    assert summary["splits"]["test_occlusion"]["images"] == 1
    assert summary["splits"]["test_makeup"]["images"] == 1  # face 1
    infos = _mmpose_points("wflw", out, "test")
    for k, info in enumerate(infos):
        np.testing.assert_allclose(info["keypoints"][0], expected[f"test/{k}"], atol=1e-3)
        # official rectangle 9 4 62 55: centre (35.5, 29.5), side max(53, 51) -> scale 53/200
        np.testing.assert_allclose(info["bbox_center"][0], [35.5, 29.5])
        np.testing.assert_allclose(info["bbox_scale"][0], [53, 53], atol=1e-3)
    import json

    att = json.loads((out / "annotations" / "test.json").read_text())["annotations"][1]["attributes"]
    assert att == {"pose": 0, "expression": 0, "illumination": 0, "makeup": 1, "occlusion": 1, "blur": 1}


def test_wflw_bad_line_names_file_and_line_or_is_counted(tmp_path):
    _wflw_release(tmp_path / "src")
    lst = next((tmp_path / "src").rglob("list_98pt_rect_attr_train.txt"))
    lst.write_text(lst.read_text() + "1 2 3 broken.jpg\n")
    with pytest.raises(DataError, match=r"list_98pt_rect_attr_train.txt: line 3: has 4 fields"):
        prepare("wflw", tmp_path / "src", tmp_path / "a")
    out, skipped = prepare("wflw", tmp_path / "src", tmp_path / "b", skip_bad=True)
    assert skipped == 1
    assert check_dataset(out)["splits"]["train"]["images"] == 2


# ---------------------------------------------------------------- 300W
def _pts_file(path: Path, pts: np.ndarray) -> None:
    body = "\n".join(f"{x:.3f} {y:.3f}" for x, y in pts)
    path.write_text(f"version: 1\nn_points:  {len(pts)}\n{{\n{body}\n}}\n")


def test_300w_splits_one_based_pts_and_mmpose_load(tmp_path):
    src = tmp_path / "300W"
    folders = {"afw": "train", "helen/trainset": "train", "lfpw/trainset": "train",
               "helen/testset": "test_common", "lfpw/testset": "test_common", "ibug": "test_challenge"}
    written = {}
    for i, folder in enumerate(folders):
        pts = np.stack([np.linspace(5, 70, 68), np.linspace(3, 50, 68) + i], axis=1)
        _image(src / folder / f"img{i}.jpg")
        _pts_file(src / folder / f"img{i}.pts", pts)
        written[f"{folder}/img{i}.jpg"] = pts
    out, _ = prepare("300w", src, tmp_path / "300w")
    counts = {s: v["images"] for s, v in check_dataset(out)["splits"].items()}
    assert counts == {"train": 3, "test_common": 2, "test_challenge": 1, "test_full": 3}
    for info in _mmpose_points("300w", out, "test_full"):
        rel = info["img_path"].split("images/")[1]
        np.testing.assert_allclose(info["keypoints"][0], written[rel] - 1.0, atol=1e-3)  # .pts is 1-based


def test_300w_wrong_point_count_is_reported(tmp_path):
    src = tmp_path / "300W"
    for folder in ("afw", "helen/testset", "ibug"):
        _image(src / folder / "a.jpg")
        _pts_file(src / folder / "a.pts", np.full((68, 2), 10.0))
    _pts_file(src / "afw" / "a.pts", np.full((49, 2), 10.0))
    with pytest.raises(DataError, match=r"afw/a.pts: has 49 points, 300W has 68"):
        prepare("300w", src, tmp_path / "out")


# ---------------------------------------------------------------- COFW
def _cofw_mat(path: Path, n: int, key: tuple[str, str, str], occluded_row: int) -> tuple[np.ndarray, np.ndarray]:
    """A MATLAB v7.3 file as MATLAB writes it: column-major (transposed) arrays, cell refs."""
    rng = np.random.default_rng(n)
    phis = np.zeros((n, 87))
    phis[:, :29] = rng.uniform(2, 70, (n, 29))
    phis[:, 29:58] = rng.uniform(2, 50, (n, 29))
    phis[occluded_row, 58 + 3] = 1
    boxes = np.tile([5.0, 4.0, 60.0, 45.0], (n, 1))
    with h5py.File(path, "w") as f:
        refs = f.create_group("#refs#")
        cell = []
        for i in range(n):
            if i % 2:  # colour image 60 x 80 x 3 -> stored (3, 80, 60)
                d = refs.create_dataset(f"img{i}", data=np.full((3, 80, 60), 90, np.uint8))
            else:  # greyscale 60 x 80 -> stored (80, 60)
                d = refs.create_dataset(f"img{i}", data=np.full((80, 60), 40, np.uint8))
            cell.append(d.ref)
        f.create_dataset(key[0], data=np.array([cell], dtype=h5py.ref_dtype))
        f.create_dataset(key[1], data=phis.T)
        f.create_dataset(key[2], data=boxes.T)
    return phis, boxes


def test_cofw_mat_v73_converts_and_loads_in_mmpose(tmp_path):
    src = tmp_path / "COFW"
    src.mkdir()
    phis, _ = _cofw_mat(src / "COFW_train_color.mat", 3, ("IsTr", "phisTr", "bboxesTr"), 1)
    _cofw_mat(src / "COFW_test_color.mat", 2, ("IsT", "phisT", "bboxesT"), 0)
    out, _ = prepare("cofw", src, tmp_path / "cofw")
    assert {s: v["images"] for s, v in check_dataset(out)["splits"].items()} == {"train": 3, "test": 2}
    infos = _mmpose_points("cofw", out, "train")
    for i, info in enumerate(infos):
        expected = np.stack([phis[i, :29], phis[i, 29:58]], axis=1) - 1.0  # MATLAB is 1-based
        np.testing.assert_allclose(info["keypoints"][0], expected, atol=1e-3)
    import json

    ann = json.loads((out / "annotations" / "train.json").read_text())["annotations"][1]
    assert ann["keypoints"][3 * 3 + 2] == 1  # point 3 of row 2 is occluded: COCO v=1
    assert ann["keypoints"][4 * 3 + 2] == 2
    # MATLAB H x W = 60 x 80, stored (80, 60): back to 60 rows of 80 pixels
    assert cv2.imread(str(out / "images" / "train" / "000001.png")).shape == (60, 80, 3)


def test_cofw_missing_variable_is_reported(tmp_path):
    src = tmp_path / "COFW"
    src.mkdir()
    with h5py.File(src / "COFW_train_color.mat", "w") as f:
        f.create_dataset("phisTr", data=np.zeros((87, 1)))
    with pytest.raises(DataError, match=r"COFW_train_color.mat: has no 'IsTr' variable"):
        prepare("cofw", src, tmp_path / "out")
