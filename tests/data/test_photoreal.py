"""The photo-real renderer: the menpo3d scan's landmark order, its rendering, the fall-back without it.

The scan comes from the menpo3d 0.8.6 sdist, downloaded once by the ``menpo3d_sdist`` fixture
(tests/data/conftest.py) into ~/.cache/harness.
"""
from __future__ import annotations

import json
import logging
import tarfile

import numpy as np
import pytest

from harness.data.synth import generate
from harness.data.synth.photoreal import MENPO_TO_IBUG, landmarks_from_ljson, load_scan
from harness.data.synth.shapes import mean_face


def _assert_ibug_order(f: np.ndarray) -> None:
    """(68, 3) with x right, y up: eye corners, mouth corners, jaw left to right."""
    assert f[36, 0] < f[39, 0] < f[42, 0] < f[45, 0]
    assert f[48, 0] < f[54, 0] and f[60, 0] < f[64, 0]
    assert np.all(np.diff(f[0:17, 0]) > 0)
    assert f[19, 1] > f[37, 1] > f[33, 1] > f[51, 1] > f[57, 1] > f[8, 1]


def test_menpo_group_order_is_reordered_to_ibug():
    ibug = mean_face("300w")
    menpo = np.empty_like(ibug)
    menpo[list(MENPO_TO_IBUG)] = ibug  # write the points the way james.ljson groups them
    doc = {"version": 3, "groups": {"LJSON": {"landmarks": {"points": menpo.tolist(), "connectivity": []},
                                              "labels": []}}}
    out = landmarks_from_ljson(json.dumps(doc))
    np.testing.assert_array_equal(out, ibug)
    _assert_ibug_order(out)
    assert sorted(MENPO_TO_IBUG) == list(range(68))


def test_real_scan_landmarks_in_ibug_order(menpo3d_sdist):
    scan = load_scan(menpo3d_sdist)
    assert scan is not None, f"load_scan found no james scan in {menpo3d_sdist}"
    _assert_ibug_order(scan.landmarks)
    assert scan.landmarks[30].tolist() == [0.0, 0.0, 0.0]  # nose tip at the origin
    assert scan.vertices.shape[1] == 3 and scan.triangles.shape[1] == 3
    assert scan.colours.shape == (len(scan.triangles), 3)


def test_extracted_folder_loads_like_the_sdist(menpo3d_sdist, tmp_path):
    with tarfile.open(menpo3d_sdist) as tar:
        tar.extractall(tmp_path, members=[m for m in tar.getmembers() if "/menpo3d/data/james." in m.name],
                       filter="data")
    root = next(tmp_path.iterdir())  # menpo3d-0.8.6/, holding menpo3d/data/james.*
    from_sdist, from_root, from_data = (load_scan(p) for p in (menpo3d_sdist, root, root / "menpo3d" / "data"))
    for scan in (from_root, from_data):
        assert scan is not None
        np.testing.assert_array_equal(scan.landmarks, from_sdist.landmarks)
        np.testing.assert_array_equal(scan.triangles, from_sdist.triangles)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rendered_scan_is_a_textured_face_around_its_landmarks(menpo3d_sdist, seed):
    size = 96
    img, _occluded, face = load_scan(menpo3d_sdist).render(np.random.default_rng(seed), size)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    pts = face.points
    assert pts.shape == (68, 2) and np.all((pts >= 0) & (pts < size))
    assert pts[36:48, 1].mean() < pts[30, 1] < pts[48:68, 1].mean() < pts[8, 1]  # eyes, nose, mouth, chin
    assert face.facing.sum() >= 34  # the depth buffer hides some points, not most, at these poses
    x0, y0 = np.floor(pts.min(0)).astype(int)
    x1, y1 = np.ceil(pts.max(0)).astype(int)
    b, g, r = np.median(img[y0:y1, x0:x1].reshape(-1, 3), axis=0)
    assert r > g > b, f"face region median BGR {(b, g, r)} is not skin: texture not drawn, or channels swapped"


def test_generate_with_scan_uses_photoreal_renderer(menpo3d_sdist, tmp_path):
    out = generate(tmp_path / "s", n_train=2, n_val=1, n_test=1, size=64, renderer="photoreal", scan=menpo3d_sdist)
    assert json.loads((out / "card.json").read_text())["renderer"] == "photoreal"
    ann = json.loads((out / "annotations" / "train.json").read_text())
    assert len(ann["images"]) == 2 and len(ann["annotations"][0]["keypoints"]) == 68 * 3


def test_without_scan_falls_back_to_procedural_with_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        out = generate(tmp_path / "s", n_train=2, n_val=1, n_test=1, size=64, renderer="photoreal",
                       scan=tmp_path / "missing.tar.gz")
    assert "falling back to procedural" in caplog.text
    assert json.loads((out / "card.json").read_text())["renderer"] == "procedural"
