"""One tiny 98-point (WFLW-scheme) training run per session, and sets of other schemes to score it on."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG_68 = ROOT / "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py"


@dataclass(frozen=True)
class Trained:
    """A finished training run: its MLflow store, run id, work dir and training set."""

    tracking_uri: str
    run_id: str
    work_dir: Path
    data: Path
    test: dict[str, float]

    @property
    def config(self) -> Path:
        return self.work_dir / "resolved_config.py"

    @property
    def last_checkpoint(self) -> Path:
        return Path((self.work_dir / "last_checkpoint").read_text().strip())


def wflw_options(data: Path) -> dict[str, object]:
    """The synth300w config turned into a 98-point one on ``data`` (2 epochs, batch 16)."""
    options: dict[str, object] = {"train_cfg.max_epochs": 2, "train_dataloader.batch_size": 16,
                                  "model.head.out_channels": 98, "num_keypoints": 98,
                                  "val_evaluator.scheme": "wflw", "test_evaluator.scheme": "wflw",
                                  "harness_data.scheme": "wflw", "harness_data.dataset": "synth-wflw"}
    for split in ("train", "val", "test"):
        options[f"{split}_dataloader.dataset.data_root"] = str(data) + "/"
        options[f"{split}_dataloader.dataset.type"] = "WFLWDataset"
    return options


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    """About 25 s on one CPU thread: 32 training faces of 96 px, 2 epochs."""
    from harness.data.synth import generate
    from harness.train.request import TrainRequest
    from harness.train.runner import run_training

    root = tmp_path_factory.mktemp("eval_trained")
    data = generate(root / "synth-wflw", scheme="wflw", n_train=32, n_val=8, n_test=8, size=96, seed=5)
    request = TrainRequest(config=str(CONFIG_68), work_dir=str(root / "run"), seed=7, cfg_options=wflw_options(data),
                           tracking_uri=f"sqlite:///{root / 'mlruns.db'}", experiment="test-eval", cpu_threads=1)
    result = run_training(request)
    return Trained(request.tracking_uri or "", result.run_id, Path(request.work_dir), data, result.test)


def _pts(path: Path, points: np.ndarray) -> None:
    body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in points)  # .pts files are 1-based
    path.write_text(f"version: 1\nn_points:  {len(points)}\n{{\n{body}\n}}\n")


@pytest.fixture(scope="session")
def converted_300w(tmp_path_factory) -> Path:
    """A 68-point set made by `harness data prepare 300w` from a release written here (synthetic faces)."""
    from harness.data.convert import prepare
    from harness.data.synth import generate

    root = tmp_path_factory.mktemp("eval_300w")
    synth = generate(root / "faces", scheme="300w", n_train=2, n_val=1, n_test=4, size=96, seed=11)
    doc = json.loads((synth / "annotations" / "test.json").read_text())
    folders = ["afw", "helen/testset", "ibug", "ibug"]
    for image, ann, folder in zip(doc["images"], doc["annotations"], folders, strict=True):
        dest = root / "300W" / folder
        dest.mkdir(parents=True, exist_ok=True)
        name = f"face{image['id']}"
        shutil.copy(synth / "images" / image["file_name"], dest / f"{name}.jpg")
        _pts(dest / f"{name}.pts", np.asarray(ann["keypoints"], float).reshape(-1, 3)[:, :2])
    out, _ = prepare("300w", root / "300W", root / "300w")
    return out
