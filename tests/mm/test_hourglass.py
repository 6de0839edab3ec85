"""STAR's hourglass: parameter count, per-stack shapes, AAM pieces, one training step per method."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.structures import PoseDataSample

import harness.mm  # noqa: F401  (registration)
from harness.losses.aam_targets import edge_maps, point_maps
from harness.mm.aam_edges import AAM_EDGES
from harness.mm.aam_head import stack_weights
from harness.mm.hourglass import STARHourglass, coord_channels

ROOT = Path(__file__).resolve().parents[2]
METHOD_BASES = sorted((ROOT / "mm_configs/_base_/methods").glob("*.py"))


def test_parameter_count_is_stars_published_13_37_m_within_1_percent():
    model = STARHourglass(scheme="wflw")
    count = sum(p.numel() for p in model.parameters())
    assert count == 13_476_468
    assert abs(count / 13.37e6 - 1) < 0.01


def test_every_stack_gives_landmark_point_edge_and_fused_maps_at_stride_4():
    torch.manual_seed(0)
    model = STARHourglass(scheme="wflw")
    model.eval()  # MMPose's BaseBackbone.train returns None, so no chaining
    with torch.no_grad():
        stacks = model(torch.randn(1, 3, 256, 256))
    assert len(stacks) == 4
    for stack in stacks:
        assert tuple(stack.landmarks.shape) == (1, 98, 64, 64)
        assert tuple(stack.points.shape) == (1, 98, 64, 64)
        assert tuple(stack.edges.shape) == (1, 9, 64, 64)
        assert tuple(stack.fused.shape) == (1, 98, 64, 64)
    # heatmap_act="none": raw scores, negative values included; the sigmoid maps are in (0, 1).
    assert stacks[-1].landmarks.min() < 0 and 0 < stacks[-1].points.min() <= stacks[-1].points.max() < 1
    # Stacks differ: each one sees the previous one's maps.
    assert not torch.allclose(stacks[0].landmarks, stacks[1].landmarks)


def test_coord_channels_rows_then_columns_and_unit_radius():
    c = coord_channels(3, 5, torch.zeros(()))
    assert tuple(c.shape) == (1, 3, 3, 5)
    np.testing.assert_allclose(c[0, 0, :, 0], [-1, 0, 1])
    np.testing.assert_allclose(c[0, 1, 0], [-1, -0.5, 0, 0.5, 1])
    assert c[0, 2].max() == 1 and c[0, 2, 1, 2] == 0


def test_edge_to_point_mask_is_one_for_points_on_no_edge():
    model = STARHourglass(scheme="wflw", num_stacks=1, num_levels=1, channels=8)
    mask = model.e2h_transform(torch.zeros(1, 9, 2, 2))
    assert mask[0, 96:, 0, 0].tolist() == [1.0, 1.0]  # the pupils
    assert mask[0, :96].abs().sum() == 0
    covered = {i for _, idx in AAM_EDGES["wflw"] for i in idx}
    assert covered == set(range(96))


def test_point_and_edge_targets_peak_on_the_landmarks_and_the_contour():
    keypoints = torch.tensor([[[2.0, 3.0], [6.0, 3.0], [6.0, 7.0]]])
    points = point_maps(keypoints, (8, 8), sigma=0.5)
    assert points[0, 0, 3, 2] == 1 and points[0, 0, 3, 3] < 0.2
    edges = edge_maps(keypoints, [(False, (0, 1, 2))], (8, 8), sigma=0.5)
    assert edges[0, 0, 3, 4] == pytest.approx(1.0)  # on the segment 0-1
    assert edges[0, 0, 5, 6] == pytest.approx(1.0)  # on the segment 1-2
    assert edges[0, 0, 6, 3] < 1e-3  # the open polyline does not join 2 back to 0


def test_stack_weights_are_stars():
    assert stack_weights(4) == (0.125, 0.25, 0.5, 1.0)


def _tiny_model(method_base: Path) -> torch.nn.Module:
    head = Config.fromfile(str(method_base)).method_head.to_dict()
    cfg = dict(
        type="TopdownPoseEstimator",
        data_preprocessor=dict(type="PoseDataPreprocessor", mean=[127.5] * 3, std=[127.5] * 3),
        backbone=dict(type="STARHourglass", scheme="cofw", num_stacks=2, num_levels=2, channels=32),
        head=dict(type="StackedAAMHead", per_stack=head, heatmap_size=(16, 16), scheme="cofw", num_stacks=2,
                  decoder=dict(input_size=(64, 64), heatmap_size=(16, 16))),
    )
    init_default_scope("mmpose")
    return MODELS.build(cfg)


def _batch(n: int = 2) -> list[PoseDataSample]:
    codec = KEYPOINT_CODECS.build(dict(type="IntegralRegressionLabel", input_size=(64, 64), heatmap_size=(16, 16),
                                       sigma=2.0, normalize=False))
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(n):
        keypoints = rng.uniform(12, 52, size=(1, 29, 2)).astype(np.float32)
        encoded = codec.encode(keypoints, np.ones((1, 29), dtype=np.float32))
        sample = PoseDataSample(metainfo=dict(input_size=(64, 64), input_center=np.array([32.0, 32.0]),
                                              input_scale=np.array([64.0, 64.0]), flip_indices=list(range(29))))
        sample.gt_instance_labels = InstanceData(
            keypoint_labels=torch.from_numpy(encoded["keypoint_labels"]),
            keypoint_weights=torch.from_numpy(encoded["keypoint_weights"]))
        sample.gt_fields = PixelData(heatmaps=torch.from_numpy(encoded["heatmaps"]))
        sample.gt_instances = InstanceData(keypoints=keypoints)
        samples.append(sample)
    return samples


@pytest.mark.parametrize("method_base", METHOD_BASES, ids=lambda p: p.stem)
def test_every_method_trains_a_step_on_the_hourglass(method_base):
    torch.manual_seed(0)
    model = _tiny_model(method_base).train()
    images = torch.randn(2, 3, 64, 64)
    losses = model.loss(images, _batch())
    total = sum(v for k, v in losses.items() if k.startswith("loss"))
    assert {"loss_kpt", "loss_point", "loss_edge"} <= set(losses)
    assert torch.isfinite(total) and total.item() > 0
    print(f"{method_base.stem}: " + ", ".join(f"{k}={v.item():.4f}" for k, v in losses.items() if "loss" in k))
    before = model.backbone.out_heatmaps[0].conv.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    total.backward()
    # The first stack learns from its own (intermediate) supervision.
    assert model.backbone.out_heatmaps[0].conv.weight.grad.abs().sum() > 0
    optimizer.step()
    assert not torch.equal(before, model.backbone.out_heatmaps[0].conv.weight)

    model.eval()
    with torch.no_grad():
        preds = model.head.predict(model.extract_feat(images), _batch(), test_cfg={})
    keypoints = preds[0].keypoints
    assert keypoints.shape == (1, 29, 2) and np.isfinite(keypoints).all()
