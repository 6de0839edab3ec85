"""A sweep worker: claim a queued trial, train it in a subprocess, tell Optuna the outcome.

Every trial of a sweep is queued (WAITING) by the orchestrator before workers start, so a
worker only ever claims queued trials and a sweep never grows past its budget, however
many workers or machines share the study.
"""
from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path

import optuna
from mlflow import MlflowClient
from optuna.trial import TrialState

from harness.sweep import mlflow_parent
from harness.sweep.context import (
    SweepContext, build_pruner, build_sampler, pruner_config, pruning_hook,
)
from harness.sweep.identity import resolved_overrides, trial_id, trial_work_dir
from harness.sweep.launchers import LAUNCHERS, Slot
from harness.sweep.recovery import Heartbeat, owner_attrs
from harness.sweep.space import suggest
from harness.sweep.storage import open_storage, split_password, study_lock
from harness.train.request import ExitCode, TrainRequest

__all__ = ["open_study", "claim", "run_trial", "run_worker"]

_log = logging.getLogger(__name__)
FAILURES = {ExitCode.ERROR: "error", ExitCode.BAD_INPUT: "bad_input",
            ExitCode.DIVERGED: "diverged"}


def open_study(ctx: SweepContext, storage: optuna.storages.BaseStorage) -> optuna.Study:
    """Create the sweep's study, or load it: every orchestrator and worker calls this."""
    return optuna.create_study(
        storage=storage, study_name=ctx.study_name, load_if_exists=True,
        direction=ctx.spec.objective.direction, sampler=build_sampler(ctx.spec),
        pruner=build_pruner(pruner_config(ctx.spec)),
    )


def claim(ctx: SweepContext, study: optuna.Study,
          storage: optuna.storages.BaseStorage) -> optuna.Trial | None:
    """Take the next queued trial, or None when the queue is empty.

    ``Study.ask`` pops a queued trial atomically, but when another worker takes the last
    one first it samples a brand-new trial instead; the study lock closes that race.
    """
    with study_lock(ctx.storage_url, ctx.study_name, storage):
        if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            return None
        with warnings.catch_warnings():
            # We beat the RDB heartbeat ourselves (recovery.Heartbeat), as optimize() would.
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            return study.ask()


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def build_request(ctx: SweepContext, trial: optuna.Trial, slot: Slot) -> TrainRequest:
    """Resolve a claimed trial into a TrainRequest, recording its identity as user attrs."""
    spec = ctx.spec
    names = [a.name for a in spec.arms]
    arm = spec.arm(trial.suggest_categorical("arm", names) if len(names) > 1 else names[0])
    params = suggest(trial, arm.search_space)
    seed = int(trial.user_attrs.get("harness.seed", spec.seeds[0]))
    overrides = resolved_overrides(arm.overrides, params, spec.budget.epochs)
    tid = trial_id(arm.config, overrides, seed)
    work_dir = trial_work_dir(ctx.work_dir, arm.name, tid)
    attrs = {"harness.trial_id": tid, "harness.arm": arm.name, "harness.seed": seed,
             "harness.method": arm.method, "harness.work_dir": str(work_dir)}
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    tags = {"harness.sweep": spec.name, "harness.arm": arm.name, "harness.trial_id": tid,
            "optuna.study": ctx.study_name, "optuna.trial_number": str(trial.number)}
    hooks = (pruning_hook(ctx, trial.number),) if spec.pruner.type != "none" else ()
    return TrainRequest(
        config=arm.config, work_dir=str(work_dir), seed=seed, cfg_options=overrides,
        tracking_uri=ctx.tracking_uri, experiment=ctx.experiment,
        run_name=f"{spec.name}-{trial.number}-{arm.name}-s{seed}", tags=tags,
        parent_run_id=ctx.parent_run_id, device=slot.device, cpu_threads=slot.cpu_threads,
        extra_hooks=hooks, launcher="pytorch" if slot.nproc > 1 else "none",
    )


def _outcome(code: int, value: float | None) -> tuple[TrialState, str | None]:
    """Optuna state and failure reason of a trainer exit code (and the objective read back)."""
    if code == ExitCode.OK and value is not None:
        return TrialState.COMPLETE, None
    if code == ExitCode.PRUNED:
        return TrialState.PRUNED, None
    if code == ExitCode.OK:
        return TrialState.FAIL, "no_metric"
    return TrialState.FAIL, FAILURES.get(code) or (f"killed:{-code}" if code < 0 else f"exit:{code}")


