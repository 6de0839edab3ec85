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


def test_trial_runs_are_settled_by_their_work_dir(client, tmp_path) -> None:
    from optuna.trial import TrialState

    from harness.contracts import RUN_FILE

    exp_id = mp.experiment_id(client, "e2")
    parent = _open(client, exp_id)
    runs, dirs = [], []
    for n in range(3):
        tags = {"harness.sweep": "s1", "optuna.study": "s1", "harness.trial_id": f"id{n}",
                "optuna.trial_number": str(n), "mlflow.parentRunId": parent}
        runs.append(client.create_run(exp_id, tags=tags).info.run_id)
        dirs.append(tmp_path / f"t{n}")
        dirs[-1].mkdir()
        (dirs[-1] / RUN_FILE).write_text(f'{{"run_id": "{runs[-1]}"}}')
    assert {r.info.run_id for r in mp.child_runs(client, exp_id, sweep="s1", study="s1")} == set(runs)
    # A dead trainer's run (RUNNING) fails, with the reason; the latest attempt is tagged.
    assert mp.settle_trial_run(client, dirs[0], run_id=None, trial_number=7,
                               state=TrialState.FAIL, failure="killed:9") == runs[0]
    run = client.get_run(runs[0])
    assert run.info.status == "FAILED" and run.data.tags["harness.failure"] == "killed:9"
    assert run.data.tags["optuna.trial_number"] == "7" and run.data.tags["optuna.state"] == "FAIL"
    # A finished run is never failed afterwards (a stale worker whose trainer had finished).
    client.set_terminated(runs[1], "FINISHED")
    mp.settle_trial_run(client, dirs[1], run_id=None, trial_number=1, state=TrialState.FAIL,
                        failure="stale")
    assert client.get_run(runs[1]).info.status == "FINISHED"
    # A complete attempt closes a run its trainer could not close.
    mp.settle_trial_run(client, dirs[2], run_id=runs[2], trial_number=2,
                        state=TrialState.COMPLETE, failure=None)
    assert client.get_run(runs[2]).info.status == "FINISHED"
    assert mp.settle_trial_run(client, tmp_path, run_id=None, trial_number=0,
                               state=TrialState.FAIL, failure="x") is None
