"""The SLURM commands a sweep uses: sbatch, squeue, sacct, scancel, scontrol requeue.

Every function runs the real client tools (they read ``SLURM_CONF`` from the environment
they are given) and turns their output into typed records; a missing tool or a failed
command is a :class:`SlurmError` with SLURM's own one-line message.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SlurmError", "SlurmJob", "configured", "submit", "queued_jobs", "finished_jobs", "cancel", "requeue"]

_SEP = "|"


class SlurmError(RuntimeError):
    """A SLURM command is missing or failed; the message is one line."""


@dataclass(frozen=True)
class SlurmJob:
    """One array task as squeue or sacct reports it."""

    job_id: str  # "<array job>_<task>" (squeue shows a pending range as "<array job>_[0-3]")
    state: str  # RUNNING, PENDING, COMPLETED, CANCELLED, ...
    elapsed: str
    where: str  # the node, or why it is pending / its exit code once finished


# Where SLURM's clients look for the cluster's configuration, besides $SLURM_CONF
# (/run/slurm/conf: the copy slurmd keeps on nodes of a "configless" cluster).
_CONF_FILES = ("/etc/slurm/slurm.conf", "/run/slurm/conf/slurm.conf", "/etc/slurm-llnl/slurm.conf")


def configured(env: Mapping[str, str]) -> bool:
    """Whether SLURM's client tools are here and find a cluster configuration.

    Without one, squeue retries for a minute before it fails; a machine with the clients
    installed but no cluster (a CI runner) must not pay that on every ``sweep status``.
    """
    if shutil.which("squeue", path=env.get("PATH")) is None:
        return False
    conf = env.get("SLURM_CONF")
    return Path(conf).is_file() if conf else any(Path(p).is_file() for p in _CONF_FILES)


def _run(cmd: list[str], env: Mapping[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    if shutil.which(cmd[0], path=(env or {}).get("PATH")) is None:
        raise SlurmError(f"{cmd[0]} not found: this machine is not a SLURM submit host "
                         "(or SLURM's client tools are not on PATH)")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=None if env is None else dict(env),
                              timeout=120)
    except subprocess.TimeoutExpired as exc:
        raise SlurmError(f"{cmd[0]}: no answer from the cluster in {exc.timeout:.0f} s") from exc
    if check and proc.returncode != 0:
        message = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()[-1]
        raise SlurmError(f"{cmd[0]}: {message}")
    return proc


def submit(script: Path, env: Mapping[str, str]) -> str:
    """Submit ``script`` with ``sbatch``; returns the array job id."""
    out = _run(["sbatch", "--parsable", str(script)], env).stdout.strip()
    return out.split(";", 1)[0]  # "<id>[;<cluster>]"


def queued_jobs(name: str, env: Mapping[str, str] | None = None) -> list[SlurmJob]:
    """The user's pending and running array tasks named ``name`` (squeue)."""
    out = _run(["squeue", "--me", "--noheader", "--array", f"--name={name}",
                f"--format=%i{_SEP}%T{_SEP}%M{_SEP}%R"], env).stdout
    return [SlurmJob(*line.split(_SEP, 3)) for line in out.splitlines() if line.strip()]


def finished_jobs(name: str, env: Mapping[str, str] | None = None) -> list[SlurmJob] | str:
    """The user's ended array tasks named ``name`` (sacct), or why sacct cannot tell.

    sacct needs the cluster's accounting database (slurmdbd); without one it says so and
    only the queue is known.
    """
    proc = _run(["sacct", "--noheader", "--parsable2", "--allocations", f"--name={name}",
                 "--format=JobID,State,Elapsed,ExitCode"], env, check=False)
    if proc.returncode != 0:
        return (proc.stderr.strip() or "sacct failed").splitlines()[-1]
    jobs = [SlurmJob(*line.split(_SEP, 3)) for line in proc.stdout.splitlines() if line.strip()]
    return [j for j in jobs if j.state not in ("RUNNING", "PENDING", "REQUEUED")]


def cancel(name: str, env: Mapping[str, str] | None = None) -> None:
    """Cancel every array task named ``name``: SIGTERM to each process, SIGKILL after KillWait."""
    _run(["scancel", "--me", f"--name={name}"], env)


def requeue(job_id: str, env: Mapping[str, str] | None = None) -> None:
    """Put a running array task back in the queue (``scontrol requeue``; needs ``--requeue``)."""
    _run(["scontrol", "requeue", job_id], env)
