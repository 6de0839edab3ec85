"""Multi-process (DDP) training: torchrun runs the worker once per GPU.

MMEngine's ``pytorch`` launcher reads torchrun's environment; only rank 0 touches MLflow
(see :func:`harness.train.runner.run_training`). On a CPU-only machine the processes use
the gloo backend, which is how the launch path is tested without GPUs.
"""
from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
from pathlib import Path
from typing import TypeVar

from harness.lifetime import die_with_parent
from harness.train.request import TrainRequest

_T = TypeVar("_T")

__all__ = ["launch_distributed", "finish_process_group", "rank_zero_decides", "torchrun_command", "free_port",
           "rank_failures", "init_cpu_process_group"]


def init_cpu_process_group() -> None:
    """Join torchrun's process group with gloo when there is no GPU.

    MMEngine's pytorch launcher calls ``torch.cuda.set_device`` before joining, which a
    CPU build of torch cannot do; a group that already exists is used as it is.
    """
    import torch
    import torch.distributed as dist

    if not torch.cuda.is_available() and not dist.is_initialized():
        dist.init_process_group(backend="gloo")


def rank_zero_decides(value: _T) -> _T:
    """``value`` as rank 0 sees it, on every rank (``value`` itself without a process group).

    Every rank must call it at the same point; the others pass a placeholder.
    """
    import torch.distributed as dist

    if not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def finish_process_group() -> None:
    """Leave the process group together: a barrier, then destroy it.

    Without it a rank that is done early exits while a peer still flushes its last
    collective, and the peer fails with gloo's "Connection closed by peer". A rank that
    fails never reaches this; torchrun then stops the ranks waiting here.
    """
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago, for torchrun's rendezvous."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]  # (host, port) for AF_INET
        return port


def torchrun_command(request_file: Path, nproc: int, *, python: str = sys.executable,
                     port: int | None = None, log_dir: Path | None = None) -> list[str]:
    """torchrun's command line for one node; with ``log_dir``, each rank's output is also kept there."""
    logs = [f"--log-dir={log_dir}", "--tee=3"] if log_dir is not None else []
    return [
        python, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
        "--master_addr=127.0.0.1", f"--master_port={port or free_port()}", *logs,
        "-m", "harness.train.worker", str(request_file),
    ]


def rank_failures(log_dir: Path) -> dict[int, str]:
    """The last stderr line of each rank of the newest torchrun attempt under ``log_dir``.

    The worker ends a failure with a one-line reason; torchrun itself only says which
    rank exited, so this is what tells a killed peer from the rank that actually failed.
    """
    attempts = sorted(log_dir.glob("*/attempt_*"), key=lambda p: p.stat().st_mtime)
    if not attempts:
        return {}
    reasons = {}
    for stderr in sorted(attempts[-1].glob("*/stderr.log")):
        lines = [line for line in stderr.read_text(errors="replace").splitlines() if line.strip()]
        if lines:
            reasons[int(stderr.parent.name)] = lines[-1]
    return reasons


def launch_distributed(request: TrainRequest, nproc: int, env: dict[str, str] | None = None) -> int:
    """Run ``request`` on ``nproc`` processes under torchrun.

    Returns torchrun's exit code (0 when every rank succeeded).
    """
    request = dataclasses.replace(request, launcher="pytorch")
    work_dir = Path(request.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    request_file = work_dir / "train_request.json"
    request.to_json(request_file)
    log_dir = work_dir / "torchrun"
    proc = subprocess.Popen(torchrun_command(request_file, nproc, log_dir=log_dir), env=env,
                            preexec_fn=die_with_parent)
    try:
        code = proc.wait()
    except BaseException:
        # The launcher lives on (a library call): stop torchrun now, with SIGTERM, which
        # it passes on to its ranks (a SIGKILLed torchrun leaves them running).
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    if code != 0:
        for rank, reason in rank_failures(log_dir).items():
            print(f"{work_dir}: rank {rank}: {reason}", file=sys.stderr)
    return code
