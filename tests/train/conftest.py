from __future__ import annotations

from pathlib import Path

import pytest

from harness.train.request import TrainRequest

ROOT = Path(__file__).resolve().parents[2]
STRUCTURED = ROOT / "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py"


@pytest.fixture
def make_request(tmp_path, tiny_300w):
    """A 2-epoch request on the tiny set, recorded in a fresh SQLite store under tmp_path."""

    def make(name: str = "run", config: Path = STRUCTURED, **overrides) -> TrainRequest:
        options = {
            "train_cfg.max_epochs": 2,
            "train_dataloader.batch_size": 16,
            "train_dataloader.dataset.data_root": str(tiny_300w) + "/",
            "val_dataloader.dataset.data_root": str(tiny_300w) + "/",
            "test_dataloader.dataset.data_root": str(tiny_300w) + "/",
        }
        options.update(overrides.pop("cfg_options", {}))
        fields = dict(
            config=str(config), work_dir=str(tmp_path / name), seed=7, cfg_options=options,
            tracking_uri=f"sqlite:///{tmp_path / 'mlruns.db'}", experiment="test-train", cpu_threads=1,
        )
        fields.update(overrides)
        return TrainRequest(**fields)

    return make
