"""Where a result came from: code version, packages, hardware, command, data digests."""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

from harness.contracts import Tag

__all__ = ["git_state", "package_versions", "hardware", "file_sha256", "provenance_tags"]

PACKAGES = ("torch", "mmengine", "mmcv-lite", "mmcv", "mmpose", "mmdet", "numpy", "mlflow", "optuna", "harness")


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def git_state(cwd: str | Path) -> dict[str, str | None]:
    """commit, branch, dirty flag and the uncommitted diff (text) of the repo at ``cwd``."""
    cwd = Path(cwd)
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return {"commit": None, "branch": None, "dirty": None, "diff": None}
    diff = _git(["diff", "HEAD"], cwd) or ""
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd) or ""
    return {
        "commit": commit.strip(),
        "branch": (_git(["rev-parse", "--abbrev-ref", "HEAD"], cwd) or "").strip(),
        "dirty": "true" if status.strip() else "false",
        "diff": diff,
    }


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    versions["python"] = platform.python_version()
    return versions


def hardware() -> dict[str, str]:
    import torch

    info = {
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": str(os.cpu_count()),
        "torch_threads": str(torch.get_num_threads()),
        "gpu_count": str(torch.cuda.device_count() if torch.cuda.is_available() else 0),
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    if info["gpu_count"] != "0":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance_tags(repo_dir: str | Path) -> dict[str, str]:
    """Short, searchable provenance as MLflow tags: code version and command only.

    Package versions and hardware are the ``provenance/packages.json`` and
    ``provenance/hardware.json`` artifacts; as tags they were a second copy that buried a
    run's useful tags under a dozen chips in the MLflow UI. Reports read the artifacts.
    """
    git = git_state(repo_dir)
    tags = {
        Tag.GIT_COMMIT: git["commit"] or "unknown",
        Tag.GIT_DIRTY: git["dirty"] or "unknown",
        Tag.COMMAND: " ".join(sys.argv)[:4900],
    }
    if git["commit"]:
        tags["mlflow.source.git.commit"] = git["commit"]
    return tags
