"""NME / FR / AUC / CED with hand-computed values for each normaliser."""
import numpy as np
import pytest

from harness.evaluation import ced_curve, face_metrics, normalizer_distances, per_landmark_nme


def _faces_300w():
    """Two 68-point faces with outer eye corners 100 px apart (landmarks 36 and 45)."""
    gt = np.zeros((2, 68, 2))
    gt[:, 36] = [0.0, 0.0]
    gt[:, 45] = [100.0, 0.0]
    pred = gt.copy()
    pred[0] += [3.0, 4.0]  # every point off by 5 px -> 0.05
    pred[1] += [9.0, 12.0]  # off by 15 px -> 0.15
    return pred, gt


def test_inter_ocular_nme_fr_auc():
    pred, gt = _faces_300w()
    m = face_metrics(pred, gt, normalizer="inter_ocular", scheme="300w")
    np.testing.assert_allclose(m["per_image"], [0.05, 0.15])
    assert m["nme"] == pytest.approx(10.0)
    assert m["fr"] == pytest.approx(50.0)
    # CED area from 0 to 0.1: image 0 counts from 0.05 on (0.05), image 1 never: 0.025 / 0.1.
    assert m["auc"] == pytest.approx(0.25)
    np.testing.assert_allclose(m["normalizer"], [100.0, 100.0])


def test_threshold_changes_fr_and_auc():
    pred, gt = _faces_300w()
    m = face_metrics(pred, gt, normalizer="inter_ocular", threshold=0.2)
    assert m["fr"] == 0.0
    assert m["auc"] == pytest.approx(((0.2 - 0.05) + (0.2 - 0.15)) / 2 / 0.2)


def test_inter_pupil_uses_eye_centroids():
    gt = np.zeros((1, 68, 2))
    gt[0, 36:42] = [[0, 0], [2, 0], [4, 0], [0, 2], [2, 2], [4, 2]]  # centroid (2, 1)
    gt[0, 42:48] = gt[0, 36:42] + [50.0, 0.0]  # centroid (52, 1)
    np.testing.assert_allclose(normalizer_distances(gt, "inter_pupil", "300w"), [50.0])
    pred = gt + [0.0, 1.0]
    assert face_metrics(pred, gt, normalizer="inter_pupil")["nme"] == pytest.approx(2.0)


def test_wflw_and_cofw_indices():
    gt = np.zeros((1, 98, 2))
    gt[0, 60], gt[0, 72] = [10, 10], [40, 50]
    assert normalizer_distances(gt, "inter_ocular")[0] == pytest.approx(50.0)
    gt = np.zeros((1, 29, 2))
    gt[0, 16], gt[0, 17] = [0, 0], [0, 30]
    assert normalizer_distances(gt, "inter_pupil", "cofw")[0] == pytest.approx(30.0)


def test_bbox_from_landmark_extent():
    gt = np.zeros((1, 29, 2))
    gt[0, :, 0] = np.linspace(10, 50, 29)  # width 40
    gt[0, :, 1] = np.linspace(0, 10, 29)  # height 10
    np.testing.assert_allclose(normalizer_distances(gt, "bbox"), [20.0])
    m = face_metrics(gt + [2.0, 0.0], gt, normalizer="bbox")
    assert m["nme"] == pytest.approx(10.0)


def test_array_normalizer_and_validation():
    pred, gt = _faces_300w()
    m = face_metrics(pred, gt, normalizer=np.array([50.0, 300.0]))
    np.testing.assert_allclose(m["per_image"], [0.1, 0.05])
    with pytest.raises(ValueError):
        face_metrics(pred, gt, normalizer=np.array([50.0, 0.0]))
    with pytest.raises(ValueError):
        face_metrics(pred, gt, normalizer="inter_ocular", scheme="wflw")


def test_mask_leaves_out_invisible_landmarks():
    pred, gt = _faces_300w()
    pred[0, 3] += [1000.0, 0.0]
    mask = np.ones((2, 68), dtype=bool)
    mask[0, 3] = False
    m = face_metrics(pred, gt, normalizer="inter_ocular", mask=mask)
    np.testing.assert_allclose(m["per_image"], [0.05, 0.15])
    assert m["per_landmark"][3] == pytest.approx(0.15)


def test_per_landmark():
    pred, gt = _faces_300w()
    pred[:, 0] = gt[:, 0]
    per = per_landmark_nme(pred, gt, normalizer="inter_ocular")
    assert per[0] == 0.0 and per[1] == pytest.approx(0.10)


def test_ced_curve_and_exact_auc_agree():
    nme = np.array([0.02, 0.05, 0.05, 0.2])
    thr, frac = ced_curve(nme, 0.1, 11)
    np.testing.assert_allclose(thr, np.linspace(0, 0.1, 11))
    np.testing.assert_allclose(frac[[0, 2, 5, 10]], [0.0, 0.25, 0.75, 0.75])
    thr, frac = ced_curve(nme, 0.1, 100001)
    trapezoid = np.sum((frac[1:] + frac[:-1]) / 2 * np.diff(thr)) / 0.1
    exact = np.mean(np.clip(0.1 - nme, 0, None)) / 0.1
    assert trapezoid == pytest.approx(exact, abs=1e-4)
