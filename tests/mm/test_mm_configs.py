"""Every shipped config builds (model, pipeline on a tiny fixture, metric); every method trains a step."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, METRICS, MODELS

import harness.mm  # noqa: F401  (registration)
from harness.sweep.spec import Arm, load_spec
from harness.sweep.validate import arm_problems

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
    assert len(CONFIGS) == 28
    for folder in ("synth300w", "wflw", "300w", "cofw"):
        methods = {Config.fromfile(str(p)).harness_method for p in CONFIGS if p.parent.name == folder}
        assert methods == METHODS, folder
    variants = {"structured", "structured-imageaware", "softargmax", "dsnt", "star", "heatmap-mse"}
    hourglass = {n.split("_")[0] for n in names if "_star-hg4_" in n}
    assert hourglass == {"structured", "star"} and len([n for n in names if "_star-hg4_" in n]) == 6
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


# Resolved configs of the leaves that existed before methods became a config axis, pinned
# (sha256 of the sorted JSON of Config.to_dict(), first 16 hex digits): moving the method
# deltas into mm_configs/_base_/methods/ changed none of them. A deliberate change of a
# leaf updates its digest here.
RESOLVED = {
    "300w/dsnt_hrnetv2-w18_8xb64-60e_300w-256x256.py": "209db984bad11792",
    "300w/heatmap-mse_hrnetv2-w18_8xb64-60e_300w-256x256.py": "a2764ee209461a43",
    "300w/softargmax_hrnetv2-w18_8xb64-60e_300w-256x256.py": "710c65170a859383",
    "300w/star_hrnetv2-w18_8xb64-60e_300w-256x256.py": "2cda03c4678cb530",
    "300w/structured_hrnetv2-w18_8xb64-60e_300w-256x256.py": "cb7f132b8ac37164",
    "cofw/dsnt_hrnetv2-w18_8xb64-60e_cofw-256x256.py": "9ff2607ff8b61407",
    "cofw/heatmap-mse_hrnetv2-w18_8xb64-60e_cofw-256x256.py": "10a698c3612de79b",
    "cofw/softargmax_hrnetv2-w18_8xb64-60e_cofw-256x256.py": "64dc393b698707c7",
    "cofw/star_hrnetv2-w18_8xb64-60e_cofw-256x256.py": "c55230f953ca7263",
    "cofw/structured_hrnetv2-w18_8xb64-60e_cofw-256x256.py": "1e693b33cdae7846",
    "synth300w/dsnt_hrnet-tiny_1xb32-12e_synth300w-128x128.py": "a88add2e8105f6b0",
    "synth300w/heatmap-mse_hrnet-tiny_1xb32-12e_synth300w-128x128.py": "1497460e1b07d7d7",
    "synth300w/softargmax_hrnet-tiny_1xb32-12e_synth300w-128x128.py": "1ba1774923555e3b",
    "synth300w/star_hrnet-tiny_1xb32-12e_synth300w-128x128.py": "2eea048e582e276a",
    "synth300w/structured-imageaware_hrnet-tiny_1xb32-12e_synth300w-128x128.py": "6bd2f141773a2a97",
    "synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py": "988ce670a1da932a",
    "wflw/dsnt_hrnetv2-w18_8xb64-60e_wflw-256x256.py": "9945ec4863b47120",
    "wflw/heatmap-mse_hrnetv2-w18_8xb64-60e_wflw-256x256.py": "d95269ec24342fdd",
    "wflw/softargmax_hrnetv2-w18_8xb64-60e_wflw-256x256.py": "6db9be6507abe2a3",
    "wflw/star_hrnetv2-w18_8xb64-60e_wflw-256x256.py": "820c9951a83738a6",
    "wflw/structured-imageaware_hrnetv2-w18_8xb64-60e_wflw-256x256.py": "35c0602e1074231c",
    "wflw/structured_hrnetv2-w18_8xb64-60e_wflw-256x256.py": "4c3fbca281260fef",
}


@pytest.mark.parametrize("leaf", sorted(RESOLVED))
def test_leaf_resolves_as_before_methods_became_bases(leaf):
    resolved = Config.fromfile(str(ROOT / "mm_configs" / leaf)).to_dict()
    digest = hashlib.sha256(json.dumps(resolved, sort_keys=True, default=repr).encode()).hexdigest()[:16]
    assert digest == RESOLVED[leaf]
    assert "method_head" not in resolved  # popped by the leaf, never a config key


def test_every_data_set_leaf_is_experiment_plus_method():
    for path in CONFIGS:
        if "imageaware" in path.name:
            continue
        text = path.read_text()
        assert "_base_/experiments/" in text and "_base_/methods/" in text, path.name


def test_an_arm_without_method_trains_its_configs_and_a_wrong_one_is_named():
    spec = load_spec(ROOT / "sweeps/wflw-paper-hg.yaml", root=ROOT)
    assert [a.method for a in spec.arms] == ["structured", "star"]
    config = "mm_configs/wflw/structured_star-hg4_4xb32-200e_wflw-256x256.py"
    problems = arm_problems(Arm("x", "dsnt", config), ROOT)
    assert ("method", f"'dsnt', but {config} trains 'structured'") in problems
