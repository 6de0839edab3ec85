"""`harness sweep run`: queue a spec's trials in an Optuna study and drive workers over it.

1. Resolve the spec into a :class:`SweepContext` (work area, storage, MLflow target).
2. Under the study lock: fail trials left RUNNING by dead processes (in Optuna and MLflow)
   and re-queue them (bounded); queue every trial the spec asks for that the study does
   not already have (by deterministic trial id for grids, by slot for TPE/random); find or
   create the sweep's MLflow parent run.
3. Run workers (one in-process, or one process per slot) that claim queued trials until
   none is left; meanwhile poll the study for the progress display and for stale trials.
   Then queue failed trials again within their retry budget, and go round again.
4. Log the summary on the parent run; ``status.missing`` names every planned trial that
   did not end COMPLETE, PRUNED or with a final failure (the CLI exits non-zero then).

Re-running the same command resumes: settled trials are never queued again.
"""
from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import threading
import time
import warnings
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import optuna
from mlflow import MlflowClient
from optuna.trial import TrialState

from harness.contracts import Attr, Outcome
from harness.lifetime import die_with_parent
from harness.sweep import mlflow_parent
from harness.sweep.context import SweepContext
from harness.sweep.launchers import Slot
from harness.sweep.plan import PlannedTrial, attempts_by_slot, needs_attempt, planned_trials
from harness.sweep.recovery import recover_stale
from harness.sweep.spec import SweepSpec
from harness.sweep.status import SweepStatus, summarize, trials_csv
from harness.sweep.storage import (
    default_storage_url,
    normalize_url,
    open_storage,
    redact,
    study_lock,
)
from harness.sweep.trials import open_study, run_worker
from harness.train.result import read_result

__all__ = ["resolve_context", "planned_trials", "enqueue_missing", "prepare", "run_sweep"]

_log = logging.getLogger(__name__)


def resolve_context(spec: SweepSpec, *, root: Path, host: str, python: str,
                    env: dict[str, str], storage: str | None = None,
                    launcher: str = "subprocess", **options: Any) -> SweepContext:
    """Fill the spec's defaults: work area under ``root``, journal storage, SQLite MLflow."""
    root = Path(root).resolve()
    work_dir = (root / (spec.work_dir or f"work_dirs/sweeps/{spec.name}")).resolve()
    url = normalize_url(storage or spec.storage or default_storage_url(work_dir), base=root)
    tracking = spec.mlflow.tracking_uri or f"sqlite:///{work_dir / 'mlflow.db'}"
    return SweepContext(spec=spec, root=root, work_dir=work_dir, storage_url=url,
                        tracking_uri=tracking, experiment=spec.mlflow.experiment or "harness",
                        host=host, python=python, env=env, launcher=launcher, **options)


def enqueue_missing(study: optuna.Study, planned: list[PlannedTrial], max_retry: int, *,
                    retry_failed: bool = False, skip: tuple[str, ...] = ()) -> int:
    """Queue the planned trials that need an attempt; callers hold the study lock.

    ``retry_failed`` gives trials whose retry budget is spent one more attempt; ``skip``
    names failures that wait for a re-run. Returns how many were queued.
    """
    attempts = attempts_by_slot(study.get_trials(deepcopy=False))
    added = 0
    for p in planned:
        if needs_attempt(attempts.get(p.slot, []), max_retry, retry_failed=retry_failed,
                         skip=skip):
            study.enqueue_trial(dict(p.params), user_attrs=p.user_attrs)
            added += 1
    return added


def _recover(ctx: SweepContext, study: optuna.Study, client: MlflowClient | None) -> None:
    failed = recover_stale(study, host=ctx.host, heartbeat_dir=ctx.heartbeat_dir,
                           grace_period=ctx.grace_period, max_retry=ctx.spec.budget.max_retry)
    for t in failed:
        _log.warning("trial %d was left running by a dead worker: failed and re-queued", t.number)
        work_dir = t.user_attrs.get(Attr.WORK_DIR)
        if client is not None and work_dir:
            record = read_result(work_dir)
            # A trainer that finished before its worker died: its run stays FINISHED, and
            # the re-queued attempt reuses the record without training.
            done = record is not None and record.outcome == Outcome.COMPLETE
            mlflow_parent.settle_trial_run(
                client, work_dir, run_id=record.run_id if record else None,
                trial_number=t.number, state=TrialState.COMPLETE if done else TrialState.FAIL,
                failure="stale")


