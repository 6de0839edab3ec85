"""The sweep's MLflow parent run and child-run look-ups, on a real SQLite MLflow store."""
from __future__ import annotations

import pytest
from mlflow import MlflowClient

from harness.sweep import mlflow_parent as mp


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return MlflowClient(f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}")


def _open(client, exp_id):
    return mp.open_parent(client, exp_id, sweep="s1", study="s1",
                          storage_redacted="postgresql://u:***@h/db", spec_file="sweeps/s1.yaml",
                          spec_text="name: s1\n", params={"sampler": "grid"})


def test_parent_is_created_once_and_found_again(client) -> None:
    exp_id = mp.experiment_id(client, "e")
    run_id = _open(client, exp_id)
    client.set_terminated(run_id, "FINISHED")
    assert _open(client, exp_id) == run_id  # a re-run reuses it and marks it RUNNING
    run = client.get_run(run_id)
    assert run.info.status == "RUNNING"
    assert run.data.tags["harness.kind"] == "sweep" and run.data.tags["harness.sweep"] == "s1"
    assert run.data.params["optuna.storage"] == "postgresql://u:***@h/db"
    assert run.data.params["optuna.study"] == "s1"
    assert [f.path for f in client.list_artifacts(run_id, "spec")] == ["spec/s1.yaml"]
    mp.close_parent(client, run_id, {"n_complete": 2, "best_value": 1.5}, "number\n", finished=True)
    assert client.get_run(run_id).info.status == "FINISHED"
    assert client.get_run(run_id).data.metrics["sweep/best_value"] == 1.5


def test_children_by_trial_number_objective_and_failing(client) -> None:
    exp_id = mp.experiment_id(client, "e2")
    parent = _open(client, exp_id)
    runs = []
    for n in range(2):
        tags = {"harness.sweep": "s1", "optuna.study": "s1", "harness.trial_id": f"id{n}",
                "optuna.trial_number": str(n), "mlflow.parentRunId": parent}
        runs.append(client.create_run(exp_id, tags=tags).info.run_id)
    for step, value in [(1, 9.0), (2, 5.0), (3, 6.0)]:
        client.log_metric(runs[0], "val/nme", value, step=step)
    assert {r.info.run_id for r in mp.child_runs(client, exp_id, sweep="s1", study="s1")} == set(runs)
    assert [r.info.run_id for r in mp.child_runs(client, exp_id, sweep="s1", study="s1",
                                                 trial_number=1)] == [runs[1]]
    assert mp.read_objective(client, runs[0], "val/nme", reduce="last", direction="minimize") == 6.0
    assert mp.read_objective(client, runs[0], "val/nme", reduce="best", direction="minimize") == 5.0
    assert mp.read_objective(client, runs[1], "val/nme", reduce="last", direction="minimize") is None
    assert mp.fail_child_runs(client, exp_id, sweep="s1", study="s1", trial_number=1,
                              reason="stale") == [runs[1]]
    failed = client.get_run(runs[1])
    assert failed.info.status == "FAILED" and failed.data.tags["harness.failure"] == "stale"
    assert client.get_run(runs[0]).info.status == "RUNNING"
