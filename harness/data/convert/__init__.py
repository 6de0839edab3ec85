"""Converters from the official benchmark releases to MMPose's COCO-style layout."""
from __future__ import annotations

from pathlib import Path

from harness.data.convert.common import BadRecords

__all__ = ["prepare", "BENCHMARKS"]

BENCHMARKS = ("wflw", "300w", "cofw")


def prepare(name: str, src: str | Path, out: str | Path, *, skip_bad: bool = False) -> tuple[Path, int]:
    """Convert benchmark ``name`` from ``src`` into ``out``; returns (out, skipped records).

    ``src`` is either the official release or MMPose's data root with its released JSON.
    Without ``skip_bad`` the first bad record raises :class:`~harness.data.errors.DataError`.
    """
    from harness.data.convert import cofw, mmpose_json, w300, wflw

    src, out = Path(src), Path(out)
    if not src.is_dir():
        from harness.data.errors import DataError

        raise DataError(src, "is not a folder")
    if mmpose_json.looks_like_mmpose(name, src):
        return mmpose_json.prepare_mmpose_json(name, src, out), 0
    bad = BadRecords(skip=skip_bad)
    fn = {"wflw": wflw.prepare_wflw, "300w": w300.prepare_300w, "cofw": cofw.prepare_cofw}[name]
    return fn(src, out, bad), len(bad.skipped)
