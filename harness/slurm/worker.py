"""``python -m harness.slurm.worker SPEC --storage URL ...``: one array task of a SLURM sweep.

The sbatch script ``exec``s it, so it is the batch shell. It sizes its slots from its
allocation, then, like ``harness sweep run`` (whose ``prepare`` and worker loop it
reuses), recovers and queues under the study lock and claims trials until none is left.

SIGUSR1 (SLURM's warning before the time limit) and SIGTERM (cancel, preemption, requeue)
stop it: no new claim; the signal goes on to its trainers as SIGTERM (torchrun passes
that to its ranks), each checkpoints at its next iteration and exits with
``ExitCode.REQUEUE``, and its trial goes back to the queue. After SIGUSR1 the task then
requeues itself while trials are still queued; after SIGTERM it does not (a cancel must
stay cancelled; SLURM itself requeues a preempted job).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

import optuna
from optuna.trial import TrialState

from harness.contracts import ExitCode
from harness.slurm import jobs
from harness.slurm.allocation import slots_from_allocation
from harness.sweep import mlflow_parent
from harness.sweep.context import SweepContext
from harness.sweep.launchers import Slot
from harness.sweep.orchestrator import prepare, resolve_context
from harness.sweep.plan import planned_trials
from harness.sweep.spec import SpecError, load_spec
from harness.sweep.status import SweepStatus, summarize, trials_csv
from harness.sweep.storage import open_storage
from harness.sweep.trials import open_study, run_worker

__all__ = ["TaskStop", "serve", "task_id", "main"]

_log = logging.getLogger("harness.slurm")


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (its trainers), from /proc."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


class TaskStop:
    """Set by SIGUSR1 or SIGTERM; passes the stop on to this process's trainers."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signals: list[int] = []

    def __call__(self) -> bool:
        return self._event.is_set()

    @property
    def requeue(self) -> bool:
        """Whether the task should requeue itself: the time-limit warning came first."""
        return bool(self.signals) and self.signals[0] == signal.SIGUSR1

    def handle(self, signum: int, frame: FrameType | None) -> None:
        first = not self._event.is_set()
        self.signals.append(signum)
        self._event.set()
        if first:
            _log.warning("signal %d: no new trial; trainers checkpoint and stop", signum)
        for child in _children(os.getpid()):
            with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                os.kill(child, signal.SIGTERM)


def _count(study: optuna.Study, *states: TrialState) -> int:
    return len(study.get_trials(deepcopy=False, states=states))


def serve(ctx: SweepContext, slots: list[Slot], stop: TaskStop) -> SweepStatus:
    """Claim and run trials on ``slots`` until none is queued or ``stop()``; returns the status.

    Each round recovers trials of dead workers and queues failed ones again within their
    retry budget (``orchestrator.prepare``, under the study lock). The task that finds
    nothing queued or running closes the sweep's parent run with the summary.
    """
    storage = open_storage(ctx.storage_url, heartbeat_interval=int(ctx.heartbeat_interval),
                           grace_period=int(ctx.grace_period), max_retry=ctx.spec.budget.max_retry)
    study = open_study(ctx, storage)
    client = None
    while not stop():
        ctx, client = prepare(ctx, study, storage)
        if not _count(study, TrialState.WAITING):
            break
        workers = [threading.Thread(target=run_worker, args=(ctx, s, stop), name=f"worker{s.index}")
                   for s in slots]
        for w in workers:
            w.start()
        for w in workers:
            while w.is_alive():
                w.join(1.0)  # a timed join keeps the main thread free for signal handlers
    trials = study.get_trials(deepcopy=False)
    status = summarize(trials, ctx.spec.objective.direction, planned=planned_trials(ctx.spec),
                       max_retry=ctx.spec.budget.max_retry)
    if client is not None and ctx.parent_run_id and not stop() and not status.n_left:
        mlflow_parent.close_parent(client, ctx.parent_run_id, status.as_dict(), trials_csv(trials),
                                   finished=not status.missing)
    return status


def task_id(env: Mapping[str, str]) -> str | None:
    """This array task's id for scontrol (``<array job>_<task>``), or the plain job id."""
    if env.get("SLURM_ARRAY_JOB_ID") and env.get("SLURM_ARRAY_TASK_ID"):
        return f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    return env.get("SLURM_JOB_ID")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.slurm.worker", description=__doc__)
    parser.add_argument("spec")
    parser.add_argument("--storage", required=True)
    parser.add_argument("--tracking-uri")
    parser.add_argument("--launcher", default="subprocess")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(name)s: %(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    env = dict(os.environ)
    try:
        spec = load_spec(args.spec, root=Path.cwd())
    except SpecError as exc:
        for line in exc.problems:
            _log.error("%s", line)
        return ExitCode.BAD_INPUT
    ctx = resolve_context(spec, root=Path.cwd(), host=socket.gethostname(), python=sys.executable,
                          env=env, storage=args.storage, launcher=args.launcher)
    if args.tracking_uri:
        ctx = dataclasses.replace(ctx, tracking_uri=args.tracking_uri)
    slots = slots_from_allocation(spec.resources, env)
    _log.info("task %s: %d slot(s): %s", task_id(env), len(slots),
              ", ".join(f"{s.device} {s.env.get('CUDA_VISIBLE_DEVICES') or '-'} x{s.cpu_threads} threads"
                        for s in slots))
    stop = TaskStop()
    for signum in (signal.SIGUSR1, signal.SIGTERM):
        signal.signal(signum, stop.handle)
    status = serve(ctx, slots, stop)
    _log.info("task %s ends: %d done, %d queued, %d running", task_id(env), status.n_done,
              status.counts["WAITING"], status.counts["RUNNING"])
    if not stop():
        return ExitCode.OK
    job = task_id(env)
    if stop.requeue and status.counts["WAITING"] and job:
        _log.warning("requeueing task %s: %d trial(s) still queued", job, status.counts["WAITING"])
        jobs.requeue(job, env)
    return ExitCode.REQUEUE


if __name__ == "__main__":
    sys.exit(main())
