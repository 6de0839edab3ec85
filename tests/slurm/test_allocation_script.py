"""A task's slots from simulated SLURM allocations; the sbatch script; storage refusals."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.contracts import SweepExit
from harness.slurm.allocation import slots_from_allocation
from harness.slurm.script import SbatchOptions, SlurmOptionError, parse_time_limit, render_script
from harness.slurm.submit import storage_problems, sweep_script
from harness.storage import filesystem_type, unshared_storage, unshared_tracking
from harness.sweep.orchestrator import resolve_context
from harness.sweep.spec import Resources, load_spec

REPO = Path(__file__).resolve().parents[2]


def _visible(slots) -> list[str]:
    return [s.env["CUDA_VISIBLE_DEVICES"] for s in slots]


def test_gpu_slots_use_exactly_the_allocated_gpus():
    # Two GPUs of the node (4 and 6), two trials on each; the spec's own GPU list is ignored.
    env = {"CUDA_VISIBLE_DEVICES": "4,6", "SLURM_JOB_GPUS": "4,6", "SLURM_CPUS_PER_TASK": "8"}
    slots = slots_from_allocation(Resources(device="cuda", gpus=(0, 1, 2, 3), trials_per_gpu=2), env)
    assert _visible(slots) == ["4", "6", "4", "6"]
    assert {s.device for s in slots} == {"cuda"} and {s.cpu_threads for s in slots} == {2}


def test_gpu_uuids_and_ddp_groups():
    env = {"CUDA_VISIBLE_DEVICES": "GPU-aa,GPU-bb,GPU-cc,GPU-dd", "SLURM_CPUS_PER_TASK": "16"}
    slots = slots_from_allocation(Resources(device="cuda", gpus_per_trial=2), env)
    assert _visible(slots) == ["GPU-aa,GPU-bb", "GPU-cc,GPU-dd"]
    assert [s.nproc for s in slots] == [2, 2] and slots[0].cpu_threads == 4


def test_job_gpus_when_cuda_visible_devices_is_unset():
    slots = slots_from_allocation(Resources(device="cuda"), {"SLURM_JOB_GPUS": "1", "SLURM_CPUS_PER_TASK": "3"})
    assert _visible(slots) == ["1"] and slots[0].cpu_threads == 3


@pytest.mark.parametrize("env", [{"SLURM_CPUS_PER_TASK": "4"},
                                 {"SLURM_CPUS_PER_TASK": "4", "CUDA_VISIBLE_DEVICES": ""},
                                 {"SLURM_CPUS_PER_TASK": "4", "SLURM_JOB_GPUS": "NoDevFiles"}])
def test_a_task_without_gpus_is_one_cpu_slot_of_its_cpus(env):
    # A spec written for 4 local GPU workers still runs one trial per CPU task.
    slots = slots_from_allocation(Resources(device="cuda", gpus=(0, 1), workers=4), env)
    assert len(slots) == 1 and slots[0].device == "cpu" and slots[0].cpu_threads == 4
    assert slots[0].env["CUDA_VISIBLE_DEVICES"] == "" and slots[0].env["OMP_NUM_THREADS"] == "4"


@pytest.mark.parametrize(("value", "seconds"), [("90", 5400), ("5:30", 330), ("2:00:00", 7200),
                                                ("1-12", 129600), ("1-0:30", 88200), ("0-0:0:45", 45)])
def test_time_limits(value, seconds):
    assert parse_time_limit(value) == seconds


def test_script_directives_and_refusals(tmp_path):
    options = SbatchOptions(workers=3, gpus_per_worker=2, cpus_per_worker=8, partition="gpu",
                            time="4:00:00", account="lab", mem="32G", warn_seconds=600,
                            extra=("--qos", "high"))
    text = render_script(options, study="s1", root=tmp_path, log_dir=tmp_path / "logs",
                         worker_command=["python", "-m", "harness.slurm.worker", "a b.yaml"])
    for line in ("#SBATCH --job-name=harness-s1", "#SBATCH --array=0-2", "#SBATCH --gres=gpu:2",
                 "#SBATCH --cpus-per-task=8", "#SBATCH --partition=gpu", "#SBATCH --time=4:00:00",
                 "#SBATCH --account=lab", "#SBATCH --mem=32G", "#SBATCH --requeue",
                 "#SBATCH --signal=B:USR1@600", "#SBATCH --qos high",
                 "exec python -m harness.slurm.worker 'a b.yaml'"):
        assert line in text.splitlines(), line
    with pytest.raises(SlurmOptionError, match="--time 5 is not longer than the 300 s warning"):
        render_script(SbatchOptions(time="5"), study="s", root=tmp_path, log_dir=tmp_path, worker_command=["x"])
    with pytest.raises(SlurmOptionError, match="not a SLURM time limit"):
        parse_time_limit("4h")


def test_which_stores_other_nodes_reach(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\nserver:/home /shared nfs4 rw 0 0\n")
    assert filesystem_type("/shared/sweeps/x", mounts=str(mounts)) == "nfs4"
    assert filesystem_type("/sharedx", mounts=str(mounts)) == "ext4"
    assert unshared_storage("postgresql+psycopg2://u@db/optuna") is None
    assert "SQLite" in unshared_storage("sqlite:////tmp/o.db")
    assert "node-local" in unshared_storage(f"journal:{tmp_path}/optuna.journal")
    assert unshared_tracking("http://mlflow:5000") is None
    assert "mlflow server" in unshared_tracking(f"sqlite:///{tmp_path}/mlflow.db")


def _submit(tmp_path: Path, *args: str, tracking: str | None = None) -> subprocess.CompletedProcess[str]:
    spec = {"name": "refuse", "seeds": [0], "budget": {"epochs": 1},
            "arms": [{"name": "s", "method": "structured",
                      "config": "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py"}],
            "work_dir": str(tmp_path / "work"), "mlflow": {"tracking_uri": tracking} if tracking else {}}
    path = tmp_path / "refuse.yaml"
    path.write_text(yaml.safe_dump(spec))
    return subprocess.run([sys.executable, "-m", "harness.cli.main", "sweep", "submit", str(path), "--slurm",
                           *args], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_submit_refuses_stores_other_nodes_cannot_reach_and_the_script_keeps_secrets_out(tmp_path):
    proc = _submit(tmp_path)  # a local journal and the default SQLite MLflow store
    assert proc.returncode == SweepExit.BAD_INPUT
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 2 and all("refuse.yaml" in line for line in errors), proc.stderr
    assert "node-local file system" in errors[0] and "`mlflow server`" in errors[1]
    assert not (tmp_path / "work").exists()  # nothing queued or written
    # What --dry-run prints, for stores every node reaches (no connection is made).
    spec = load_spec(tmp_path / "refuse.yaml", root=REPO)
    ctx = resolve_context(spec, root=REPO, host="h", python="/venv/bin/python", env={},
                          storage="postgresql://u:secret@db.example/optuna")
    ctx = dataclasses.replace(ctx, tracking_uri="http://mlflow.example:5000")
    assert storage_problems(ctx, "refuse.yaml") == []
    text = sweep_script(ctx, SbatchOptions(workers=4))
    assert "#SBATCH --array=0-3" in text and "--tracking-uri http://mlflow.example:5000" in text
    assert "postgresql+psycopg2://u@db.example/optuna" in text and "secret" not in text
    assert not (tmp_path / "work").exists()


def test_slurm_is_asked_only_where_a_cluster_is_configured(tmp_path):
    import os
    import shutil

    from harness.slurm.jobs import configured

    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=x\n")
    env = {"PATH": os.environ["PATH"]}
    assert configured({**env, "SLURM_CONF": str(conf)}) == (shutil.which("squeue") is not None)
    assert not configured({**env, "SLURM_CONF": str(tmp_path / "missing.conf")})
    assert not configured({"PATH": str(tmp_path)})  # no client tools
