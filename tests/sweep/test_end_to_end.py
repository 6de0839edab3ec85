"""End-to-end sweeps: real trainer subprocesses, real Optuna storages, real MLflow stores.

Tiny trials (8 synthetic images, 1-3 epochs, 1 CPU thread) through ``harness sweep run``.
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import sweep_e2e as e2e
from optuna.trial import TrialState

from harness.sweep.storage import normalize_url

pytestmark = pytest.mark.slow
REPO = e2e.REPO


def test_sweep_records_trials_survives_nan_and_resumes_without_duplicates(tmp_path, synth) -> None:
    spec = e2e.spec(tmp_path, "nan",
                    [e2e.arm("ok", synth), e2e.arm("nan", synth, **{"optim_wrapper.optimizer.lr": 1.0e30})],
                    seeds=[0], epochs=1, workers=2)
    e2e.done(e2e.sweep(spec))
    study = e2e.study(f"journal:{tmp_path / 'work' / 'optuna.journal'}", "nan")
    by_arm = {t.user_attrs["harness.arm"]: t for t in study.trials}
    assert len(study.trials) == 2
    assert by_arm["ok"].state == TrialState.COMPLETE
    assert by_arm["nan"].state == TrialState.FAIL
    assert by_arm["nan"].user_attrs["harness.failure"] == "diverged"  # NaN loss at iteration 2
    client, parents, children = e2e.children(tmp_path, "nan")
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
    e2e.done(e2e.sweep(spec))
    assert len(e2e.study(f"journal:{tmp_path / 'work' / 'optuna.journal'}", "nan").trials) == 2
    _, parents, children = e2e.children(tmp_path, "nan")
    assert len(parents) == 1 and len(children) == 2


def _two_orchestrators(tmp_path: Path, synth: Path, storage: str | None, name: str) -> None:
    # A pruner that never prunes: every trial's hook still reports to the shared storage
    # (on PostgreSQL through a password-less URL plus PGPASSWORD).
    spec = e2e.spec(tmp_path, name, [e2e.arm("a", synth)], seeds=[0, 1, 2], storage=storage,
                 pruner={"type": "threshold", "options": {"upper": 1000.0}})
    first, second = e2e.sweep(spec), e2e.sweep(spec)
    e2e.done(first), e2e.done(second)
    url = normalize_url(storage, base=REPO) if storage else f"journal:{tmp_path / 'work' / 'optuna.journal'}"
    study = e2e.study(url, name)
    assert len(study.trials) == 3
    e2e.check_exact(study, tmp_path, name, 3)
    assert all(list(t.intermediate_values) == [1] for t in study.trials)
    if storage:  # the password reached the hook through PGPASSWORD, not the logged request
        secret = storage.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        requests = list((tmp_path / "work").glob("trials/*/request-*.json"))
        assert requests and not any(secret in r.read_text() for r in requests)


def test_two_orchestrators_share_a_journalstudy(tmp_path, synth) -> None:
    _two_orchestrators(tmp_path, synth, None, "two")


@pytest.mark.postgres
def test_two_orchestrators_share_a_postgresstudy(tmp_path, synth, postgres_url) -> None:
    _two_orchestrators(tmp_path, synth, postgres_url, "twopg")


def test_kill_9_mid_trial_then_rerun_completes_exactly_once(tmp_path, synth) -> None:
    spec = e2e.spec(tmp_path, "kill", [e2e.arm("a", synth)], seeds=[0, 1], epochs=3)
    proc = e2e.sweep(spec)
    work = tmp_path / "work"
    e2e.wait_for(lambda: list(work.glob("trials/*/epoch_1.pth")), 600, "a first checkpoint")
    request = next(work.glob("trials/*/request-0.json"))
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    # The trainer dies with its orchestrator (PR_SET_PDEATHSIG): nothing keeps training.
    def trainer_gone() -> bool:
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        return str(request) not in ps
    e2e.wait_for(trainer_gone, 30, "the orphaned trainer to exit")
    url = f"journal:{work / 'optuna.journal'}"
    assert [t.state for t in e2e.study(url, "kill").trials][:1] == [TrialState.RUNNING]
    out = e2e.done(e2e.sweep(spec))
    assert "left running by a dead worker" in out
    study = e2e.study(url, "kill")
    e2e.check_exact(study, tmp_path, "kill", 2)
    stale = study.trials[0]
    assert stale.state == TrialState.FAIL
    retry = [t for t in study.trials if t.system_attrs.get("failed_trial") == 0]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    # The retry resumed the same work dir (and so the same MLflow run) from its checkpoint.
    assert retry[0].user_attrs["harness.trial_id"] == stale.user_attrs["harness.trial_id"]


def test_pruning_hook_stops_a_trial_through_the_trainer(tmp_path, synth) -> None:
    # Any face still above 1% NME after epoch 1 is pruned: deterministic on 8 images.
    spec = e2e.spec(tmp_path, "prune", [e2e.arm("a", synth)], seeds=[0], epochs=3,
                 pruner={"type": "threshold", "options": {"upper": 1.0}})
    e2e.done(e2e.sweep(spec))
    (trial,) = e2e.study(f"journal:{tmp_path / 'work' / 'optuna.journal'}", "prune").trials
    assert trial.state == TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]  # reported once, then stopped
    client, _, (child,) = e2e.children(tmp_path, "prune")
    assert child.data.tags["optuna.state"] == "PRUNED"
    assert [m.step for m in client.get_metric_history(child.info.run_id, "val/nme")] == [1]
