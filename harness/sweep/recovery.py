"""Liveness of running trials: heartbeats, stale-trial detection and bounded retries.

Optuna's RDB storages have heartbeats (``heartbeat_interval``/``grace_period``); the
journal storage has none. This module gives both the same behaviour:

- the worker that owns a trial records its host, pid and pid start time as user attrs and
  touches ``<heartbeat_dir>/<study>-<number>`` every few seconds (and, on RDB, calls
  ``storage.record_heartbeat``);
- a RUNNING trial is stale when its owner is on this host and that process is gone
  (kill -9 is detected at once), or when its heartbeat is older than the grace period;
- a stale trial is set FAIL and re-queued as WAITING with the same params, up to
  ``max_retry`` times, like Optuna's ``RetryHeartbeatStaleTrialCallback``.
"""
from __future__ import annotations

import copy
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback, fail_stale_trials
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled  # private: see Heartbeat
from optuna.trial import FrozenTrial, TrialState

from harness.contracts import Attr

__all__ = ["ATTEMPT_ATTRS", "owner_attrs", "process_start_time", "Heartbeat", "Requeue",
           "find_stale", "recover_stale", "release_interrupted"]

# Per-attempt user attrs: not carried over to a retry (a retry is a new attempt).
ATTEMPT_ATTRS = Attr.ATTEMPT


def process_start_time(pid: int) -> str | None:
    """The start time (clock ticks since boot) of ``pid`` from /proc, or None if it is gone.

    Comparing it guards against a recycled pid after a reboot or a long run.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so split after its ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def owner_attrs(host: str, pid: int) -> dict[str, Any]:
    """User attrs naming the process that runs a trial (see :func:`find_stale`)."""
    return {Attr.HOST: host, Attr.PID: pid, Attr.PID_START: process_start_time(pid) or ""}


def _heartbeat_file(heartbeat_dir: Path, study_name: str, number: int) -> Path:
    return heartbeat_dir / f"{study_name}-{number}"


class Heartbeat:
    """Context manager: a daemon thread beating for one trial until the block exits.

    Uses Optuna's private ``optuna.storages._heartbeat``: no public API records a heartbeat
    outside ``Study.optimize()``, which a sweep worker does not use.
    """

    def __init__(self, storage: optuna.storages.BaseStorage, trial_id: int, path: Path,
                 interval: float):
        self._storage, self._trial_id, self._path = storage, trial_id, path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="harness-heartbeat")

    def _beat(self) -> None:
        self._path.touch()
        # The isinstance is is_heartbeat_enabled's own first test, spelled out for the type checker.
        if isinstance(self._storage, BaseHeartbeat) and is_heartbeat_enabled(self._storage):
            self._storage.record_heartbeat(self._trial_id)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._beat()

    def __enter__(self) -> Heartbeat:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._path.unlink(missing_ok=True)


class Requeue(RetryHeartbeatStaleTrialCallback):
    """Optuna's retry callback, minus the dead attempt's user attrs (host, pid, failure)."""

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        retry = copy.deepcopy(trial)
        retry.user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in ATTEMPT_ATTRS}
        super().__call__(study, retry)


def find_stale(trials: list[FrozenTrial], *, study_name: str, host: str,
               heartbeat_dir: Path, grace_period: float, now: float) -> list[FrozenTrial]:
    """RUNNING trials whose owner died (same host) or stopped beating for ``grace_period``."""
    stale = []
    for t in trials:
        if t.state != TrialState.RUNNING:
            continue
        attrs = t.user_attrs
        if (attrs.get(Attr.HOST) == host and Attr.PID in attrs
                and process_start_time(int(attrs[Attr.PID])) != attrs.get(Attr.PID_START)):
            stale.append(t)
            continue
        beat = _heartbeat_file(heartbeat_dir, study_name, t.number)
        if beat.exists():
            last = beat.stat().st_mtime
        else:
            # Optuna sets it for every trial past WAITING (FrozenTrial validates that).
            assert t.datetime_start is not None
            last = t.datetime_start.timestamp()
        if now - last > grace_period:
            stale.append(t)
    return stale


def recover_stale(study: optuna.Study, *, host: str, heartbeat_dir: Path, grace_period: float,
                  max_retry: int, now: float | None = None) -> list[FrozenTrial]:
    """Fail stale trials, re-queue them (bounded), and return the trials that were failed."""
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    storage = study._storage  # Optuna's own fail_stale_trials works on it too
    with warnings.catch_warnings():
        # fail_stale_trials and the retry callback are "experimental" since Optuna 2.8/2.9.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _recover(study, storage, running, host=host, heartbeat_dir=heartbeat_dir,
                        grace_period=grace_period, max_retry=max_retry,
                        now=time.time() if now is None else now)


def _recover(study: optuna.Study, storage: optuna.storages.BaseStorage,
             running: list[FrozenTrial], *, host: str, heartbeat_dir: Path, grace_period: float,
             max_retry: int, now: float) -> list[FrozenTrial]:
    # On RDB, Optuna's heartbeat finds trials that stopped beating on any machine.
    fail_stale_trials(study)
    failed = [t for t in running
              # FrozenTrial._trial_id: the storage API is keyed by it; no public accessor.
              if storage.get_trial(t._trial_id).state == TrialState.FAIL]
    still = [t for t in running if t not in failed]
    for t in find_stale(still, study_name=study.study_name, host=host,
                        heartbeat_dir=heartbeat_dir, grace_period=grace_period, now=now):
        try:
            if not storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another orchestrator got there first
        Requeue(max_retry=max_retry)(study, storage.get_trial(t._trial_id))
        failed.append(t)
    return failed


def release_interrupted(study: optuna.Study, trial: optuna.Trial) -> bool:
    """Put a trial whose trainer checkpointed and stopped on a signal back in the queue.

    The same Optuna trial goes RUNNING -> WAITING (both storages allow it; FAIL plus a
    re-queued copy would spend a retry and give the resumed run a new trial number), so
    the next claim, by any worker or by the requeued SLURM task, resumes it from its
    checkpoint into the same MLflow run. Returns False when the trial is no longer RUNNING
    (recovery failed it meanwhile): the caller then settles it as usual.
    """
    storage = study._storage  # Study._storage (private): the claim's cached storage, as in claim()
    # Trial has no public id accessor; the storage API is keyed by it.
    trial_id = trial._trial_id
    if storage.get_trial(trial_id).state != TrialState.RUNNING:
        return False
    count = int(trial.user_attrs.get(Attr.PREEMPTIONS, 0)) + 1
    storage.set_trial_user_attr(trial_id, Attr.PREEMPTIONS, count)
    try:
        return storage.set_trial_state_values(trial_id, TrialState.WAITING)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
