"""Search spaces: spec entries -> Optuna distributions, grid points and suggestions.

A search space maps an MMEngine dotted key to its range, e.g.::

    optim_wrapper.optimizer.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
    model.head.loss.target: {type: categorical, choices: [nearest, bilinear, gaussian]}

The dotted key is also the Optuna parameter name, so a trial's params are its overrides.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

__all__ = ["Param", "parse_search_space", "grid_points", "suggest", "distributions"]

_KEYS = {"type", "low", "high", "log", "step", "choices", "values"}


@dataclass(frozen=True)
class Param:
    """One searched hyper-parameter; ``grid`` is its value list under a grid sampler."""

    key: str
    distribution: BaseDistribution
    grid: tuple[Any, ...] | None


def _number(value: Any, what: str, kind: type) -> Any:
    # PyYAML reads `1e-4` (no dot) as a string; accept it rather than fail obscurely.
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected a number, got {value!r}") from None
    if kind is int and number != float(value):
        raise ValueError(f"{what}: expected an integer, got {value!r}")
    return number


def _parse_param(key: str, entry: Any) -> Param:
    if not isinstance(entry, dict):
        raise ValueError(f"{key}: expected a mapping with 'type', got {entry!r}")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ValueError(f"{key}: unknown keys {sorted(unknown)} (allowed: {sorted(_KEYS)})")
    kind = entry.get("type")
    if kind == "categorical":
        choices = entry.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"{key}: categorical needs a non-empty 'choices' list")
        return Param(key, CategoricalDistribution(choices), tuple(choices))
    if kind not in ("float", "int"):
        raise ValueError(f"{key}: type must be float, int or categorical, got {kind!r}")
    cast = float if kind == "float" else int
    if "low" not in entry or "high" not in entry:
        raise ValueError(f"{key}: {kind} needs 'low' and 'high'")
    low, high = _number(entry["low"], f"{key}.low", cast), _number(entry["high"], f"{key}.high", cast)
    log = bool(entry.get("log", False))
    step = entry.get("step")
    step = None if step is None else _number(step, f"{key}.step", cast)
    if low > high or (log and low <= 0):
        raise ValueError(f"{key}: need low <= high (and low > 0 with log), got [{low}, {high}]")
    try:
        dist = (FloatDistribution(low, high, log=log, step=step) if kind == "float"
                else IntDistribution(low, high, log=log, step=step or 1))
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
    values = entry.get("values")
    if values is not None:
        if not isinstance(values, list) or not values:
            raise ValueError(f"{key}: 'values' must be a non-empty list")
        values = [_number(v, f"{key}.values", cast) for v in values]
        if any(not low <= v <= high for v in values):
            raise ValueError(f"{key}: 'values' must lie in [{low}, {high}]")
        grid = tuple(values)
    elif kind == "int":
        grid = tuple(range(low, high + 1, step or 1))
    else:
        grid = None
    return Param(key, dist, grid)


def parse_search_space(raw: Mapping[str, Any]) -> tuple[Param, ...]:
    """Parse a spec's ``search_space`` mapping; raises ValueError naming the bad key."""
    return tuple(_parse_param(str(k), v) for k, v in raw.items())


def distributions(space: tuple[Param, ...]) -> dict[str, BaseDistribution]:
    """``{dotted key: Optuna distribution}``, e.g. for ``Study.ask(fixed_distributions=...)``."""
    return {p.key: p.distribution for p in space}


def grid_points(space: tuple[Param, ...]) -> list[dict[str, Any]]:
    """Every combination of the params' grid values (one empty point for an empty space)."""
    keys = [p.key for p in space]
    grids = [p.grid for p in space if p.grid is not None]
    if len(grids) != len(space):
        raise ValueError("every param needs 'choices' or 'values' for a grid")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grids)]


def suggest(trial: Any, space: tuple[Param, ...]) -> dict[str, Any]:
    """Ask ``trial`` (an ``optuna.Trial``) for every param; fixed (enqueued) values win."""
    out: dict[str, Any] = {}
    for p in space:
        d = p.distribution
        if isinstance(d, CategoricalDistribution):
            out[p.key] = trial.suggest_categorical(p.key, d.choices)
        elif isinstance(d, IntDistribution):
            out[p.key] = trial.suggest_int(p.key, d.low, d.high, step=d.step, log=d.log)
        else:
            assert isinstance(d, FloatDistribution), d  # the only other kind _parse_param builds
            out[p.key] = trial.suggest_float(p.key, d.low, d.high, step=d.step, log=d.log)
    return out
