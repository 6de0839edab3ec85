"""Helpers of the end-to-end sweep tests: real specs, real `harness sweep run` processes."""
from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import yaml
from mlflow import MlflowClient
from optuna.trial import TrialState

from harness.sweep.storage import open_storage

REPO = Path(__file__).resolve().parents[2]
CONFIG = "mm_configs/synth300w/{}_hrnet-tiny_1xb32-12e_synth300w-128x128.py"


def arm(name: str, synth: Path, method: str = "structured", **overrides) -> dict:
    data = {f"{split}_dataloader.dataset.data_root": f"{synth}/" for split in ("train", "val", "test")}
    batch = {f"{split}_dataloader.batch_size": 4 for split in ("train", "val", "test")}
    return {"name": name, "method": method, "config": CONFIG.format(method),
            "overrides": {**data, **batch, **overrides}}


def spec(tmp_path: Path, name: str, arms: list, seeds: list, epochs: int = 1,
         workers: int = 1, storage: str | None = None, pruner: dict | None = None,
         max_retry: int | None = None) -> Path:
    budget = {"epochs": epochs} if max_retry is None else {"epochs": epochs, "max_retry": max_retry}
    spec = {"name": name, "arms": arms, "seeds": seeds, "budget": budget,
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


def sweep(spec: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli.main", "sweep", "run", str(spec), *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def done(proc: subprocess.Popen, timeout: float = 600) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]
    return out


def study(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(url))


def children(tmp_path: Path, sweep: str):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("e2e")
    runs = client.search_runs([exp.experiment_id], f"tags.`harness.sweep` = '{sweep}'")
    parents = [r for r in runs if r.data.tags.get("harness.kind") == "sweep"]
    return client, parents, [r for r in runs if r not in parents]


def check_exact(study: optuna.Study, tmp_path: Path, sweep: str, n: int) -> None:
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == n, [
        (t.number, t.state.name, t.user_attrs.get("harness.failure"), str(t.user_attrs.get("harness.error", ""))[-600:])
        for t in study.trials
    ]
    ids = Counter(t.user_attrs["harness.trial_id"] for t in complete)
    assert len(ids) == n
    _, parents, runs = children(tmp_path, sweep)
    assert len(parents) == 1
    assert Counter(c.data.tags["harness.trial_id"] for c in runs) == ids  # one run each
    assert all(c.info.status == "FINISHED" for c in runs)


def wait_for(predicate, timeout: float, what: str) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


