"""How a trial's training process is started: device slots and a small launcher table.

A *slot* is where one trial runs: a GPU (``CUDA_VISIBLE_DEVICES`` set to its id, several
trials per GPU allowed) or a share of the CPU cores (torch/OpenMP threads split between
workers so two workers on two cores do not fight over both).

Launchers (DomainBed-style table): ``subprocess`` runs ``python -m harness.train.worker
REQUEST.json`` in a fresh process (MMEngine's singletons must not leak between trials);
``dry-run`` only logs the command.
"""
from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from harness.sweep.spec import Resources

__all__ = ["Slot", "plan_slots", "die_with_parent", "LaunchFn", "LAUNCHERS", "launch_subprocess", "launch_dry_run"]

_log = logging.getLogger(__name__)
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Slot:
    """One worker's devices: ``device`` for the TrainRequest, ``env`` for its process."""

    index: int
    device: str
    cpu_threads: int
    env: Mapping[str, str] = field(default_factory=dict)


def plan_slots(resources: Resources, *, cpu_count: int) -> list[Slot]:
    """One slot per worker.

    GPU slots go round-robin over the GPUs (gpu0, gpu1, gpu0, gpu1 for two trials per GPU),
    so fewer workers than slots still spread over every GPU. CPU threads per trial default
    to the cores split evenly between workers.
    """
    if resources.device == "cuda":
        gpus = [g for _ in range(resources.trials_per_gpu) for g in resources.gpus]
        workers = min(resources.workers or len(gpus), len(gpus))
    else:
        gpus, workers = [], resources.workers or 1
    threads = resources.cpu_threads_per_trial or max(1, cpu_count // workers)
    slots = []
    for i in range(workers):
        env = {var: str(threads) for var in _THREAD_VARS}
        # An empty CUDA_VISIBLE_DEVICES hides every GPU from a CPU trial.
        env["CUDA_VISIBLE_DEVICES"] = str(gpus[i]) if gpus else ""
        slots.append(Slot(i, "cuda" if gpus else "cpu", threads, env))
    return slots


def die_with_parent() -> None:
    # Linux: the trainer gets SIGKILL when its worker dies (e.g. kill -9 of the
    # orchestrator), so no orphan keeps training and logging a trial now marked stale.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


LaunchFn = Callable[..., int]


def launch_subprocess(request_path: Path, *, python: str, env: Mapping[str, str],
                      log_path: Path, cwd: Path) -> int:
    """Run the trainer on ``request_path``; its output goes to ``log_path``. Returns its exit code."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [python, "-m", "harness.train.worker", str(request_path)], cwd=cwd, env=dict(env),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        return proc.wait()


def launch_dry_run(request_path: Path, *, python: str, env: Mapping[str, str],
                   log_path: Path, cwd: Path) -> int:
    """Log what would run; nothing trains."""
    shown = {k: env[k] for k in ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS") if k in env}
    _log.info("dry-run: %s %s -m harness.train.worker %s",
              " ".join(f"{k}={v!r}" for k, v in shown.items()), python, request_path)
    return 0


LAUNCHERS: dict[str, LaunchFn] = {"subprocess": launch_subprocess, "dry-run": launch_dry_run}
