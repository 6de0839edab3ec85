"""What this installation can and cannot do: versions, compiled ops, torchvision, devices."""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
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


def run_checks() -> list[Check]:
    """Inspect the stack; never raises."""
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
    checks.append(Check("CPU threads", True, str(torch.get_num_threads())))
    return checks