def prepare(ctx: SweepContext, study: optuna.Study, storage: optuna.storages.BaseStorage,
            *, retry_failed: bool = False) -> tuple[SweepContext, MlflowClient | None]:
    """Recover, queue and open the parent run.

    Returns ``ctx`` with ``parent_run_id`` set, and an MLflow client (None on a dry run).
    """
    ctx.heartbeat_dir.mkdir(parents=True, exist_ok=True)
    with study_lock(ctx.storage_url, ctx.study_name, storage):
        # Under the lock: the client creates (migrates) a new SQLite store on first use,
        # and two orchestrators migrating one file at once corrupt it.
        client = MlflowClient(ctx.tracking_uri) if ctx.launcher != "dry-run" else None
        _recover(ctx, study, client)
        added = enqueue_missing(study, planned_trials(ctx.spec), ctx.spec.budget.max_retry,
                                retry_failed=retry_failed)
        if not study.metric_names:
            # optuna-dashboard labels the objective by it ("Objective 0" otherwise).
            with warnings.catch_warnings():  # "experimental" since Optuna 3.2
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names([ctx.spec.objective.metric])
        parent = None
        if client is not None:
            spec = ctx.spec
            parent = mlflow_parent.open_parent(
                client, mlflow_parent.experiment_id(client, ctx.experiment), sweep=spec.name,
                study=ctx.study_name, storage_redacted=redact(ctx.storage_url),
                spec_file=spec.path, spec_text=spec.text,
                params={"sampler": spec.sampler.type, "pruner": spec.pruner.type,
                        "arms": ",".join(a.name for a in spec.arms),
                        "seeds": ",".join(map(str, spec.seeds)),
                        "max_epochs": spec.budget.epochs})
    _log.info("study %r: %d trials queued now; storage %s", ctx.study_name, added,
              redact(ctx.storage_url))
    return dataclasses.replace(ctx, parent_run_id=parent), client


def _worker_process(ctx: SweepContext, slot: Slot, parent_pid: int, level: int,
                    optuna_level: int) -> None:
    die_with_parent()  # a kill -9 of the orchestrator takes its workers along
    if os.getppid() != parent_pid:
        return
    # A spawned process starts with default logging; carry over the orchestrator's.
    logging.basicConfig(level=level, format=f"%(asctime)s worker{slot.index} %(message)s")
    optuna.logging.set_verbosity(optuna_level)
    run_worker(ctx, slot)


def _start_workers(ctx: SweepContext, slots: list[Slot]) -> list[threading.Thread | BaseProcess]:
    """Start the workers: a thread for one slot (no process start-up), else processes."""
    workers: list[threading.Thread | BaseProcess]
    if len(slots) == 1:
        workers = [threading.Thread(target=run_worker, args=(ctx, slots[0]), name="worker0")]
    else:
        mp = multiprocessing.get_context("spawn")  # fork would copy MLflow/SQLAlchemy state
        workers = [mp.Process(target=_worker_process, name=f"worker{s.index}",
                              args=(ctx, s, os.getpid(), logging.getLogger().level,
                                    optuna.logging.get_verbosity())) for s in slots]
    for w in workers:
        w.start()
    return workers


