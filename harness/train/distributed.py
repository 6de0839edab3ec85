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

from harness.train.request import TrainRequest

__all__ = ["launch_distributed", "torchrun_command", "init_cpu_process_group"]


def init_cpu_process_group() -> None:
    """Join torchrun's process group with gloo when there is no GPU.

    MMEngine's pytorch launcher calls ``torch.cuda.set_device`` before joining, which a
    CPU build of torch cannot do; a group that already exists is used as it is.
    """
    import torch
    import torch.distributed as dist

    if not torch.cuda.is_available() and not dist.is_initialized():
        dist.init_process_group(backend="gloo")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def torchrun_command(request_file: Path, nproc: int, port: int) -> list[str]:
    return [
        sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
        "--master_addr=127.0.0.1", f"--master_port={port}",
        "-m", "harness.train.worker", str(request_file),
    ]


def launch_distributed(request: TrainRequest, nproc: int, env: dict[str, str] | None = None) -> int:
    """Run ``request`` on ``nproc`` processes; returns the worst process exit code."""
    request = dataclasses.replace(request, launcher="pytorch")
    work_dir = Path(request.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    request_file = work_dir / "train_request.json"
    request.to_json(request_file)
    return subprocess.call(torchrun_command(request_file, nproc, _free_port()), env=env)
