"""``harness sweep submit SPEC --slurm``, ``cancel`` and the jobs part of ``status``.

Submitting queues the study exactly as ``harness sweep run`` does (recover, queue the
planned trials, open the MLflow parent run: ``orchestrator.prepare``), then submits one
sbatch job array whose tasks are sweep workers (:mod:`harness.slurm.worker`).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from optuna.trial import TrialState

from harness.slurm import jobs
from harness.slurm.script import SbatchOptions, job_name, render_script
from harness.storage import (
    SHARED_FILESYSTEMS,
    filesystem_type,
    redact,
    split_password,
    unshared_storage,
    unshared_tracking,
)
from harness.sweep.context import SweepContext
from harness.sweep.orchestrator import prepare
from harness.sweep.storage import open_storage
from harness.sweep.trials import open_study

__all__ = ["Submission", "storage_problems", "work_dir_warning", "worker_command", "sweep_script", "submit_sweep",
           "cancel_sweep", "jobs_lines"]


@dataclass(frozen=True)
class Submission:
    """A submitted sweep: the array job, its script and log folder, the queue it serves."""

    job_id: str
    script: Path
    log_dir: Path
    queued: int
    running: int


def storage_problems(ctx: SweepContext, spec_path: str) -> list[str]:
    """One line per store the cluster's nodes could not share, naming the spec file."""
    problems = []
    why = unshared_storage(ctx.storage_url)
    if why:
        problems.append(f"{spec_path}: Optuna storage {redact(ctx.storage_url)} {why}")
    why = unshared_tracking(ctx.tracking_uri)
    if why:
        problems.append(f"{spec_path}: MLflow tracking URI {ctx.tracking_uri} {why}")
    return problems


def work_dir_warning(ctx: SweepContext) -> str | None:
    """A warning when the sweep's work dir (checkpoints, result records, heartbeats) is node-local.

    Not an error: on a single-node cluster it is right; on several nodes a trial resumed on
    another node starts over instead of resuming, and its finished record is not seen.
    """
    path = ctx.work_dir if ctx.work_dir.exists() else next(p for p in ctx.work_dir.parents if p.exists())
    kind = filesystem_type(path)
    if kind in SHARED_FILESYSTEMS:
        return None
    return (f"work dir {ctx.work_dir} is on a node-local file system ({kind}): fine on one node; on several, "
            "put it on a shared file system (spec work_dir) so a requeued trial finds its checkpoint")


def worker_command(ctx: SweepContext) -> list[str]:
    """The array task's command; the storage password stays out of it (see ``submit_sweep``)."""
    assert ctx.spec.path, "a submitted spec comes from a file"
    command = [ctx.python, "-m", "harness.slurm.worker", str(Path(ctx.spec.path).resolve()),
               "--storage", split_password(ctx.storage_url)[0], "--tracking-uri", ctx.tracking_uri]
    if ctx.launcher != "subprocess":
        command += ["--launcher", ctx.launcher]
    return command


def _log_dir(ctx: SweepContext) -> Path:
    return ctx.work_dir / "slurm"


def sweep_script(ctx: SweepContext, options: SbatchOptions) -> str:
    """The sbatch script ``submit_sweep`` would submit (``--dry-run`` prints it)."""
    return render_script(options, study=ctx.study_name, root=ctx.root, log_dir=_log_dir(ctx),
                         worker_command=worker_command(ctx))


def submit_sweep(ctx: SweepContext, options: SbatchOptions, env: Mapping[str, str]) -> Submission:
    """Queue the study, write the script into the work dir, submit it; returns the submission.

    The storage password reaches the tasks as ``PGPASSWORD`` in the environment sbatch
    passes on (``--export=ALL``, its default), never in the script file.
    """
    script_text = sweep_script(ctx, options)
    if not jobs.configured(env):  # before anything is queued
        raise jobs.SlurmError("no SLURM cluster here (sbatch, or a slurm.conf: $SLURM_CONF, /etc/slurm): "
                              "submit from the cluster's login node")
    storage = open_storage(ctx.storage_url, heartbeat_interval=int(ctx.heartbeat_interval),
                           grace_period=int(ctx.grace_period), max_retry=ctx.spec.budget.max_retry)
    study = open_study(ctx, storage)
    prepare(ctx, study, storage)
    log_dir = _log_dir(ctx)
    log_dir.mkdir(parents=True, exist_ok=True)
    script = log_dir / f"{ctx.study_name}-{time.strftime('%Y%m%d-%H%M%S')}.sbatch"
    script.write_text(script_text)
    job_id = jobs.submit(script, {**env, **split_password(ctx.storage_url)[1]})
    trials = study.get_trials(deepcopy=False)
    return Submission(job_id, script, log_dir,
                      queued=sum(t.state == TrialState.WAITING for t in trials),
                      running=sum(t.state == TrialState.RUNNING for t in trials))


def cancel_sweep(ctx: SweepContext, env: Mapping[str, str], *, wait_seconds: float = 120.0) -> list[jobs.SlurmJob]:
    """Cancel the study's array tasks and wait for them to leave the queue.

    Cancelling sends SIGTERM: each trainer checkpoints and its trial goes back to the queue;
    a trial whose worker is killed before that is recovered by the next run or submit.
    Returns the tasks still queued after ``wait_seconds`` (empty when all are gone).
    """
    name = job_name(ctx.study_name)
    jobs.cancel(name, env)
    deadline = time.time() + wait_seconds
    left = jobs.queued_jobs(name, env)
    while left and time.time() < deadline:
        time.sleep(1.0)
        left = jobs.queued_jobs(name, env)
    return left


def jobs_lines(ctx: SweepContext, env: Mapping[str, str]) -> list[str]:
    """The study's SLURM tasks for ``harness sweep status``: queued ones, then ended ones."""
    name = job_name(ctx.study_name)
    try:
        queued = jobs.queued_jobs(name, env)
    except jobs.SlurmError as exc:
        return [f"SLURM jobs: unknown ({exc})"]
    lines = [f"SLURM jobs {name}: {len(queued)} queued or running"]
    lines += [f"  {j.job_id:<14} {j.state:<11} {j.elapsed:>10}  {j.where}" for j in queued]
    ended = jobs.finished_jobs(name, env)
    if isinstance(ended, str):
        lines.append(f"  (ended tasks unknown: {ended})")
    else:
        lines += [f"  {j.job_id:<14} {j.state:<11} {j.elapsed:>10}  exit {j.where}" for j in ended]
    return lines
