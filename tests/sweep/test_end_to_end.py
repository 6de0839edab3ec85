"""End-to-end sweeps: real trainer subprocesses, real Optuna storages, real MLflow stores.

Tiny trials (8 synthetic images, 1-3 epochs, 1 CPU thread) through ``harness sweep run``.
"""
from __future__ import annotations

import os
import signal
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

from harness.sweep.storage import normalize_url, open_storage

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CONFIG = "mm_configs/synth300w/{}_hrnet-tiny_1xb32-12e_synth300w-128x128.py"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "synth"
    subprocess.run([sys.executable, "-m", "harness.cli.main", "data", "synth", "--out", str(out),
                    "--n-train", "8", "--n-val", "4", "--n-test", "4"], check=True, cwd=REPO,
                   capture_output=True)
    return out


def _arm(name: str, synth: Path, method: str = "structured", **overrides) -> dict:
    data = {f"{split}_dataloader.dataset.data_root": f"{synth}/" for split in ("train", "val", "test")}
    batch = {f"{split}_dataloader.batch_size": 4 for split in ("train", "val", "test")}
    return {"name": name, "method": method, "config": CONFIG.format(method),
            "overrides": {**data, **batch, **overrides}}


def _spec(tmp_path: Path, name: str, arms: list, seeds: list, epochs: int = 1,
          workers: int = 1, storage: str | None = None, pruner: dict | None = None) -> Path:
    spec = {"name": name, "arms": arms, "seeds": seeds, "budget": {"epochs": epochs},
            "resources": {"workers": workers, "cpu_threads_per_trial": 1},
            "work_dir": str(tmp_path / "work"),
            "mlflow": {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}", "experiment": "e2e"}}
    if storage:
        spec["storage"] = storage
    if pruner:
        spec["pruner"] = pruner
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _sweep(spec: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli.main", "sweep", "run", str(spec), *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _done(proc: subprocess.Popen, timeout: float = 600) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]
    return out


def _study(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(url))


def _children(tmp_path: Path, sweep: str):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("e2e")
    runs = client.search_runs([exp.experiment_id], f"tags.`harness.sweep` = '{sweep}'")
    parents = [r for r in runs if r.data.tags.get("harness.kind") == "sweep"]
    return client, parents, [r for r in runs if r not in parents]


def test_sweep_records_trials_survives_nan_and_resumes_without_duplicates(tmp_path, synth) -> None:
    spec = _spec(tmp_path, "nan", [_arm("ok", synth), _arm("nan", synth, **{"optim_wrapper.optimizer.lr": 1.0e30})],
                 seeds=[0], epochs=1, workers=2)
    _done(_sweep(spec))
    study = _study(f"journal:{tmp_path / 'work' / 'optuna.journal'}", "nan")
    by_arm = {t.user_attrs["harness.arm"]: t for t in study.trials}
    assert len(study.trials) == 2
    assert by_arm["ok"].state == TrialState.COMPLETE
    assert by_arm["nan"].state == TrialState.FAIL
    assert by_arm["nan"].user_attrs["harness.failure"] == "diverged"  # NaN loss at iteration 2
    client, parents, children = _children(tmp_path, "nan")
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    ok_run = client.get_run(by_arm["ok"].user_attrs["mlflow_run_id"])
    assert ok_run.data.tags["optuna.trial_number"] == str(by_arm["ok"].number)
    assert ok_run.data.tags["harness.trial_id"] == by_arm["ok"].user_attrs["harness.trial_id"]
    assert by_arm["ok"].value == pytest.approx(ok_run.data.metrics["val/nme"])
    assert {p.path for p in client.list_artifacts(parent.info.run_id, "summary")} == \
        {"summary/summary.json", "summary/trials.csv"}
    # Re-running finds everything done: no new trial, no second parent, no new child run.
    _done(_sweep(spec))
    assert len(_study(f"journal:{tmp_path / 'work' / 'optuna.journal'}", "nan").trials) == 2
    _, parents, children = _children(tmp_path, "nan")
    assert len(parents) == 1 and len(children) == 2


def _check_exact(study: optuna.Study, tmp_path: Path, sweep: str, n: int) -> None:
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == n, [
        (t.number, t.state.name, t.user_attrs.get("harness.failure"), str(t.user_attrs.get("harness.error", ""))[-600:])
        for t in study.trials
    ]
    ids = Counter(t.user_attrs["harness.trial_id"] for t in complete)
    assert len(ids) == n
    _, parents, children = _children(tmp_path, sweep)
    assert len(parents) == 1
    assert Counter(c.data.tags["harness.trial_id"] for c in children) == ids  # one run each
    assert all(c.info.status == "FINISHED" for c in children)


def _two_orchestrators(tmp_path: Path, synth: Path, storage: str | None, name: str) -> None:
    # A pruner that never prunes: every trial's hook still reports to the shared storage
    # (on PostgreSQL through a password-less URL plus PGPASSWORD).
    spec = _spec(tmp_path, name, [_arm("a", synth)], seeds=[0, 1, 2], storage=storage,
                 pruner={"type": "threshold", "options": {"upper": 1000.0}})
    first, second = _sweep(spec), _sweep(spec)
    _done(first), _done(second)
    url = normalize_url(storage, base=REPO) if storage else f"journal:{tmp_path / 'work' / 'optuna.journal'}"
    study = _study(url, name)
    assert len(study.trials) == 3
    _check_exact(study, tmp_path, name, 3)
    assert all(list(t.intermediate_values) == [1] for t in study.trials)
    if storage:  # the password reached the hook through PGPASSWORD, not the logged request
        secret = storage.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        requests = list((tmp_path / "work").glob("trials/*/request-*.json"))
        assert requests and not any(secret in r.read_text() for r in requests)


def test_two_orchestrators_share_a_journal_study(tmp_path, synth) -> None:
    _two_orchestrators(tmp_path, synth, None, "two")


@pytest.mark.postgres
def test_two_orchestrators_share_a_postgres_study(tmp_path, synth, postgres_url) -> None:
    _two_orchestrators(tmp_path, synth, postgres_url, "twopg")


def _wait_for(predicate, timeout: float, what: str) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_mid_trial_then_rerun_completes_exactly_once(tmp_path, synth) -> None:
    spec = _spec(tmp_path, "kill", [_arm("a", synth)], seeds=[0, 1], epochs=3)
    proc = _sweep(spec)
    work = tmp_path / "work"
    _wait_for(lambda: list(work.glob("trials/*/epoch_1.pth")), 600, "a first checkpoint")
    request = next(work.glob("trials/*/request-0.json"))
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    # The trainer dies with its orchestrator (PR_SET_PDEATHSIG): nothing keeps training.
    def trainer_gone() -> bool:
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        return str(request) not in ps
    _wait_for(trainer_gone, 30, "the orphaned trainer to exit")
    url = f"journal:{work / 'optuna.journal'}"
    assert [t.state for t in _study(url, "kill").trials][:1] == [TrialState.RUNNING]
    out = _done(_sweep(spec))
    assert "left running by a dead worker" in out
    study = _study(url, "kill")
    _check_exact(study, tmp_path, "kill", 2)
    stale = study.trials[0]
    assert stale.state == TrialState.FAIL
    retry = [t for t in study.trials if t.system_attrs.get("failed_trial") == 0]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    # The retry resumed the same work dir (and so the same MLflow run) from its checkpoint.
    assert retry[0].user_attrs["harness.trial_id"] == stale.user_attrs["harness.trial_id"]


def test_pruning_hook_stops_a_trial_through_the_trainer(tmp_path, synth) -> None:
    # Any face still above 1% NME after epoch 1 is pruned: deterministic on 8 images.
    spec = _spec(tmp_path, "prune", [_arm("a", synth)], seeds=[0], epochs=3,
                 pruner={"type": "threshold", "options": {"upper": 1.0}})
    _done(_sweep(spec))
    (trial,) = _study(f"journal:{tmp_path / 'work' / 'optuna.journal'}", "prune").trials
    assert trial.state == TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]  # reported once, then stopped
    client, _, (child,) = _children(tmp_path, "prune")
    assert child.data.tags["optuna.state"] == "PRUNED"
    assert [m.step for m in client.get_metric_history(child.info.run_id, "val/nme")] == [1]
