"""A protocol's stages as ordinary sweeps with derived specs, and the choice between them.

- Tuning: one study per arm (``<sweep>.tune.<arm>``), each a single-arm sweep with the
  spec's sampler, seed, pruner, epochs and tuning seeds and ``protocol.tune.n_trials``
  trials: separate studies, so neither the sampler's history nor the pruner's comparison
  mixes arms. An arm without a search space trains its defaults once per tuning seed.
- Selection: per arm, the configuration with the best mean objective (val NME) over its
  COMPLETE tuning trials; it reads Optuna's trial values only, never a test metric.
- Confirmation: one study (``<sweep>.confirm``), a grid sweep of each arm's chosen
  configuration (its params become overrides) on fresh seeds, without pruning.
"""
from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from harness.sweep.spec import Arm, Pruner, Sampler, SweepSpec

__all__ = ["Choice", "tune_spec", "confirm_spec", "select", "space_text"]


@dataclass(frozen=True)
class Choice:
    """An arm's chosen configuration and what its tuning cost.

    ``val`` is the mean objective of the chosen params over their tuning trials;
    ``hours`` the tuning trials' wall time x devices per trial (CPU threads or GPUs).
    """

    arm: str
    params: Mapping[str, Any]
    val: float
    trials: int  # tuning attempts that ended (complete, pruned or failed)
    complete: int
    pruned: int
    configs: int  # distinct configurations among the complete trials
    hours: float
    space: str  # the declared search space, or "none (defaults)"
    epochs: int
    numbers: tuple[int, ...] = field(default_factory=tuple)  # trials of the chosen params

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["params"], out["numbers"] = dict(self.params), list(self.numbers)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Choice:
        return cls(**{**data, "numbers": tuple(data.get("numbers", ()))})


def space_text(arm: Arm) -> str:
    """The arm's search space in one line, e.g. ``lr: float [0.0001, 0.01] log``."""
    if not arm.search_space:
        return "none (defaults)"
    parts = []
    for p in arm.search_space:
        d = p.distribution
        choices = getattr(d, "choices", None)
        rng = (f"{list(choices)}" if choices is not None
               else f"[{d.low}, {d.high}]{' log' if getattr(d, 'log', False) else ''}")  # type: ignore[attr-defined]
        parts.append(f"{p.key.rsplit('.', 1)[-1]}: {rng}")
    return "; ".join(parts)


def tune_spec(spec: SweepSpec, arm: Arm) -> SweepSpec:
    """The single-arm sweep that tunes ``arm`` with the protocol's per-arm budget."""
    assert spec.protocol is not None
    sampler = spec.sampler if arm.search_space else Sampler("grid", spec.sampler.seed)
    n_trials = spec.protocol.n_trials if arm.search_space else None
    return dataclasses.replace(spec, arms=(arm,), sampler=sampler, protocol=None,
                               budget=dataclasses.replace(spec.budget, n_trials=n_trials))


def confirm_spec(spec: SweepSpec, choices: Mapping[str, Choice], arms: Sequence[str],
                 seeds: Sequence[int]) -> SweepSpec:
    """The grid sweep of ``arms``' chosen configurations on ``seeds`` (no pruning)."""
    chosen = tuple(dataclasses.replace(a, overrides={**a.overrides, **choices[a.name].params},
                                       search_space=())
                   for a in spec.arms if a.name in arms)
    return dataclasses.replace(
        spec, arms=chosen, seeds=tuple(seeds), sampler=Sampler("grid", spec.sampler.seed),
        pruner=Pruner(), protocol=None, budget=dataclasses.replace(spec.budget, n_trials=None))


def _key(t: FrozenTrial) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in t.params.items() if k != "arm"))


def _hours(trials: Sequence[FrozenTrial], devices: int) -> float:
    seconds = sum(t.duration.total_seconds() for t in trials if t.duration is not None)
    return seconds * devices / 3600.0


def select(arm: Arm, trials: Sequence[FrozenTrial], *, direction: str, epochs: int,
           devices: int) -> Choice | None:
    """The best configuration of ``arm`` by mean objective; None without a COMPLETE trial.

    Reads ``FrozenTrial.value`` (the objective the spec names: val NME) and nothing else:
    the confirmation stage is the first to look at test metrics. Ties go to the
    configuration tried first.
    """
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    if not done:
        return None
    groups: dict[tuple[tuple[str, str], ...], list[FrozenTrial]] = {}
    for t in sorted(done, key=lambda t: t.number):
        groups.setdefault(_key(t), []).append(t)
    sign = 1.0 if direction == "minimize" else -1.0
    best = min(groups.values(), key=lambda g: sign * statistics.fmean(t.value or 0.0 for t in g))
    ended = [t for t in trials if t.state.is_finished()]
    return Choice(
        arm=arm.name, params={k: v for k, v in best[0].params.items() if k != "arm"},
        val=statistics.fmean(t.value or 0.0 for t in best), trials=len(ended), complete=len(done),
        pruned=sum(t.state == TrialState.PRUNED for t in trials), configs=len(groups),
        hours=_hours(ended, devices), space=space_text(arm), epochs=epochs,
        numbers=tuple(t.number for t in best))
