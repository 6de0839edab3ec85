"""Deterministic trial identity: a hash of what the trial trains, and its work dir.

Two trials with the same config, resolved overrides and seed are the same trial: the
orchestrator never enqueues one twice, and a retried trial reuses (and resumes) the
same work dir.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["trial_id", "trial_work_dir", "resolved_overrides"]


def resolved_overrides(arm_overrides: Mapping[str, Any], params: Mapping[str, Any],
                       epochs: int) -> dict[str, Any]:
    """The cfg_options a trial trains with: arm deltas, then searched params, then the budget."""
    return {**arm_overrides, **params, "train_cfg.max_epochs": epochs}


def trial_id(config: str, overrides: Mapping[str, Any], seed: int) -> str:
    """16 hex digits of SHA-256 over the canonical JSON of (config, overrides, seed)."""
    # Canonical JSON: sorted keys, and floats by repr, so 0.1 hashes the same everywhere.
    payload = json.dumps({"config": Path(config).as_posix(), "overrides": dict(overrides),
                          "seed": int(seed)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def trial_work_dir(sweep_dir: str | Path, arm: str, tid: str) -> Path:
    """``<sweep_dir>/trials/<arm>-<id>``: readable, and unique per identity."""
    return Path(sweep_dir) / "trials" / f"{arm}-{tid}"
