"""The plug-ins one by one: codec round trip, head label units, masked JS loss, metric, compat."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import harness.mm  # noqa: F401  (registration)
from harness import compat
from harness.mm.codecs import GridKeypointCodec
from harness.mm.losses import MaskedJSDiscretLoss
from harness.mm.metric import FaceLandmarkMetric


def test_codec_encodes_grid_units_and_decodes_back_to_pixels():
    codec = GridKeypointCodec(input_size=(128, 128), heatmap_size=(32, 32), decoder="none")
    keypoints = np.array([[[8.0, 12.0], [200.0, 5.0]]])  # second one is outside the crop
    encoded = codec.encode(keypoints, np.ones((1, 2)))
    np.testing.assert_allclose(encoded["keypoint_labels"], [[[2.0, 3.0], [50.0, 1.25]]])
    np.testing.assert_array_equal(encoded["keypoint_weights"], [[1.0, 0.0]])
    scores = np.zeros((2, 32, 32), dtype=np.float32)
    scores[0, 3, 2] = 5.0  # row 3, column 2 -> x = 2 cells = 8 px, y = 3 cells = 12 px
    scores[1, 10, 20] = 1.0
    decoded, maxvals = codec.decode(scores)
    np.testing.assert_allclose(decoded, [[[8.0, 12.0], [80.0, 40.0]]])
    np.testing.assert_allclose(maxvals, [[5.0, 1.0]])


def test_masked_js_loss_gives_zero_gradient_not_nan_for_zero_weight():
    pred = torch.softmax(torch.randn(1, 2, 4, 4).flatten(2), -1).view(1, 2, 4, 4).requires_grad_()
    gt = torch.zeros(1, 2, 4, 4)
    gt[0, 0, 1, 1] = 1.0
    weights = torch.tensor([[1.0, 0.0]])
    loss = MaskedJSDiscretLoss(use_target_weight=True)(pred, gt, weights)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    assert torch.count_nonzero(pred.grad[0, 1]) == 0


def _sample(pred, gt, attributes=None):
    return {
        "id": 1,
        "pred_instances": {"keypoints": pred[None]},
        "gt_instances": {"keypoints": gt[None], "bboxes": np.array([[0.0, 0.0, 40.0, 10.0]])},
        "raw_ann_info": {"attributes": attributes or {}},
    }


def test_metric_hand_computed_inter_ocular_and_bbox(tmp_path):
    gt = np.zeros((68, 2))
    gt[36] = [0.0, 0.0]
    gt[45] = [10.0, 0.0]  # inter-ocular distance 10
    pred = gt.copy()
    pred[:, 0] += 1.0  # every landmark 1 px off -> NME 10 %
    metric = FaceLandmarkMetric(normalizer="inter_ocular", scheme="300w", predictions_file=str(tmp_path / "p.npz"))
    metric.process([], [_sample(pred, gt, {"pose": 1, "blur": 0})])
    result = metric.compute_metrics(metric.results)
    assert result["nme"] == pytest.approx(10.0)
    assert result["fr"] == pytest.approx(0.0)  # 0.10 is not > 0.10
    assert result["nme_pose"] == pytest.approx(10.0) and "nme_blur" not in result
    saved = np.load(tmp_path / "p.npz")
    assert saved["normalizer"][0] == pytest.approx(10.0) and saved["per_image_nme"][0] == pytest.approx(0.1)
    bbox = FaceLandmarkMetric(normalizer="bbox", scheme="300w")
    bbox.process([], [_sample(pred, gt)])
    assert bbox.compute_metrics(bbox.results)["nme"] == pytest.approx(100.0 / np.sqrt(400.0))


def test_compat_stub_names_the_op_and_skips_full_mmcv(monkeypatch):
    compat.apply()
    from mmcv.ops import MultiScaleDeformableAttention

    with pytest.raises(RuntimeError, match=r"mmcv\.ops\.MultiScaleDeformableAttention: .*full mmcv"):
        MultiScaleDeformableAttention()
    monkeypatch.setattr(compat, "_applied", False)
    monkeypatch.setattr(compat, "mmcv_has_compiled_ops", lambda: True)
    before = list(__import__("sys").meta_path)
    compat.apply()
    assert __import__("sys").meta_path == before  # nothing installed for a full mmcv


def test_checkpoint_with_message_hub_state_loads_with_weights_only(tmp_path):
    compat.apply()
    from mmengine.logging import MessageHub

    hub = MessageHub.get_instance("harness-test-hub")
    hub.update_scalar("train/loss", np.float32(1.5))
    hub.update_info("meta", np.arange(3))
    path = tmp_path / "ckpt.pth"
    torch.save({"message_hub": hub.state_dict(), "meta": {"dtype": np.dtype("float32")}}, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded["message_hub"]["log_scalars"]["train/loss"].current() == pytest.approx(1.5)


class _PooledCrops(torch.nn.Module):
    """Stand-in backbone: the crop pooled to the grid plus a fixed texture, so scores vary along edges too."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("texture", torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1)))

    def forward(self, images):
        """(B, 3, 32, 32) -> ((B, 3, 8, 8),), the tuple of levels a backbone returns."""
        return (torch.nn.functional.avg_pool2d(images, 4) + self.texture,)


def test_image_aware_estimator_feeds_the_crops_to_the_structured_loss():
    from mmengine.registry import init_default_scope
    from mmengine.structures import InstanceData
    from mmpose.registry import MODELS
    from mmpose.structures import PoseDataSample

    from harness.losses import StructuredLoss

    init_default_scope("mmpose")
    head = dict(type="ScoreMapHead", in_channels=3, out_channels=2, heatmap_size=(8, 8),
                loss=dict(type="StructuredHeatmapLoss", target="image_aware", sigma=1.0, anisotropy=3.0, blend=1.0))
    model = MODELS.build(dict(type="ImageAwareTopdownPoseEstimator",
                              backbone=dict(type="Conv2d", in_channels=3, out_channels=3, kernel_size=1), head=head))
    model.backbone = _PooledCrops()
    torch.manual_seed(0)
    torch.nn.init.normal_(model.head.final_layer.weight)  # scores that differ from cell to cell
    images = torch.zeros(2, 3, 32, 32)
    images[..., 16:] = 1.0  # a vertical edge at the grid centre
    labels = torch.tensor([[[0.5, 0.5], [0.25, 0.5]], [[0.5, 0.4], [0.6, 0.6]]])
    samples = []
    for i in range(2):
        sample = PoseDataSample()
        sample.gt_instance_labels = InstanceData(keypoint_labels=labels[i : i + 1], keypoint_weights=torch.ones(1, 2))
        samples.append(sample)
    loss = model.loss(images, samples)["loss_kpt"]
    scores = model.head.forward(model.extract_feat(images))
    core = StructuredLoss(target="image_aware", sigma=1.0, anisotropy=3.0, blend=1.0)
    expected = core(scores, labels * 8, torch.ones(2, 2), image=images)
    isotropic = StructuredLoss(target="gaussian", sigma=1.0)(scores, labels * 8, torch.ones(2, 2))
    assert torch.allclose(loss, expected)
    assert not torch.allclose(loss, isotropic)  # the edge changed the label
    with pytest.raises(ValueError, match="ImageAwareTopdownPoseEstimator"):
        model.head.loss(model.extract_feat(images), samples)
