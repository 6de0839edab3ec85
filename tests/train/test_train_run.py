"""One training run end to end against a real MLflow SQLite store."""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from harness.train.errors import BadRequest
from harness.train.request import ExitCode
from harness.train.runner import run_training
from harness.train.worker import execute

pytestmark = pytest.mark.slow


def _history(client, run_id, key):
    history = client.get_metric_history(run_id, key)
    return [(m.step, m.value) for m in sorted(history, key=lambda m: (m.step, m.timestamp))]


def test_run_records_the_contract(make_request):
    request = make_request()
    result = run_training(request)
    client = MlflowClient(request.tracking_uri)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert experiment.artifact_location.endswith("/mlartifacts")
    params, tags = run.data.params, run.data.tags
    assert params["method"] == "structured" and params["seed"] == "7" and params["dataset"] == "synth-300w"
    assert params["decoder"] == "GridKeypointCodec:local_softargmax(radius=2)"
    assert params["loss.target"] == "gaussian" and params["eval.normalizer"] == "inter_ocular"
    assert tags["harness.kind"] == "train" and tags["harness.dataset_kind"] == "synthetic"
    assert tags["harness.git_commit"] and tags["harness.outcome"] == "complete"
    assert not any(k.startswith(("harness.version.", "harness.hw.")) for k in tags)  # artifacts only
    assert [s for s, _ in _history(client, result.run_id, "val/nme")] == [1, 2]
    for key in ("train/loss", "train/lr", "time/epoch_seconds", "time/elapsed_seconds", "time/samples_per_second"):
        assert [s for s, _ in _history(client, result.run_id, key)] == [1, 2], key
    elapsed = [v for _, v in _history(client, result.run_id, "time/elapsed_seconds")]
    assert elapsed[1] > elapsed[0] > 0
    assert math.isfinite(run.data.metrics["test/nme"]) and result.test["nme"] == run.data.metrics["test/nme"]
    artifacts = {f.path for d in ("config", "predictions", "provenance")
                 for f in client.list_artifacts(result.run_id, d)}
    assert {"config/resolved_config.py", "predictions/test_predictions.npz", "predictions/test_per_image.csv",
            "provenance/packages.json", "provenance/git_diff.patch"} <= artifacts
    inputs = run.inputs.dataset_inputs
    assert {i.dataset.name for i in inputs} == {"synth-300w/train", "synth-300w/val", "synth-300w/test"}


def test_same_seed_gives_identical_curves(make_request):
    a = run_training(make_request("a"))
    b = run_training(make_request("b"))
    client = MlflowClient(make_request().tracking_uri)
    for key in ("train/loss", "val/nme", "val/auc"):
        assert _history(client, a.run_id, key) == _history(client, b.run_id, key), key
    assert a.test == b.test


def test_killed_run_resumes_into_the_same_mlflow_run(make_request, tmp_path):
    request = make_request("killed", cfg_options={"train_cfg.max_epochs": 3})
    request_file = tmp_path / "request.json"
    request.to_json(request_file)
    proc = subprocess.Popen([sys.executable, "-m", "harness.train.worker", str(request_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = Path(request.work_dir) / "epoch_1.pth"
    deadline = time.time() + 600
    while not checkpoint.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert checkpoint.exists(), "the first epoch never finished"
    time.sleep(1.0)  # let the checkpoint file be complete before the kill
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result = run_training(request)
    client = MlflowClient(request.tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("test-train").experiment_id])
    assert [r.info.run_id for r in runs] == [result.run_id]
    assert {s for s, _ in _history(client, result.run_id, "val/nme")} == {1, 2, 3}
    assert client.get_run(result.run_id).info.status == "FINISHED"


def test_nan_loss_fails_the_run_and_keeps_what_was_logged(make_request):
    request = make_request("nan", cfg_options={"+model.head.loss.loss_weight": float("nan")})
    assert execute(request) == ExitCode.DIVERGED
    client = MlflowClient(request.tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("test-train").experiment_id])
    assert run.info.status == "FAILED"
    assert run.data.tags["harness.error"].startswith("TrainingDiverged: training loss is nan at epoch 1")
    assert run.data.params["method"] == "structured"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"cfg_options": {"model.haed.loss.eps": 2.0}}, r"unknown config key 'model.haed'"),
        ({"cfg_options": {"train_dataloader.dataset.data_root": "/nonexistent/"}},
         r"/nonexistent/annotations/train.json: train annotation file not found"),
        ({"config": "mm_configs/nope.py"}, r"mm_configs/nope.py: config file not found"),
    ],
)
def test_bad_input_is_one_line_before_training(make_request, change, message):
    request = make_request("bad", **change)
    with pytest.raises(BadRequest, match=message) as info:
        run_training(request)
    assert "\n" not in str(info.value)
    assert not (Path(request.work_dir) / "harness_run.json").exists()


def test_wrong_landmark_count_names_the_file(make_request, tiny_sets):
    wflw = str(tiny_sets["wflw"]) + "/"
    request = make_request("wrongk",
                           cfg_options={f"{s}_dataloader.dataset.data_root": wflw for s in ("train", "val", "test")})
    with pytest.raises(BadRequest, match=r"train.json.*98.*68|train.json.*68.*98"):
        run_training(request)
