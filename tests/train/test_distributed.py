"""The multi-GPU path, exercised on CPU with two gloo processes under torchrun."""
from __future__ import annotations

import pytest
from mlflow import MlflowClient

from harness.train.distributed import launch_distributed

pytestmark = pytest.mark.slow


def test_two_process_launch_logs_one_run_from_rank_zero(make_request):
    request = make_request("ddp", cfg_options={"train_cfg.max_epochs": 1, "train_dataloader.batch_size": 8})
    assert launch_distributed(request, nproc=2) == 0
    client = MlflowClient(request.tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("test-train").experiment_id])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(runs[0].info.run_id, "val/nme")] == [1]


def test_a_failing_rank_is_named_with_its_one_line_reason(make_request, capfd):
    request = make_request("ddp-bad", cfg_options={"train_dataloader.dataset.data_root": "/nonexistent/"})
    assert launch_distributed(request, nproc=2) == 1
    reasons = [line for line in capfd.readouterr().err.splitlines() if ": rank " in line]
    assert len(reasons) == 2
    assert all(": BadRequest: /nonexistent/annotations/train.json: train annotation file not found" in line for line in reasons)
