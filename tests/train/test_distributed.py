"""The multi-GPU path, exercised on CPU with two gloo processes under torchrun."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

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
    # Launched again on the finished work dir, every rank learns from rank 0 that there
    # is nothing to do (rank 1 alone would train and wait for a peer that has left).
    assert launch_distributed(request, nproc=2) == 0
    assert [r.info.run_id for r in client.search_runs([runs[0].info.experiment_id])] == [runs[0].info.run_id]
    assert len(client.get_metric_history(runs[0].info.run_id, "val/nme")) == 1


def test_a_failing_rank_is_named_with_its_one_line_reason(make_request, capfd):
    request = make_request("ddp-bad", cfg_options={"train_dataloader.dataset.data_root": "/nonexistent/"})
    assert launch_distributed(request, nproc=2) == 1
    reasons = [line for line in capfd.readouterr().err.splitlines() if ": rank " in line]
    assert len(reasons) == 2
    assert all(": BadRequest: /nonexistent/annotations/train.json: train annotation file not found" in line
               for line in reasons)


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:
            pass
    return pids


def test_interrupting_the_launcher_stops_every_rank(make_request, tmp_path):
    request = make_request("ddp-int", cfg_options={"train_cfg.max_epochs": 50})
    options = [f"{k}={v}" for k, v in request.cfg_options.items()]
    cli = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", "train", request.config, "--gpus", "2", "--threads", "1",
         "--work-dir", request.work_dir, "--tracking-uri", request.tracking_uri, "--cfg-options", *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    request_file = str(Path(request.work_dir) / "train_request.json")
    deadline = time.time() + 120
    while len(_processes_mentioning(request_file)) < 3 and time.time() < deadline:  # torchrun + 2 ranks
        time.sleep(0.5)
    assert len(_processes_mentioning(request_file)) >= 3, "the ranks never started"
    cli.send_signal(signal.SIGINT)  # only the launcher: its session keeps torchrun out of it
    cli.wait(timeout=120)
    deadline = time.time() + 60
    while _processes_mentioning(request_file) and time.time() < deadline:
        time.sleep(0.5)
    assert _processes_mentioning(request_file) == []
