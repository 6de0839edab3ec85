"""Everything a sweep worker needs, resolved once by the orchestrator (picklable).

Also the spec -> Optuna sampler/pruner mapping and the pruning hook's config, so the
study the orchestrator samples from and the study the hook prunes with are built alike.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from harness.sweep.spec import PRUNERS, SweepSpec
from harness.sweep.storage import split_password

__all__ = ["SweepContext", "pruner_config", "build_pruner", "build_sampler", "sampler_seed",
           "pruning_hook"]


@dataclass(frozen=True)
class SweepContext:
    """A spec plus where things live and how trials are launched.

    Attributes:
        root: the repository root: config paths are relative to it; trainers run in it.
        work_dir: the sweep's work area (journal, heartbeats, trial dirs).
        storage_url: normalized Optuna storage URL (see :mod:`harness.sweep.storage`).
        parent_run_id: the sweep's MLflow parent run (None on a dry run).
        env: the environment trainers inherit (slot variables are added on top).
        deadline: wall-clock time (``time.time()``) after which no trial starts.
        study: the Optuna study, when not the spec's name (a protocol's stages).
        stage: a protocol stage ("tune" or "confirm"), tagged on every trial's run.
    """

    spec: SweepSpec
    root: Path
    work_dir: Path
    storage_url: str
    tracking_uri: str
    experiment: str
    host: str
    python: str
    env: Mapping[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None
    launcher: str = "subprocess"
    deadline: float | None = None
    heartbeat_interval: float = 10.0
    grace_period: float = 60.0
    study: str | None = None
    stage: str | None = None

    @property
    def study_name(self) -> str:
        return self.study or self.spec.name

    @property
    def heartbeat_dir(self) -> Path:
        return self.work_dir / "heartbeats"


def pruner_config(spec: SweepSpec) -> dict[str, Any]:
    """``{"type": <optuna.pruners class name>, **kwargs}``, warm-up mapped per pruner."""
    kind, p = spec.pruner.type, spec.pruner
    kwargs: dict[str, Any] = {}
    if kind in ("median", "percentile", "threshold"):
        kwargs["n_warmup_steps"] = p.warmup_epochs
    elif kind == "hyperband":
        kwargs.update(min_resource=max(1, p.warmup_epochs), max_resource=spec.budget.epochs)
    elif kind == "successive_halving":
        kwargs["min_resource"] = max(1, p.warmup_epochs)
    kwargs.update(p.options)
    return {"type": PRUNERS[kind], **kwargs}


def build_pruner(config: Mapping[str, Any]) -> optuna.pruners.BasePruner:
    """Instantiate :func:`pruner_config`'s output (the pruning hook does the same)."""
    kwargs = dict(config)
    pruner: optuna.pruners.BasePruner = getattr(optuna.pruners, kwargs.pop("type"))(**kwargs)
    return pruner


def sampler_seed(base: int, trial_number: int) -> int:
    """A seed that depends on the study's seed and the trial only (never on the process)."""
    digest = hashlib.sha256(f"{base}:{trial_number}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def build_sampler(spec: SweepSpec, trial_number: int | None = None) -> optuna.samplers.BaseSampler:
    """The spec's sampler, seeded for ``trial_number`` (or with the spec's seed alone).

    Workers draw each trial's params with ``build_sampler(spec, trial.number)`` under the
    study lock: N workers draw N different configurations, and a re-run the same ones.
    """
    # Grid trials are all enqueued with fixed params, so the sampler is never consulted
    # for them; Optuna's GridSampler would instead let parallel workers repeat a point.
    seed = spec.sampler.seed if trial_number is None else sampler_seed(spec.sampler.seed, trial_number)
    if spec.sampler.type == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def pruning_hook(ctx: SweepContext, trial_number: int) -> dict[str, Any]:
    """The MMEngine hook config (``OptunaPruningHook``, registered by ``harness.mm``) for one trial.

    The storage URL carries no password (see :func:`~harness.sweep.storage.split_password`).
    """
    return {
        "type": "OptunaPruningHook",
        "storage": split_password(ctx.storage_url)[0], "study_name": ctx.study_name,
        "trial_number": trial_number, "metric": ctx.spec.objective.hook_metric,
        "pruner": pruner_config(ctx.spec),
    }
