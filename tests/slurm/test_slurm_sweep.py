"""Sweeps on a real single-node SLURM cluster: submit, preempt-and-resume, status, cancel.

The cluster (munged, slurmctld, slurmd), PostgreSQL and the MLflow server are real and
started by the session's fixtures; the tests drive them only through `harness sweep` and
SLURM's own commands.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
import yaml
from mlflow import MlflowClient
from optuna.trial import TrialState

from harness.contracts import Attr, SweepExit, Tag
from harness.data.synth import generate
from harness.sweep.storage import normalize_url, open_storage

pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
CONFIG = "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py"


def _spec(tmp_path: Path, name: str, seeds: list[int], tracking: str, *, data: Path | None = None,
          epochs: int = 1) -> Path:
    overrides = {}
    if data is not None:
        overrides = {f"{s}_dataloader.dataset.data_root": f"{data}/" for s in ("train", "val", "test")}
        overrides.update({f"{s}_dataloader.batch_size": 4 for s in ("train", "val", "test")})
    arm = {"name": "s", "method": "structured", "config": CONFIG, "overrides": overrides}
    spec = {"name": name, "arms": [arm], "seeds": seeds, "budget": {"epochs": epochs},
            "resources": {"cpu_threads_per_trial": 1}, "work_dir": str(tmp_path / "work"),
            "mlflow": {"tracking_uri": tracking, "experiment": name}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _harness(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "harness.cli.main", "sweep", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _tasks(slurm, name: str) -> dict[str, str]:
    out = slurm.run("squeue", "--noheader", "--array", f"--name=harness-{name}", "--format=%i %T")
    return dict(line.split() for line in out.splitlines() if line.strip())


def _wait(predicate, timeout: float, what: str, slurm=None) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{slurm.log()}" if slurm else ""))


def _study(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(normalize_url(url, base=REPO)))


def _task_of(pid: int) -> str:
    """The array task a process belongs to, from its environment (SLURM sets it)."""
    env = dict(item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item)
    return f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"


def _steps(client: MlflowClient, run_id: str) -> list[int]:
    return sorted({m.step for m in client.get_metric_history(run_id, "val/nme")})


def _runs(client: MlflowClient, name: str):
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], f"tags.`{Tag.SWEEP}` = '{name}'")
    parents = [r for r in runs if r.data.tags.get(Tag.KIND) == "sweep"]
    return parents, [r for r in runs if r not in parents]


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("slurm-data") / "synth", n_train=16, n_val=4, n_test=4,
                    size=96, seed=3)


def test_submit_preempt_resume(slurm, postgres_url, mlflow_server, small_set, tmp_path):
    """2 array tasks, 3 real trials; one task is warned as before its time limit mid-trial.

    Its trial resumes from the checkpoint into the same MLflow run, the task requeues
    itself, and the sweep ends with exactly the 3 planned trials and 3 child runs.
    """
    name = "slurm-preempt"
    spec = _spec(tmp_path, name, [0, 1, 2], mlflow_server, data=small_set, epochs=3)
    out = _harness(slurm.env, "submit", str(spec), "--slurm", "--workers", "2", "--storage", postgres_url).stdout
    job = re.search(r"job array (\d+) \(2 task", out)
    assert job, out
    assert "3 planned trials (3 queued" in out, out
    study = _study(postgres_url, name)
    work = tmp_path / "work"

    def validated_once():
        return [t for t in study.get_trials(states=(TrialState.RUNNING,))
                if (Path(t.user_attrs.get(Attr.WORK_DIR, "/nonexistent")) / "last_validated_epoch").is_file()]

    _wait(validated_once, 180, "a running trial to validate its first epoch", slurm)
    target = validated_once()[0]
    client = MlflowClient(mlflow_server)
    run_id = (Path(target.user_attrs[Attr.WORK_DIR]) / "harness_run.json").read_text()
    run_id = re.search(r'"run_id":\s*"(\w+)"', run_id).group(1)
    task = _task_of(int(target.user_attrs[Attr.PID]))
    before = _steps(client, run_id)
    slurm.run("scancel", "--signal=USR1", "--batch", task)  # what --signal=B:USR1@T does at T
    _wait(lambda: _tasks(slurm, name).get(task) == "PENDING", 60, f"task {task} to requeue itself", slurm)
    # SLURM holds a requeued batch job for about two minutes; let it start now.
    slurm.run("scontrol", "update", f"JobId={task}", "StartTime=now")
    _wait(lambda: not _tasks(slurm, name), 300, "every task to end", slurm)

    trials = study.get_trials()
    assert len(trials) == 3 and Counter(t.state for t in trials) == {TrialState.COMPLETE: 3}, [
        (t.number, t.state.name, t.user_attrs.get(Attr.FAILURE)) for t in trials]
    resumed = study.trials[target.number]
    assert resumed.user_attrs.get(Attr.PREEMPTIONS) == 1
    parents, children = _runs(client, name)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert Counter(c.data.tags[Tag.TRIAL_ID] for c in children) == Counter(
        t.user_attrs[Attr.TRIAL_ID] for t in trials)  # one MLflow child per trial
    assert all(c.info.status == "FINISHED" for c in children)
    assert run_id in {c.info.run_id for c in children}
    after = _steps(client, run_id)
    assert before == [1] and after == [1, 2, 3], (before, after)
    log = Path(resumed.user_attrs[Attr.LOG]).read_text()
    assert "TrainingPreempted" in log and "resumed epoch: 1" in log, log[-3000:]
    task_logs = "".join(p.read_text() for p in (work / "slurm").glob("*.log"))
    assert f"requeueing task {task}" in task_logs, task_logs[-3000:]
    print(f"\nsubmit: job {job.group(1)}, 2 tasks, {len(trials)} trials, {len(children)} child runs; "
          f"trial {target.number} preempted in task {task}: val/nme epochs before {before}, after {after}, "
          f"one run {run_id}")


def test_status_and_cancel_leave_the_study_resumable(slurm, postgres_url, mlflow_server, tmp_path):
    """status lists the running tasks beside the trials; cancel ends them; a resubmit completes."""
    name = "slurm-cancel"
    spec = _spec(tmp_path, name, [0, 1, 2, 3], mlflow_server)
    slow = {**slurm.env, "HARNESS_RECORD_ONLY_SECONDS": "120"}
    common = ("--storage", postgres_url)
    out = _harness(slow, "submit", str(spec), "--slurm", "--workers", "2", "--launcher", "record-only",
                   *common).stdout
    assert "4 planned trials (4 queued" in out, out
    study = _study(postgres_url, name)
    _wait(lambda: len(study.get_trials(states=(TrialState.RUNNING,))) == 2, 60, "two running trials", slurm)
    status = _harness(slurm.env, "status", str(spec), *common, check=False)
    assert status.returncode == SweepExit.INCOMPLETE
    tasks = _tasks(slurm, name)
    assert len(tasks) == 2 and set(tasks.values()) == {"RUNNING"}, tasks
    assert "2 running" in status.stdout and f"harness-{name}: 2 queued or running" in status.stdout, status.stdout
    assert all(task in status.stdout for task in tasks), status.stdout
    _harness(slurm.env, "cancel", str(spec), *common)
    assert not _tasks(slurm, name)
    assert not any(t.state == TrialState.COMPLETE for t in study.get_trials())
    # Resumable: the next submit recovers the cancelled trials and works off the rest.
    _harness(slurm.env, "submit", str(spec), "--slurm", "--workers", "2", "--launcher", "record-only", *common)
    _wait(lambda: not _tasks(slurm, name), 120, "the resubmitted tasks to end", slurm)
    # Every planned trial has its answer once (the cancelled attempts failed as stale, retried).
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(t.user_attrs[Attr.SEED] for t in complete) == [0, 1, 2, 3]
    assert not study.get_trials(states=(TrialState.WAITING, TrialState.RUNNING))