def _finish(ctx: SweepContext, study: optuna.Study, trial: optuna.Trial, code: int,
            log_path: Path, client: MlflowClient | None) -> TrialState:
    """Tell Optuna how the trial ended; the objective is read back from its MLflow run."""
    trial.set_user_attr("harness.exit_code", code)
    if client is None:  # dry run: nothing trained, and the scratch study is thrown away
        trial.set_user_attr("harness.failure", "dry-run")
        study.tell(trial, state=TrialState.FAIL)
        return TrialState.FAIL
    spec = ctx.spec
    exp_id = mlflow_parent.experiment_id(client, ctx.experiment)
    runs = mlflow_parent.child_runs(client, exp_id, sweep=spec.name, study=ctx.study_name,
                                    trial_number=trial.number)
    run_id = max(runs, key=lambda r: r.info.start_time).info.run_id if runs else None
    value = None
    if run_id is not None:
        trial.set_user_attr("mlflow_run_id", run_id)
        value = mlflow_parent.read_objective(client, run_id, spec.objective.metric,
                                             reduce=spec.objective.reduce,
                                             direction=spec.objective.direction)
    state, reason = _outcome(code, value)
    if reason is not None:
        trial.set_user_attr("harness.failure", reason)
        trial.set_user_attr("harness.error", _tail(log_path))
        # A trainer that died hard leaves its run RUNNING; close it as FAILED.
        mlflow_parent.fail_child_runs(client, exp_id, sweep=spec.name, study=ctx.study_name,
                                      trial_number=trial.number, reason=reason)
        _log.warning("trial %d failed (%s); see %s", trial.number, reason, log_path)
    if run_id is not None:
        client.set_tag(run_id, "optuna.state", state.name)
    study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
    return state


def run_trial(ctx: SweepContext, study: optuna.Study, storage: optuna.storages.BaseStorage,
              trial: optuna.Trial, slot: Slot, client: MlflowClient | None) -> TrialState:
    for key, value in owner_attrs(ctx.host, os.getpid()).items():
        trial.set_user_attr(key, value)
    request = build_request(ctx, trial, slot)
    work_dir = Path(request.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    request_path = work_dir / f"request-{trial.number}.json"
    request.to_json(request_path)
    log_path = work_dir / f"trial-{trial.number}.log"
    _log.info("trial %d: %s seed %s -> %s", trial.number, trial.user_attrs.get("harness.arm"),
              request.seed, work_dir)
    secret_env = split_password(ctx.storage_url)[1] if request.extra_hooks else {}
    beat = ctx.heartbeat_dir / f"{ctx.study_name}-{trial.number}"
    # Trial has no public id accessor; the storage's heartbeat API is keyed by it.
    with Heartbeat(storage, trial._trial_id, beat, ctx.heartbeat_interval):
        code = LAUNCHERS[ctx.launcher](request_path, python=ctx.python,
                                       env={**ctx.env, **slot.env, **secret_env},
                                       log_path=log_path,
                                       cwd=ctx.root, nproc=slot.nproc)
    return _finish(ctx, study, trial, code, log_path, client)


def run_worker(ctx: SweepContext, slot: Slot) -> int:
    """Claim and run trials until the queue is empty or the deadline passes; returns the count."""
    storage = open_storage(ctx.storage_url, heartbeat_interval=int(ctx.heartbeat_interval),
                           grace_period=int(ctx.grace_period),
                           max_retry=ctx.spec.budget.max_retry)
    study = open_study(ctx, storage)
    client = MlflowClient(ctx.tracking_uri) if ctx.parent_run_id else None
    done = 0
    while ctx.deadline is None or time.time() < ctx.deadline:
        trial = claim(ctx, study, storage)
        if trial is None:
            break
        try:
            run_trial(ctx, study, storage, trial, slot, client)
        except Exception as exc:
            # The sweep goes on; the trial records why (the trainer itself never gets here).
            _log.exception("trial %d: the sweep worker failed", trial.number)
            trial.set_user_attr("harness.failure", "worker_error")
            trial.set_user_attr("harness.error", f"{type(exc).__name__}: {exc}"[:2000])
            study.tell(trial, state=TrialState.FAIL)
        done += 1
    return done