def run_sweep(ctx: SweepContext, slots: list[Slot], *,
              on_status: Callable[[SweepStatus], None] | None = None,
              poll_seconds: float = 2.0, retry_failed: bool = False,
              finish_parent: bool = True) -> SweepStatus:
    """Run (or resume) a sweep until every planned trial is settled or out of retries.

    Failed attempts within the retry budget are queued again after each round of
    workers (bad input waits for a re-run: repeating it now would fail the same way).
    Returns the final status; ``status.missing`` lists what is not settled.
    ``finish_parent=False`` (a protocol's stage) logs the summary but leaves the parent
    run open: the protocol, not its stage, is what finishes.
    """
    storage = open_storage(ctx.storage_url, heartbeat_interval=int(ctx.heartbeat_interval),
                           grace_period=int(ctx.grace_period),
                           max_retry=ctx.spec.budget.max_retry)
    study = open_study(ctx, storage)
    ctx, client = prepare(ctx, study, storage, retry_failed=retry_failed)
    planned = planned_trials(ctx.spec)
    while True:
        if _count(study, TrialState.WAITING):
            _drive(ctx, study, storage, client, slots, planned, on_status, poll_seconds)
        if ctx.launcher == "dry-run" or _past(ctx.deadline):
            break
        with study_lock(ctx.storage_url, ctx.study_name, storage):
            _recover(ctx, study, client)
            again = enqueue_missing(study, planned, ctx.spec.budget.max_retry,
                                    skip=(Outcome.BAD_INPUT.value,))
        if again:
            _log.info("%d failed trial(s) queued again (retry budget %d)", again,
                      ctx.spec.budget.max_retry)
        elif _count(study, TrialState.RUNNING):
            # Other orchestrators' trials: wait for their answers (or for their owners to
            # die and the trials to come back to the queue) before calling the sweep done.
            _wait_for_others(ctx, study, storage, client, planned, on_status, poll_seconds)
        else:
            break
    trials = study.get_trials(deepcopy=False)
    status = summarize(trials, ctx.spec.objective.direction, planned=planned,
                       max_retry=ctx.spec.budget.max_retry)
    if on_status is not None:
        on_status(status)
    if client is not None and ctx.parent_run_id:
        mlflow_parent.close_parent(client, ctx.parent_run_id, status.as_dict(),
                                   trials_csv(trials), finished=finish_parent and not status.missing)
    return status


def _count(study: optuna.Study, state: TrialState) -> int:
    return len(study.get_trials(deepcopy=False, states=(state,)))


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.time() >= deadline


def _wait_for_others(ctx: SweepContext, study: optuna.Study,
                     storage: optuna.storages.BaseStorage, client: MlflowClient | None,
                     planned: list[PlannedTrial],
                     on_status: Callable[[SweepStatus], None] | None, poll_seconds: float) -> None:
    _log.info("waiting for %d trial(s) running elsewhere", _count(study, TrialState.RUNNING))
    last_recovery = time.time()
    while _count(study, TrialState.RUNNING) and not _count(study, TrialState.WAITING) \
            and not _past(ctx.deadline):
        time.sleep(poll_seconds)
        last_recovery = _tick(ctx, study, storage, client, planned, on_status, last_recovery)


def _tick(ctx: SweepContext, study: optuna.Study, storage: optuna.storages.BaseStorage,
          client: MlflowClient | None, planned: list[PlannedTrial],
          on_status: Callable[[SweepStatus], None] | None, last_recovery: float) -> float:
    """Show progress; every half grace period, recover trials of dead workers (a worker
    killed mid-sweep: its trial goes back to the queue now). Returns the last recovery time."""
    if on_status is not None:
        on_status(summarize(study.get_trials(deepcopy=False), ctx.spec.objective.direction,
                            planned=planned, max_retry=ctx.spec.budget.max_retry))
    if time.time() - last_recovery <= ctx.grace_period / 2:
        return last_recovery
    with study_lock(ctx.storage_url, ctx.study_name, storage):
        _recover(ctx, study, client)
    return time.time()


def _drive(ctx: SweepContext, study: optuna.Study, storage: optuna.storages.BaseStorage,
           client: MlflowClient | None, slots: list[Slot], planned: list[PlannedTrial],
           on_status: Callable[[SweepStatus], None] | None, poll_seconds: float) -> None:
    """One round: workers claim queued trials until none is left."""
    workers = _start_workers(ctx, slots)
    last_recovery = time.time()
    while any(w.is_alive() for w in workers):
        # Joining (not sleeping) ends the round the moment its last worker does.
        next(w for w in workers if w.is_alive()).join(poll_seconds)
        last_recovery = _tick(ctx, study, storage, client, planned, on_status, last_recovery)
