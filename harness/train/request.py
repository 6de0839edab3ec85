"""What one training run needs, as data: the interface between callers and the trainer.

`harness train` builds a :class:`TrainRequest` from its arguments; the sweep orchestrator
writes one as JSON and runs ``python -m harness.train.worker REQUEST.json`` in a fresh
subprocess (MMEngine's global singletons must not leak between trials).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts import ExitCode
from harness.train.result import Objective

__all__ = ["TrainRequest", "ExitCode"]


@dataclass(frozen=True)
class TrainRequest:
    """One training run.

    Attributes:
        config: path of an ``mm_configs/*.py`` file.
        cfg_options: MMEngine dotted-key overrides (the ``--cfg-options`` grammar).
        work_dir: where checkpoints and logs go; an interrupted one is resumed.
        seed: the run's seed (also MMEngine's ``randomness.seed``).
        tracking_uri: MLflow tracking URI (``sqlite:///...`` or ``http://...``).
        experiment: MLflow experiment name.
        run_name: MLflow run name; derived from config and seed when None.
        tags: extra MLflow tags (sweep, arm, trial id, Optuna study/trial).
        parent_run_id: make the run a nested child of this MLflow run.
        device: "auto", "cpu" or "cuda".
        cpu_threads: torch intra-op threads; None leaves torch's default.
        extra_hooks: MMEngine hook configs appended to ``custom_hooks`` (e.g. pruning).
        save_best_checkpoint: log the best checkpoint as an MLflow artifact.
        launcher: "none" (one process) or "pytorch" (one of torchrun's processes).
        trial_id, trial_number: the sweep trial this run trains (None outside sweeps);
            written into the result record so a worker can tell whose record it reads.
        objective: what the result record's ``objective`` value means.
        description: the MLflow run's description (``mlflow.note.content``).
    """

    config: str
    work_dir: str
    seed: int = 0
    cfg_options: dict[str, Any] = field(default_factory=dict)
    tracking_uri: str | None = None
    experiment: str = "harness"
    run_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None
    device: str = "auto"
    cpu_threads: int | None = None
    extra_hooks: tuple[dict[str, Any], ...] = ()
    save_best_checkpoint: bool = False
    launcher: str = "none"
    trial_id: str | None = None
    trial_number: int | None = None
    objective: Objective = field(default_factory=Objective)
    description: str | None = None

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2, sort_keys=True))

    @classmethod
    def from_json(cls, path: str | Path) -> TrainRequest:
        data = json.loads(Path(path).read_text())
        data["extra_hooks"] = tuple(data.get("extra_hooks", ()))
        data["objective"] = Objective(**data.get("objective", {}))
        return cls(**data)
