"""A sweep worker: claim a queued trial, train it in a subprocess, tell Optuna the outcome.

Every trial of a sweep is queued (WAITING) by the orchestrator before workers start, so a
worker only ever claims queued trials and a sweep never grows past its budget, however
many workers or machines share the study. The outcome comes from the trainer's own result
record in the trial's work dir (:mod:`harness.sweep.outcome`), never from a search of
MLflow; a work dir that already holds a finished record is not trained again.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import optuna
from mlflow import MlflowClient
from optuna.trial import TrialState

from harness.contracts import Attr, ExitCode, Tag
from harness.sweep import mlflow_parent
from harness.sweep.context import (
    SweepContext,
    build_pruner,
    build_sampler,
    pruner_config,
    pruning_hook,
)
from harness.sweep.identity import resolved_overrides, trial_id, trial_work_dir
from harness.sweep.launchers import LAUNCHERS, Slot
from harness.sweep.outcome import TrialOutcome, outcome_of
from harness.sweep.recovery import Heartbeat, owner_attrs, release_interrupted
from harness.sweep.space import suggest
from harness.sweep.storage import open_storage, split_password
from harness.train.request import TrainRequest
from harness.train.result import Objective, read_result

__all__ = ["open_study", "claim", "build_request", "run_trial", "run_worker"]

_log = logging.getLogger(__name__)


def open_study(ctx: SweepContext, storage: optuna.storages.BaseStorage) -> optuna.Study:
    """Create the sweep's study, or load it: every orchestrator and worker calls this."""
    return optuna.create_study(
        storage=storage, study_name=ctx.study_name, load_if_exists=True,
        direction=ctx.spec.objective.direction, sampler=build_sampler(ctx.spec),
        pruner=build_pruner(pruner_config(ctx.spec)),
    )


def claim(ctx: SweepContext, study: optuna.Study, storage: optuna.storages.BaseStorage,
          slot: Slot) -> tuple[optuna.Trial, TrainRequest] | None:
    """Take the next queued trial and draw its params; None when the queue is empty.

    A queued trial is moved WAITING -> RUNNING by the storage itself, which lets exactly one
    of several racing workers win (a row lock on RDB, the journal's owner check); losers
    try the next one. Unlike ``Study.ask``, this never creates a trial when the queue runs
    dry, so no study lock is needed and a sweep can never grow past its plan. The params
    are drawn by a sampler seeded from the spec's seed and the trial number: every worker
    process would otherwise replay one random stream (N workers, N copies of each
    configuration), and a re-run draws the same ones.
    """
    # Study._storage (private): on RDB it is Optuna's caching wrapper, which must see the
    # trials read here, or it cannot map the claimed trial's id back to the study later.
    cached = study._storage
    study_id = cached.get_study_id_from_name(ctx.study_name)
    for waiting in cached.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,)):
        try:
            # FrozenTrial._trial_id: the storage API is keyed by it; no public accessor.
            if not cached.set_trial_state_values(waiting._trial_id, state=TrialState.RUNNING):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        for key, value in owner_attrs(ctx.host, os.getpid()).items():
            cached.set_trial_user_attr(waiting._trial_id, key, value)
        # Study.sampler is a public attribute; Trial consults it as it is built and drawn.
        study.sampler = build_sampler(ctx.spec, trial_number=waiting.number)
        # As Study.ask does: samplers read the study's trials through a per-thread cache
        # (private), which must not serve the history as it was at the last claim.
        study._thread_local.cached_all_trials = None
        trial = optuna.Trial(study, waiting._trial_id)
        return trial, build_request(ctx, trial, slot)
    return None


