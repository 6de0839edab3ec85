"""The trainer's own record of how a run ended: the one source of a trial's outcome.

Written by the training process into ``<work_dir>/harness_result.json`` (write to a
temporary name, fsync, rename: a reader sees the old record or the new one, never half),
for every ending it can still act on: complete, pruned, diverged, bad input, error. A
trainer killed with SIGKILL writes nothing; its caller then goes by the exit code.

The sweep worker reads it after the trainer exits, and before training a claimed trial:
a work dir that already holds a finished record tells Optuna that result again, without
training and without searching MLflow.
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.contracts import RESULT_FILE, Outcome

__all__ = ["TrainResult", "Objective", "reduce_objective", "write_result", "read_result"]


@dataclass(frozen=True)
class Objective:
    """What a sweep optimises, handed to the trainer so it can record the value itself.

    ``metric`` is an MLflow metric name (``val/nme``); ``reduce`` is ``last`` (the last
    epoch's value) or ``best`` (the best over epochs in ``direction``).
    """

    metric: str = "val/nme"
    reduce: str = "last"
    direction: str = "minimize"


def reduce_objective(history: Iterable[tuple[int, float]], objective: Objective) -> float | None:
    """The objective from ``(step, value)`` pairs; non-finite values never count. None if empty.

    With ``reduce="last"`` the latest step wins; an epoch logged twice (re-trained after a
    kill) keeps its last value, as every reader of the record does.
    """
    points = [(int(s), float(v)) for s, v in history if math.isfinite(float(v))]
    if not points:
        return None
    if objective.reduce == "last":
        return max(points, key=lambda p: p[0])[1]
    pick = min if objective.direction == "minimize" else max
    return pick(v for _, v in points)


@dataclass(frozen=True)
class TrainResult:
    """How one training attempt ended.

    Attributes:
        outcome: the final state (see :class:`harness.contracts.Outcome`).
        run_id: the MLflow run, or None when the request was rejected before one opened.
        trial_id: the sweep's trial identity (``harness.trial_id``), None outside sweeps.
        trial_number: the Optuna trial number of the attempt that wrote the record.
        objective: the objective value as the request's :class:`Objective` defines it.
        val, test: last validation metrics and test metrics (percent, AUC 0..1),
            keyed without their ``val/`` and ``test/`` prefixes.
        error: the one-line reason of an unsuccessful outcome.
    """

    outcome: Outcome
    run_id: str | None = None
    trial_id: str | None = None
    trial_number: int | None = None
    objective: float | None = None
    objective_metric: str | None = None
    val: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    best_val_nme: float | None = None
    best_epoch: int | None = None
    error: str | None = None
    written_at: float = 0.0

    @property
    def status(self) -> str:
        """The MLflow run status this outcome closes the run with."""
        return "FINISHED" if self.outcome == Outcome.COMPLETE else "FAILED"

    @property
    def finished(self) -> bool:
        """A record worth reusing instead of training again (complete or pruned)."""
        return self.outcome in (Outcome.COMPLETE, Outcome.PRUNED)

    def to_json(self) -> str:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainResult:
        data: dict[str, Any] = json.loads(text)
        known = set(cls.__dataclass_fields__)
        data = {k: v for k, v in data.items() if k in known}
        if "outcome" not in data:  # records written before outcomes existed were successes
            data["outcome"] = Outcome.COMPLETE.value
        data["outcome"] = Outcome(data["outcome"])
        return cls(**data)


def write_result(work_dir: str | Path, result: TrainResult) -> Path:
    """Write ``result`` atomically into ``work_dir`` and return its path."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / RESULT_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    stamped = replace(result, written_at=result.written_at or time.time())
    with open(tmp, "w") as handle:
        handle.write(stamped.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def read_result(work_dir: str | Path) -> TrainResult | None:
    """The work dir's record, or None when there is none or it cannot be read."""
    path = Path(work_dir) / RESULT_FILE
    try:
        return TrainResult.from_json(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        # Only an older, non-atomic writer could leave half a file: treat it as absent,
        # the run's MLflow record and checkpoints are still there to resume from.
        return None
