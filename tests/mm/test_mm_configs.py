"""Every shipped config builds (model, pipeline on a tiny fixture, metric); every method trains a step."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, METRICS, MODELS

import harness.mm  # noqa: F401  (registration)

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (ROOT / "mm_configs").glob("*/*.py") if p.parent.name != "_base_")
METHODS = {"structured", "softargmax", "dsnt", "star", "heatmap_mse"}


def _scheme(cfg: Config) -> str:
    return cfg.harness_data["scheme"]


def _point_at(cfg: Config, data_dir: Path) -> None:
    for name, split in (("train_dataloader", "train"), ("val_dataloader", "val"), ("test_dataloader", "test")):
        dataset = cfg[name].dataset
        dataset.data_root = str(data_dir) + "/"
        dataset.ann_file = f"annotations/{split}.json"


def test_every_dataset_and_method_is_shipped():
    names = {p.name for p in CONFIGS}
    assert len(CONFIGS) == 22
    for folder in ("synth300w", "wflw", "300w", "cofw"):
        methods = {Config.fromfile(str(p)).harness_method for p in CONFIGS if p.parent.name == folder}
        assert methods == METHODS, folder
    variants = {"structured", "structured-imageaware", "softargmax", "dsnt", "star", "heatmap-mse"}
    assert all(n.split("_")[0] in variants for n in names)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_builds(path, tiny_sets):
    cfg = Config.fromfile(str(path))
    assert cfg.custom_imports == dict(imports=["harness.mm"], allow_failed_imports=False)
    assert cfg.visualizer.type == "Visualizer"
    init_default_scope("mmpose")
    _point_at(cfg, tiny_sets[_scheme(cfg)])
    model = MODELS.build(cfg.model)
    assert model.head.__class__.__name__ == cfg.model.head.type
    sample = DATASETS.build(cfg.train_dataloader.dataset)[0]
    assert tuple(sample["inputs"].shape) == (3, *cfg.input_size[::-1])
    labels = sample["data_samples"].gt_instance_labels
    assert labels.keypoint_labels.shape == (1, cfg.num_keypoints, 2)
    metric = METRICS.build(cfg.val_evaluator)
    assert metric.scheme == _scheme(cfg)


SYNTH = [p for p in CONFIGS if p.parent.name == "synth300w"]


@pytest.mark.parametrize("path", SYNTH, ids=lambda p: p.stem)
def test_method_trains_a_step_and_predicts(path, tiny_sets):
    torch.manual_seed(0)
    cfg = Config.fromfile(str(path))
    init_default_scope("mmpose")
    _point_at(cfg, tiny_sets["300w"])
    model = MODELS.build(cfg.model)
    model.init_weights()
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    batch = pseudo_collate([train_set[i] for i in range(4)])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = model.head.final_layer.weight.detach().clone()
    model.train()
    losses = model(**model.data_preprocessor(batch, training=True), mode="loss")
    loss = losses["loss_kpt"]
    assert torch.isfinite(loss) and loss.item() != 0.0
    loss.backward()
    optimizer.step()
    assert not torch.equal(before, model.head.final_layer.weight)

    model.eval()
    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    with torch.no_grad():
        outputs = model.test_step(pseudo_collate([val_set[i] for i in range(2)]))
    keypoints = outputs[0].pred_instances.keypoints
    assert keypoints.shape == (1, 68, 2) and np.isfinite(keypoints).all()
    metric = METRICS.build(cfg.val_evaluator)
    metric.process([], [o.to_dict() for o in outputs])
    result = metric.compute_metrics(metric.results)
    assert set(result) >= {"nme", "fr", "auc"} and result["nme"] > 0
