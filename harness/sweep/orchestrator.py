"""`harness sweep run`: queue a spec's trials in an Optuna study and drive workers over it.

1. Resolve the spec into a :class:`SweepContext` (work area, storage, MLflow target).
2. Under the study lock: fail trials left RUNNING by dead processes (in Optuna and MLflow)
   and re-queue them (bounded); queue every trial the spec asks for that the study does
   not already have (by deterministic trial id for grids, by slot for TPE/random); find or
   create the sweep's MLflow parent run.
3. Run workers (one in-process, or one process per slot) that claim queued trials until
   none is left; meanwhile poll the study for the progress display and for stale trials.
4. Log the summary on the parent run.

Re-running the same command resumes: finished trials are never queued again.
"""
from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import optuna
from mlflow import MlflowClient
from optuna.trial import FrozenTrial, TrialState

from harness.lifetime import die_with_parent
from harness.sweep import mlflow_parent
from harness.sweep.context import SweepContext
from harness.sweep.identity import resolved_overrides, trial_id
from harness.sweep.launchers import Slot
from harness.sweep.recovery import recover_stale
from harness.sweep.space import grid_points
from harness.sweep.spec import SweepSpec
from harness.sweep.status import SweepStatus, summarize, trials_csv
from harness.sweep.storage import (
    default_storage_url, normalize_url, open_storage, redact, study_lock,
)
from harness.sweep.trials import open_study, run_worker

__all__ = ["resolve_context", "planned_trials", "enqueue_missing", "prepare", "run_sweep"]

_log = logging.getLogger(__name__)
# Failures that a retry would only repeat. (bad_input is retried on a re-run: the usual
# fix, e.g. making the missing data set, does not change the trial's identity.)
FINAL_FAILURES = ("diverged",)


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


def planned_trials(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every trial the spec asks for: ``{"slot", "params", "user_attrs"}``.

    Grid: seed x arm x grid point, keyed by trial id (so a re-run, or another machine,
    recognises it). TPE/random: ``n_trials`` numbered slots, seeds in rotation; the
    sampler fills in the params when a worker claims the slot.
    """
    out = []
    if spec.sampler.type == "grid":
        multi = len(spec.arms) > 1
        # Seed-major order: a sweep cut short (timeout, n_trials) still holds paired
        # arm-vs-arm comparisons on its first seeds.
        for seed in spec.seeds:
            for arm in spec.arms:
                for point in grid_points(arm.search_space):
                    tid = trial_id(arm.config, resolved_overrides(
                        arm.overrides, point, spec.budget.epochs), seed)
                    params = {"arm": arm.name, **point} if multi else dict(point)
                    out.append({"slot": tid, "params": params, "user_attrs": {
                        "harness.slot": tid, "harness.seed": seed, "harness.arm": arm.name}})
        return out[: spec.budget.n_trials] if spec.budget.n_trials else out
    for k in range(spec.budget.n_trials or 0):
        seed = spec.seeds[k % len(spec.seeds)]
        out.append({"slot": f"slot-{k}", "params": {},
                    "user_attrs": {"harness.slot": f"slot-{k}", "harness.seed": seed}})
    return out


def _needs_trial(attempts: list[FrozenTrial], max_retry: int) -> bool:
    """Whether a planned trial should be (re-)queued given its earlier attempts."""
    if any(t.state != TrialState.FAIL for t in attempts):
        return False  # complete, pruned, queued or running
    if any(t.user_attrs.get("harness.failure") in FINAL_FAILURES for t in attempts):
        return False
    return len(attempts) <= max_retry


def enqueue_missing(study: optuna.Study, planned: list[dict[str, Any]], max_retry: int) -> int:
    """Queue the planned trials the study lacks; callers hold the study lock. Returns the count."""
    by_slot: dict[str, list[FrozenTrial]] = {}
    for t in study.get_trials(deepcopy=False):
        by_slot.setdefault(t.user_attrs.get("harness.slot"), []).append(t)
    added = 0
    for p in planned:
        if _needs_trial(by_slot.get(p["slot"], []), max_retry):
            study.enqueue_trial(p["params"], user_attrs=p["user_attrs"])
            added += 1
    return added


def _recover(ctx: SweepContext, study: optuna.Study, client: MlflowClient | None) -> None:
    failed = recover_stale(study, host=ctx.host, heartbeat_dir=ctx.heartbeat_dir,
                           grace_period=ctx.grace_period, max_retry=ctx.spec.budget.max_retry)
    for t in failed:
        _log.warning("trial %d was left running by a dead worker: failed and re-queued", t.number)
        if client is not None:
            exp_id = mlflow_parent.experiment_id(client, ctx.experiment)
            mlflow_parent.fail_child_runs(client, exp_id, sweep=ctx.spec.name,
                                          study=ctx.study_name, trial_number=t.number,
                                          reason="stale")


def prepare(ctx: SweepContext, study: optuna.Study,
            storage: optuna.storages.BaseStorage) -> tuple[SweepContext, MlflowClient | None]:
    """Recover, queue and open the parent run.

    Returns ``ctx`` with ``parent_run_id`` set, and an MLflow client (None on a dry run).
    """
    ctx.heartbeat_dir.mkdir(parents=True, exist_ok=True)
    with study_lock(ctx.storage_url, ctx.study_name, storage):
        # Under the lock: the client creates (migrates) a new SQLite store on first use,
        # and two orchestrators migrating one file at once corrupt it.
        client = MlflowClient(ctx.tracking_uri) if ctx.launcher != "dry-run" else None
        _recover(ctx, study, client)
        added = enqueue_missing(study, planned_trials(ctx.spec), ctx.spec.budget.max_retry)
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


def _start_workers(ctx: SweepContext, slots: list[Slot]) -> list[threading.Thread | Any]:
    """Start the workers: a thread for one slot (no process start-up), else processes."""
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
              poll_seconds: float = 2.0) -> SweepStatus:
    """Run (or resume) a sweep to completion; returns the final status."""
    storage = open_storage(ctx.storage_url, heartbeat_interval=int(ctx.heartbeat_interval),
                           grace_period=int(ctx.grace_period),
                           max_retry=ctx.spec.budget.max_retry)
    study = open_study(ctx, storage)
    ctx, client = prepare(ctx, study, storage)
    workers = _start_workers(ctx, slots)
    last_recovery = time.time()
    while any(w.is_alive() for w in workers):
        # Joining (not sleeping) ends the sweep the moment its last worker does.
        next(w for w in workers if w.is_alive()).join(poll_seconds)
        if on_status is not None:
            on_status(summarize(study.get_trials(deepcopy=False), ctx.spec.objective.direction))
        if time.time() - last_recovery > ctx.grace_period / 2:
            # A worker process killed mid-sweep: its trial goes back to the queue now.
            with study_lock(ctx.storage_url, ctx.study_name, storage):
                _recover(ctx, study, client)
            last_recovery = time.time()
    trials = study.get_trials(deepcopy=False)
    status = summarize(trials, ctx.spec.objective.direction)
    if on_status is not None:
        on_status(status)
    if client is not None and ctx.parent_run_id:
        mlflow_parent.close_parent(client, ctx.parent_run_id, status.as_dict(),
                                   trials_csv(trials), finished=status.n_left == 0)
    return status
