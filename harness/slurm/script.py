"""The sbatch script of a sweep: a job array of sweep workers, written out to be read.

A generated script rather than submitit: it adds no dependency, it is the file a cluster's
support staff asks to see, ``--dry-run`` prints exactly what would be submitted, and it
is kept next to the sweep's work dir after submission.

Preemption (see docs/architecture.md): ``--signal=B:USR1@<warn>`` sends SIGUSR1 to the
batch shell alone, before the time limit; the script ``exec``s the worker, so the worker
is the batch shell. It passes the stop on to its trainers, puts their trials back in the
queue once they have checkpointed, and requeues its own array task (``--requeue``).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SbatchOptions", "job_name", "render_script", "parse_time_limit", "SlurmOptionError"]

_COMMENT_PREFIX = "harness-sweep:"


class SlurmOptionError(ValueError):
    """An sbatch option that cannot work (e.g. a warning longer than the time limit)."""


@dataclass(frozen=True)
class SbatchOptions:
    """What ``harness sweep submit --slurm`` asks SLURM for.

    Attributes:
        workers: array tasks, each one sweep worker.
        gpus_per_worker, cpus_per_worker: resources of one task.
        partition, time, account, mem: passed to sbatch as given (None: the cluster's default).
        warn_seconds: how long before the time limit SLURM sends SIGUSR1.
        extra: further sbatch flags, one token each.
    """

    workers: int = 1
    gpus_per_worker: int = 0
    cpus_per_worker: int = 1
    partition: str | None = None
    time: str | None = None
    account: str | None = None
    mem: str | None = None
    warn_seconds: int = 300
    extra: tuple[str, ...] = field(default_factory=tuple)


def job_name(study: str) -> str:
    """The name every array task of the study carries (``squeue --name`` finds them)."""
    return f"harness-{study}"


def parse_time_limit(value: str) -> int:
    """Seconds of a SLURM time limit: ``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``, ``D-H:M:S``."""
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", value.strip())
    if m is None:
        raise SlurmOptionError(f"--time {value!r} is not a SLURM time limit (e.g. 90, 4:00:00, 1-12)")
    days, a, b, c = (int(g) if g is not None else None for g in m.groups())
    assert a is not None  # the pattern requires it
    if days is not None:  # D-H[:M[:S]]
        return days * 86400 + a * 3600 + (b or 0) * 60 + (c or 0)
    if c is not None:  # H:M:S
        return a * 3600 + (b or 0) * 60 + c
    return a * 60 + (b or 0)  # M or M:S


def _directives(options: SbatchOptions, study: str, log_dir: Path) -> list[str]:
    if options.workers < 1:
        raise SlurmOptionError(f"--workers {options.workers}: at least one array task is needed")
    if options.time is not None and options.warn_seconds >= parse_time_limit(options.time):
        raise SlurmOptionError(f"--time {options.time} is not longer than the {options.warn_seconds} s "
                               "warning before it: lower --warn-seconds or raise --time")
    flags = [f"--job-name={job_name(study)}", f"--comment={_COMMENT_PREFIX}{study}",
             f"--array=0-{options.workers - 1}", "--ntasks=1",
             f"--cpus-per-task={options.cpus_per_worker}"]
    if options.gpus_per_worker:
        flags.append(f"--gres=gpu:{options.gpus_per_worker}")
    for name in ("partition", "time", "account", "mem"):
        value = getattr(options, name)
        if value is not None:
            flags.append(f"--{name}={value}")
    flags += ["--requeue", "--open-mode=append", f"--signal=B:USR1@{options.warn_seconds}",
              f"--output={log_dir / '%x-%A_%a.log'}"]
    if options.extra:  # one line: a flag and its value may be separate tokens ("--qos high")
        flags.append(shlex.join(options.extra))
    return flags


def render_script(options: SbatchOptions, *, study: str, root: Path, log_dir: Path,
                  worker_command: list[str]) -> str:
    """The sbatch script: directives, then ``exec`` of the worker in the repository root."""
    lines = ["#!/bin/bash",
             f"# harness sweep {study}: {options.workers} sweep worker(s) over one shared study."]
    lines += [f"#SBATCH {flag}" for flag in _directives(options, study, log_dir)]
    lines += ["set -euo pipefail",
              f"cd {shlex.quote(str(root))}",
              ('echo "harness: task ${SLURM_ARRAY_JOB_ID:-?}_${SLURM_ARRAY_TASK_ID:-?} on $(hostname),'
               ' restart ${SLURM_RESTART_COUNT:-0}"'),
              # exec: the worker becomes the batch shell, the one process B:USR1 reaches.
              "exec " + shlex.join(worker_command), ""]
    return "\n".join(lines)
