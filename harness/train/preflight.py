"""Reject bad input before a Runner is built (minutes before it would fail).

Two checks live here: override keys against the config they change, and each split's
data. An override key must already exist in the config, because MMEngine merges an unknown
key silently and the typo (``model.head.loss.epz``) surfaces only when the model is built,
or never. A deliberately new key is declared with a leading ``+``
(``+model.head.loss.new_flag``); the ``+`` is stripped before merging.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmengine.config import Config, ConfigDict

from harness.data.check import check_annotation_file
from harness.data.errors import DataError
from harness.train.errors import BadRequest

__all__ = ["check_data", "annotation_files", "NEW_KEY", "override_problems", "plain_keys"]

NEW_KEY = "+"


def plain_keys(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with the new-key marker stripped: what MMEngine merges."""
    return {key.removeprefix(NEW_KEY): value for key, value in options.items()}


def _child(node: Any, part: str) -> tuple[bool, Any]:
    if isinstance(node, (list, tuple)):
        if part.isdigit() and int(part) < len(node):
            return True, node[int(part)]
        return False, None
    if isinstance(node, (dict, ConfigDict, Config)) and part in node:
        return True, node[part]
    return False, None


def _hints(node: Any, part: str, new_key: str | None) -> str:
    names = [str(k) for k in node] if isinstance(node, (dict, ConfigDict, Config)) else []
    close = difflib.get_close_matches(part, names, n=1)
    hints = [f"did you mean {close[0]!r}?"] if close else []
    if new_key:
        hints.append(f"a new key is declared as {new_key!r}")
    return f" ({' '.join(hints)})" if hints else ""


def _problem(cfg: Config, key: str, declared: list[str]) -> str | None:
    new = key.startswith(NEW_KEY)
    path = key.removeprefix(NEW_KEY)
    # Keys under a declared new subtree cannot exist yet; the declaration covers them.
    if not new and any(path.startswith(d + ".") or path == d for d in declared):
        return None
    parts = path.split(".")
    node: Any = cfg
    for depth, part in enumerate(parts):
        found, child = _child(node, part)
        last = depth == len(parts) - 1
        if found:
            node = child
            continue
        if last and new:
            return None
        where = "" if last else f" {'.'.join(parts[: depth + 1])!r}"
        return f"unknown config key{where}{_hints(node, part, NEW_KEY + path if last else None)}"
    if new:
        return f"{path!r} already exists: drop the {NEW_KEY!r}, which declares a new key"
    return None


def override_problems(cfg: Config, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key as written, one-line reason) for every override ``cfg`` does not have.

    Every part of a key must exist in ``cfg``; with a leading ``+`` the last part must
    not (and the key may then be extended by later overrides).
    """
    declared = [k.removeprefix(NEW_KEY) for k in options if k.startswith(NEW_KEY)]
    problems = []
    for key in options:
        reason = _problem(cfg, str(key), declared)
        if reason:
            problems.append((str(key), reason))
    return problems


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
