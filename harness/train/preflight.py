"""Reject missing or broken data before a Runner is built (minutes before it would fail)."""
from __future__ import annotations

from pathlib import Path

from mmengine.config import Config

from harness.data.check import check_annotation_file
from harness.data.errors import DataError
from harness.train.errors import BadRequest

__all__ = ["check_data", "annotation_files"]


def annotation_files(cfg: Config) -> list[tuple[str, Path, Path]]:
    """(split, annotation file, image dir) of every dataloader in ``cfg``."""
    out = []
    for split in ("train", "val", "test"):
        loader = cfg.get(f"{split}_dataloader")
        if not loader:
            continue
        dataset = loader.dataset
        root = Path(dataset.get("data_root", ""))
        prefix = (dataset.get("data_prefix") or {}).get("img", "")
        out.append((split, root / dataset.ann_file, root / prefix))
    return out


def check_data(cfg: Config) -> list[tuple[str, Path, Path]]:
    """Validate each split's annotations and images; one-line :class:`BadRequest` on failure."""
    files = annotation_files(cfg)
    checked: set[Path] = set()
    for split, ann_file, img_dir in files:
        if ann_file in checked:
            continue
        if not ann_file.is_file():
            raise BadRequest(f"{ann_file}: {split} annotation file not found (see `harness data --help`)")
        try:
            check_annotation_file(ann_file, img_dir, expected_keypoints=cfg.get("num_keypoints"))
        except DataError as exc:
            raise BadRequest(str(exc)) from exc
        checked.add(ann_file)
    return files