def build_request(ctx: SweepContext, trial: optuna.Trial, slot: Slot) -> TrainRequest:
    """Resolve a claimed trial into a TrainRequest, recording its identity as user attrs."""
    spec = ctx.spec
    names = [a.name for a in spec.arms]
    arm = spec.arm(trial.suggest_categorical("arm", names) if len(names) > 1 else names[0])
    params = suggest(trial, arm.search_space)
    seed = int(trial.user_attrs.get(Attr.SEED, spec.seeds[0]))
    overrides = resolved_overrides(arm.overrides, params, spec.budget.epochs)
    tid = trial_id(arm.config, overrides, seed)
    work_dir = trial_work_dir(ctx.work_dir, arm.name, tid)
    attrs = {Attr.TRIAL_ID: tid, Attr.ARM: arm.name, Attr.SEED: seed,
             Attr.METHOD: arm.method, Attr.WORK_DIR: str(work_dir),
             Attr.LOG: str(work_dir / f"trial-{trial.number}.log")}
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    tags = {Tag.SWEEP: spec.name, Tag.ARM: arm.name, Tag.TRIAL_ID: tid,
            Tag.STUDY: ctx.study_name, Tag.TRIAL_NUMBER: str(trial.number)}
    if ctx.stage is not None:
        tags[Tag.STAGE] = ctx.stage
        trial.set_user_attr(Attr.STAGE, ctx.stage)
    hooks = (pruning_hook(ctx, trial.number),) if spec.pruner.type != "none" else ()
    searched = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in params.items())
    description = (f"{arm.method} (arm {arm.name}), seed {seed}, config {arm.config}; "
                   f"sweep {spec.name}, Optuna trial {trial.number}"
                   + (f" ({ctx.stage} stage)" if ctx.stage else "")
                   + (f"; searched: {searched}" if searched else ""))
    return TrainRequest(
        config=arm.config, work_dir=str(work_dir), seed=seed, cfg_options=overrides,
        tracking_uri=ctx.tracking_uri, experiment=ctx.experiment,
        # Method first: the MLflow runs table cuts long names from the right.
        # No dots: MLflow's logged-model names (built from the run name) reject them.
        run_name=f"{arm.method}-s{seed} · {spec.name}{'-' + ctx.stage if ctx.stage else ''}#{trial.number}",
        tags=tags,
        parent_run_id=ctx.parent_run_id, device=slot.device, cpu_threads=slot.cpu_threads,
        extra_hooks=hooks, launcher="pytorch" if slot.nproc > 1 else "none",
        trial_id=tid, trial_number=trial.number, description=description,
        objective=Objective(spec.objective.metric, spec.objective.reduce,
                            spec.objective.direction),
    )


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _finish(ctx: SweepContext, study: optuna.Study, trial: optuna.Trial,
            outcome: TrialOutcome, log_path: Path, client: MlflowClient | None,
            work_dir: Path) -> TrialState:
    """Settle the attempt's MLflow run, then tell Optuna (the run first: see below)."""
    if outcome.reused_from is not None:
        trial.set_user_attr(Attr.REUSED_FROM, outcome.reused_from)
    if outcome.failure is not None:
        trial.set_user_attr(Attr.FAILURE, outcome.failure)
        trial.set_user_attr(Attr.ERROR, (outcome.error or _tail(log_path))[-2000:])
        _log.warning("trial %d failed (%s); see %s", trial.number, outcome.failure, log_path)
    if client is not None:
        run_id = mlflow_parent.settle_trial_run(
            client, work_dir, run_id=outcome.run_id, trial_number=trial.number,
            state=outcome.state, failure=outcome.failure)
        if run_id is not None:
            trial.set_user_attr(Attr.MLFLOW_RUN_ID, run_id)
            trial.set_user_attr(Attr.MLFLOW_LINK, mlflow_parent.run_link(client, run_id))
    # Telling Optuna is the commit point: a worker killed before it leaves the trial
    # RUNNING; recovery re-queues it, and the new attempt reuses the record above.
    study.tell(trial, outcome.value if outcome.state == TrialState.COMPLETE else None,
               state=outcome.state)
    return outcome.state


def run_trial(ctx: SweepContext, study: optuna.Study, storage: optuna.storages.BaseStorage,
              trial: optuna.Trial, request: TrainRequest, slot: Slot,
              client: MlflowClient | None) -> TrialState:
    """Train one claimed trial (or reuse its finished record) and tell Optuna how it ended."""
    work_dir = Path(request.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / f"trial-{trial.number}.log"
    record = read_result(work_dir)
    if record is not None and record.finished and record.trial_id == request.trial_id:
        _log.info("trial %d: %s already holds a finished run (%s); not training again",
                  trial.number, work_dir, record.outcome.value)
        outcome = outcome_of(record, trial_number=trial.number, exit_code=None, started=None)
        return _finish(ctx, study, trial, outcome, log_path, client, work_dir)
    request_path = work_dir / f"request-{trial.number}.json"
    request.to_json(request_path)
    _log.info("trial %d: %s seed %s -> %s", trial.number, trial.user_attrs.get(Attr.ARM),
              request.seed, work_dir)
    secret_env = split_password(ctx.storage_url)[1] if request.extra_hooks else {}
    beat = ctx.heartbeat_dir / f"{ctx.study_name}-{trial.number}"
    started = time.time()
    # Trial has no public id accessor; the storage's heartbeat API is keyed by it.
    with Heartbeat(storage, trial._trial_id, beat, ctx.heartbeat_interval):
        code = LAUNCHERS[ctx.launcher](request_path, python=ctx.python,
                                       env={**ctx.env, **slot.env, **secret_env},
                                       log_path=log_path, cwd=ctx.root, nproc=slot.nproc)
    trial.set_user_attr(Attr.EXIT_CODE, code)
    if code == ExitCode.REQUEUE and release_interrupted(study, trial):
        _log.info("trial %d stopped on a signal after a checkpoint: back in the queue", trial.number)
        return TrialState.WAITING
    if ctx.launcher == "dry-run":  # nothing trained; the scratch study is thrown away
        trial.set_user_attr(Attr.FAILURE, "dry-run")
        study.tell(trial, state=TrialState.FAIL)
        return TrialState.FAIL
    outcome = outcome_of(read_result(work_dir), trial_number=trial.number, exit_code=code,
                         started=started)
    return _finish(ctx, study, trial, outcome, log_path, client, work_dir)


def run_worker(ctx: SweepContext, slot: Slot, stop: Callable[[], bool] | None = None) -> int:
    """Claim and run trials until the queue is empty, the deadline passes or ``stop()``; returns the count."""
    storage = open_storage(ctx.storage_url, heartbeat_interval=int(ctx.heartbeat_interval),
                           grace_period=int(ctx.grace_period),
                           max_retry=ctx.spec.budget.max_retry)
    study = open_study(ctx, storage)
    client = MlflowClient(ctx.tracking_uri) if ctx.parent_run_id else None
    done = 0
    while (ctx.deadline is None or time.time() < ctx.deadline) and not (stop and stop()):
        claimed = claim(ctx, study, storage, slot)
        if claimed is None:
            break
        trial, request = claimed
        try:
            run_trial(ctx, study, storage, trial, request, slot, client)
        except Exception as exc:
            # The sweep goes on; the trial records why (the trainer itself never gets here).
            _log.exception("trial %d: the sweep worker failed", trial.number)
            trial.set_user_attr(Attr.FAILURE, "worker_error")
            trial.set_user_attr(Attr.ERROR, f"{type(exc).__name__}: {exc}"[:2000])
            study.tell(trial, state=TrialState.FAIL)
        done += 1
    return done
