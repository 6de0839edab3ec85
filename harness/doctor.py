"""What this installation can and cannot do: versions, compiled ops, torchvision, devices.

On a cluster node it also says what the job was given (SLURM's GPUs and CPUs), whether
each visible GPU runs a kernel, and which process-group back-ends (NCCL, gloo) DDP can use.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Check", "run_checks"]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _try_import(module: str) -> tuple[bool, str]:
    try:
        importlib.import_module(module)
    except Exception as exc:  # any import failure is what doctor reports
        return False, f"{type(exc).__name__}: {exc}".splitlines()[0]
    return True, "imports"


def _device_checks() -> list[Check]:
    """One check per visible GPU: a small matmul on it (a listed GPU may still be unusable)."""
    import torch

    checks = []
    for i in range(torch.cuda.device_count()):
        name = torch.cuda.get_device_name(i)
        try:
            x = torch.ones(64, 64, device=f"cuda:{i}")
            (x @ x).sum().item()
            bf16 = torch.cuda.is_bf16_supported()
            checks.append(Check(f"cuda:{i}", True, f"{name}: runs kernels; bf16 {'yes' if bf16 else 'no'}"))
        except Exception as exc:  # a broken driver, an exclusive-process GPU taken by another job
            checks.append(Check(f"cuda:{i}", False, f"{name}: {type(exc).__name__}: {exc}".splitlines()[0]))
    return checks


def _ddp_checks() -> list[Check]:
    import torch
    import torch.distributed as dist

    if not dist.is_available():
        return [Check("torch.distributed", False, "not built into this torch: no DDP")]
    nccl = dist.is_nccl_available()
    # torch.cuda.nccl.version has no annotations in torch's sources.
    version = (".".join(map(str, torch.cuda.nccl.version()))  # type: ignore[no-untyped-call]
               if nccl and torch.cuda.is_available() else None)
    return [Check("DDP back-end nccl", True, f"available (NCCL {version})" if version else
                  "available, no GPU to use it" if nccl else "not built in: multi-GPU trials use gloo (slow)"),
            Check("DDP back-end gloo", dist.is_gloo_available(),
                  "available (CPU trials, and the fallback)" if dist.is_gloo_available() else "not built in")]


def slurm_checks(env: Mapping[str, str]) -> list[Check]:
    """What SLURM allocated to this job, when ``env`` is a SLURM job's environment."""
    if not env.get("SLURM_JOB_ID"):
        return []
    gpus = env.get("CUDA_VISIBLE_DEVICES", env.get("SLURM_JOB_GPUS", "")) or "none"
    return [Check("SLURM job", True, f"{env['SLURM_JOB_ID']} on {env.get('SLURMD_NODENAME', '?')}: "
                  f"GPUs {gpus}, CPUs per task {env.get('SLURM_CPUS_PER_TASK', 'not set')}")]


def run_checks(env: Mapping[str, str] | None = None) -> list[Check]:
    """Inspect the stack (and, given a SLURM job's ``env``, its allocation); never raises."""
    checks = []
    for dist in ("torch", "numpy", "mmengine", "mmcv", "mmcv-lite", "mmpose", "mmdet", "xtcocotools",
                 "mlflow", "optuna", "pandas", "matplotlib"):
        version = _version(dist)
        if version is not None or dist not in ("mmcv", "mmcv-lite"):
            checks.append(Check(f"version {dist}", version is not None, version or "not installed"))
    from harness import compat

    compiled = compat.mmcv_has_compiled_ops()
    checks.append(Check(
        "mmcv compiled ops", True,
        "present (full mmcv)" if compiled else
        "absent (mmcv-lite): DETR/EDPose/DEKR heads unavailable; harness methods unaffected",
    ))
    if importlib.util.find_spec("torchvision") is None:
        checks.append(Check("torchvision", True, "not installed: MMPose's pose visualizers unavailable (not needed)"))
    else:
        ok, detail = _try_import("torchvision")
        checks.append(Check("torchvision", ok, detail if not ok else f"{_version('torchvision')} imports"))
    compat.apply()
    ok, detail = _try_import("mmpose.models")
    checks.append(Check("mmpose.models", ok, detail))
    ok, detail = _try_import("harness.mm")
    checks.append(Check("harness plug-ins (harness.mm)", ok, detail))
    import torch

    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        checks.append(Check("CUDA devices", True, f"{len(names)}: " + ", ".join(names)))
    else:
        checks.append(Check("CUDA devices", True, "none: training runs on CPU; multi-GPU and DDP launch unavailable"))
    checks.extend(_device_checks())
    checks.extend(_ddp_checks())
    checks.append(Check("CPU threads", True, str(torch.get_num_threads())))
    checks.extend(slurm_checks(env or {}))
    return checks
