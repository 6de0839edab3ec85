"""Optuna sweeps of training runs: spec -> queued trials -> workers -> MLflow records.

Modules: :mod:`~harness.sweep.spec` (YAML -> validated dataclasses),
:mod:`~harness.sweep.space` (search spaces), :mod:`~harness.sweep.identity` (trial ids),
:mod:`~harness.sweep.storage` (Optuna storages), :mod:`~harness.sweep.recovery`
(heartbeats, stale trials), :mod:`~harness.sweep.launchers` (device slots, launchers),
:mod:`~harness.sweep.trials` (the worker loop), :mod:`~harness.sweep.orchestrator`,
:mod:`~harness.sweep.mlflow_parent`, :mod:`~harness.sweep.status`,
:mod:`~harness.sweep.progress`. Importing this package loads nothing heavy.
"""
from typing import Any

__all__ = ["load_spec", "SpecError", "SweepSpec"]


def __getattr__(name: str) -> Any:
    # Lazy re-exports: `harness sweep validate` should not pay for MLflow's import.
    if name in __all__:
        from harness.sweep import spec

        return getattr(spec, name)
    raise AttributeError(name)
