"""The synthetic set: exact, deterministic, cached, loadable by MMPose."""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness.data.check import check_dataset
from harness.data.errors import DataError
from harness.data.mapping import WFLW_TO_COFW, wflw_to_cofw
from harness.data.synth import generate
from harness.data.synth.procedural import render_procedural
from harness.data.synth.shapes import mean_face, sample_face

SMALL = dict(n_train=6, n_val=2, n_test=2, size=64)


def test_same_seed_is_byte_identical_other_seed_differs(tmp_path):
    a = generate(tmp_path / "a", seed=3, **SMALL)
    b = generate(tmp_path / "b", seed=3, **SMALL)
    c = generate(tmp_path / "c", seed=4, **SMALL)
    for split in ("train", "val", "test"):
        ja = (a / "annotations" / f"{split}.json").read_bytes()
        assert ja == (b / "annotations" / f"{split}.json").read_bytes()
        assert ja != (c / "annotations" / f"{split}.json").read_bytes()
    assert (a / "images/train/000005.jpg").read_bytes() == (b / "images/train/000005.jpg").read_bytes()


def test_cached_when_request_matches_regenerated_when_not(tmp_path):
    out = generate(tmp_path / "s", **SMALL)
    stamp = (out / "annotations" / "train.json").stat().st_mtime_ns
    generate(tmp_path / "s", **SMALL)
    assert (out / "annotations" / "train.json").stat().st_mtime_ns == stamp
    generate(tmp_path / "s", **{**SMALL, "n_train": 4})
    assert json.loads((out / "card.json").read_text())["splits"]["train"] == 4
    assert len(list((out / "images" / "train").iterdir())) == 4  # old images removed


def test_refuses_to_write_into_a_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(DataError, match="is not a synthetic set"):
        generate(tmp_path / "mine", **SMALL)


@pytest.mark.parametrize("scheme, k, cls", [("300w", 68, "Face300WDataset"), ("wflw", 98, "WFLWDataset"),
                                            ("cofw", 29, "COFWDataset")])
def test_every_scheme_checks_and_loads_in_mmpose(tmp_path, scheme, k, cls):
    import mmpose.datasets

    out = generate(tmp_path / scheme, scheme=scheme, **SMALL)
    summary = check_dataset(out)
    assert summary["num_keypoints"] == k and summary["kind"] == "synthetic"
    card = json.loads((out / "card.json").read_text())
    assert card["splits"] == {"train": 6, "val": 2, "test": 2} and card["seed"] == 0
    ds = getattr(mmpose.datasets, cls)(data_root=str(out), ann_file="annotations/train.json",
                                       data_prefix=dict(img="images/"), test_mode=True)
    doc = json.loads((out / "annotations" / "train.json").read_text())
    info = ds.get_data_info(0)
    expected = np.asarray(doc["annotations"][0]["keypoints"]).reshape(-1, 3)[:, :2]
    np.testing.assert_allclose(info["keypoints"][0], expected, atol=1e-4)
    assert info["keypoints"].shape == (1, k, 2)


def test_mean_faces_are_in_benchmark_order():
    f68 = mean_face("300w")  # x to the image right, y up
    assert f68[36, 0] < f68[39, 0] < f68[42, 0] < f68[45, 0]  # eye corners left to right
    assert f68[48, 0] < f68[54, 0]  # mouth corners
    assert np.all(np.diff(f68[0:9, 1]) < 0) and np.all(np.diff(f68[8:17, 1]) > 0)  # jaw down to the chin, up again
    assert np.all(np.diff(f68[0:17, 0]) > 0)  # jaw left to right
    assert f68[19, 1] > f68[37, 1] > f68[30, 1] > f68[51, 1] > f68[8, 1]  # brow, eye, nose tip, lip, chin
    f98 = mean_face("wflw")
    assert f98[60, 0] < f98[64, 0] < f98[68, 0] < f98[72, 0] and f98[76, 0] < f98[82, 0]
    assert f98[60, 0] < f98[96, 0] < f98[64, 0] and f98[68, 0] < f98[97, 0] < f98[72, 0]  # pupils inside eyes


def test_wflw_to_cofw_mapping_by_hand():
    pts = np.arange(98 * 2, dtype=float).reshape(98, 2)  # row i = (2i, 2i+1)
    cofw = wflw_to_cofw(pts)
    assert cofw.shape == (29, 2) and len(WFLW_TO_COFW) == 29
    np.testing.assert_allclose(cofw[8], [120, 121])  # outer eye corner = WFLW 60
    np.testing.assert_allclose(cofw[2], [75, 76])  # brow inner corner = mean of WFLW 37 and 38
    np.testing.assert_allclose(cofw[16], [192, 193])  # pupil = WFLW 96
    f = wflw_to_cofw(mean_face("wflw"))
    assert f[8, 0] < f[10, 0] < f[11, 0] < f[9, 0]  # outer, inner, inner, outer eye corners
    assert f[20, 1] > f[21, 1] > f[24, 1] > f[25, 1] > f[27, 1] > f[28, 1]  # nose tip down to the chin


def test_labels_sit_on_the_drawn_parts():
    """The pupil landmark of an open, unoccluded eye lands on the black pupil."""
    hits = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        face = sample_face(rng, "wflw", 128)
        img, occluded = render_procedural(rng, face, 128)
        for side, idx in enumerate((96, 97)):
            if face.eye_open[side] > 0.7 and not occluded[idx] and face.facing[idx]:
                x, y = np.round(face.points[idx]).astype(int)
                assert img[y, x].max() < 80, (seed, idx, img[y, x])
                hits += 1
    assert hits > 20
