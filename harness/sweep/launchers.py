"""How a trial's training process is started: device slots and a small launcher table.

A *slot* is where one trial runs: a GPU (``CUDA_VISIBLE_DEVICES`` set to its id, several
trials per GPU allowed) or a share of the CPU cores (torch/OpenMP threads split between
workers so two workers on two cores do not fight over both).

Launchers (DomainBed-style table): ``subprocess`` runs ``python -m harness.train.worker
REQUEST.json`` in a fresh process (MMEngine's singletons must not leak between trials);
``dry-run`` only logs the command; ``record-only`` writes a finished result record without
training (benchmarks and sampling tests of the orchestrator itself).
"""
from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.contracts import ExitCode, Outcome
from harness.lifetime import die_with_parent
from harness.sweep.spec import Resources
from harness.train.distributed import torchrun_command

__all__ = ["Slot", "plan_slots", "trainer_command", "LaunchFn", "LAUNCHERS", "launch_subprocess", "launch_dry_run",
           "launch_record_only"]

_log = logging.getLogger(__name__)
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Slot:
    """One worker's devices: ``device`` for the TrainRequest, ``env`` for its process."""

    index: int
    device: str
    cpu_threads: int
    env: Mapping[str, str] = field(default_factory=dict)
    nproc: int = 1  # > 1: a DDP trial, one process per GPU of the slot


def plan_slots(resources: Resources, *, cpu_count: int) -> list[Slot]:
    """One slot per worker.

    GPU slots go round-robin over the GPUs (gpu0, gpu1, gpu0, gpu1 for two trials per GPU),
    so fewer workers than slots still spread over every GPU; with ``gpus_per_trial`` > 1 a
    slot is a group of GPUs ("0,1"). CPU threads per trial default to the cores split
    evenly between the trials' processes.
    """
    n = resources.gpus_per_trial
    groups = [",".join(map(str, resources.gpus[i:i + n])) for i in range(0, len(resources.gpus), n)]
    devices = [g for _ in range(resources.trials_per_gpu) for g in groups]
    if resources.device == "cuda":
        workers = min(resources.workers or len(devices), len(devices))
    else:
        workers, n = resources.workers or 1, 1
    threads = resources.cpu_threads_per_trial or max(1, cpu_count // (workers * n))
    slots = []
    for i in range(workers):
        env = {var: str(threads) for var in _THREAD_VARS}
        # An empty CUDA_VISIBLE_DEVICES hides every GPU from a CPU trial.
        env["CUDA_VISIBLE_DEVICES"] = devices[i] if resources.device == "cuda" else ""
        slots.append(Slot(i, resources.device, threads, env, nproc=n))
    return slots


LaunchFn = Callable[..., int]


def trainer_command(request_path: Path, *, python: str, nproc: int = 1) -> list[str]:
    """``python -m harness.train.worker REQUEST``, under torchrun for a DDP (nproc > 1) trial."""
    if nproc == 1:
        return [python, "-m", "harness.train.worker", str(request_path)]
    return torchrun_command(request_path, nproc, python=python)


def launch_subprocess(request_path: Path, *, python: str, env: Mapping[str, str],
                      log_path: Path, cwd: Path, nproc: int = 1) -> int:
    """Run the trainer on ``request_path``; its output goes to ``log_path``. Returns its exit code."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            trainer_command(request_path, python=python, nproc=nproc), cwd=cwd, env=dict(env),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        return proc.wait()


def launch_dry_run(request_path: Path, *, python: str, env: Mapping[str, str],
                   log_path: Path, cwd: Path, nproc: int = 1) -> int:
    """Log what would run; nothing trains."""
    shown = {k: env[k] for k in ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS") if k in env}
    _log.info("dry-run: %s %s", " ".join(f"{k}={v!r}" for k, v in shown.items()),
              " ".join(trainer_command(request_path, python=python, nproc=nproc)))
    return 0


def launch_record_only(request_path: Path, *, python: str, env: Mapping[str, str],
                       log_path: Path, cwd: Path, nproc: int = 1) -> int:
    """Train nothing, write a COMPLETE result record at once: the orchestrator's own ceiling.

    The objective is a deterministic function of the trial's overrides and seed, so the
    benchmark and sampling tests can check what each trial reported. It holds the work-dir
    lock like a real trainer, for ``HARNESS_RECORD_ONLY_SECONDS`` (default 0).
    """
    import hashlib
    import time

    from harness.train.request import TrainRequest
    from harness.train.result import TrainResult, read_result, write_result
    from harness.train.workdir import hold_work_dir

    request = TrainRequest.from_json(request_path)
    key = json.dumps({"o": request.cfg_options, "s": request.seed}, sort_keys=True, default=str)
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") / 2**32
    with hold_work_dir(request.work_dir):
        previous = read_result(request.work_dir)
        if previous is not None and previous.finished and previous.trial_id == request.trial_id:
            return ExitCode.OK  # as the real trainer: the lock's previous holder finished it
        time.sleep(float(env.get("HARNESS_RECORD_ONLY_SECONDS", "0")))
        write_result(request.work_dir, TrainResult(
            outcome=Outcome.COMPLETE, trial_id=request.trial_id,
            trial_number=request.trial_number, objective=value,
            objective_metric=request.objective.metric))
    return ExitCode.OK


LAUNCHERS: dict[str, LaunchFn] = {"subprocess": launch_subprocess, "dry-run": launch_dry_run,
                                  "record-only": launch_record_only}
