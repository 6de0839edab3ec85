"""`harness train` rejects a bad key or constructor argument before MLflow: one line, exit 2."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from harness.contracts import ExitCode

REPO = Path(__file__).resolve().parents[2]
STRUCTURED = str(REPO / "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py")


@pytest.fixture
def store(tmp_path) -> str:
    """A real SQLite MLflow store, created before the command so the test can query it."""
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()
    return uri


def _train(tmp_path: Path, store: str, *options: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "harness.cli.main", "train", STRUCTURED, "--tracking-uri", store,
           "--work-dir", str(tmp_path / "work"), "--threads", "1", "--cfg-options", *options]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize("option, line", [
    ("model.head.loss.epz=1.0", ("model.head.loss.epz: unknown config key (did you mean 'eps'? "
                                 "a new key is declared as '+model.head.loss.epz')")),
    ("+model.head.loss.epz=1.0", ("model.head.loss.epz: StructuredHeatmapLoss has no argument 'epz' "
                                  "(did you mean 'eps'?)")),
    ("model.head.loss.alpha=x", "model.head.loss.alpha: StructuredHeatmapLoss expects float, got str 'x'"),
], ids=["unknown-key", "unknown-argument", "wrong-kind"])
def test_one_line_exit_2_and_no_run(tmp_path, store, option, line) -> None:
    # No data set exists under tmp_path: the model is checked before the data would be.
    proc = _train(tmp_path, store, option)
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines() == [f"BadRequest: {STRUCTURED}: {line}"], proc.stderr[-3000:]
    client = MlflowClient(tracking_uri=store)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert runs == []  # so none is left RUNNING either
    assert not (tmp_path / "work").exists()


def test_preflight_passes_a_good_request(tmp_path) -> None:
    from harness.cli.train import preflight
    from harness.train.request import TrainRequest

    request = TrainRequest(config=STRUCTURED, work_dir=str(tmp_path / "w"),
                           cfg_options={"+train_dataloader.dataset.indices": 8,
                                        "model.head.loss.eps": 0.5})
    assert preflight(request) is None
