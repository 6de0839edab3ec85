"""What a sweep plans to train: typed planned trials, and how a study's attempts meet them.

A *planned trial* is one unit of the sweep's budget (an arm x seed x grid point, or one
numbered slot of a TPE/random search). Each is served by one or more Optuna trials
(*attempts*): a retry after a crash is a new attempt of the same planned trial, found by
its ``harness.slot`` user attribute.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from harness.contracts import Attr, Outcome
from harness.sweep.identity import resolved_overrides, trial_id
from harness.sweep.space import grid_points
from harness.sweep.spec import SweepSpec

__all__ = ["PlannedTrial", "planned_trials", "attempts_by_slot", "FINAL_FAILURES",
           "is_settled", "needs_attempt"]

# Failures that a retry would only repeat: the spec calls them a final answer.
FINAL_FAILURES = (Outcome.DIVERGED.value,)


@dataclass(frozen=True)
class PlannedTrial:
    """One planned trial.

    Attributes:
        slot: its key: the trial id for grids (so another machine recognises it), or
            ``slot-<k>`` for samplers whose params are drawn when a worker claims it.
        seed: the training seed.
        arm: the arm's name, or None when the sampler picks the arm.
        params: the fixed Optuna params it is enqueued with (empty for sampled slots).
    """

    slot: str
    seed: int
    arm: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def user_attrs(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {Attr.SLOT: self.slot, Attr.SEED: self.seed}
        if self.arm is not None:
            attrs[Attr.ARM] = self.arm
        return attrs


def planned_trials(spec: SweepSpec) -> list[PlannedTrial]:
    """Every trial the spec asks for, in the order workers should take them.

    Grid: seed x arm x grid point, keyed by trial id. TPE/random: ``n_trials`` numbered
    slots, seeds in rotation; the sampler fills in the params when a worker claims one.
    """
    if spec.sampler.type != "grid":
        return [PlannedTrial(f"slot-{k}", spec.seeds[k % len(spec.seeds)])
                for k in range(spec.budget.n_trials or 0)]
    out = []
    multi = len(spec.arms) > 1
    # Seed-major order: a sweep cut short (timeout, n_trials) still holds paired
    # arm-vs-arm comparisons on its first seeds.
    for seed in spec.seeds:
        for arm in spec.arms:
            for point in grid_points(arm.search_space):
                tid = trial_id(arm.config, resolved_overrides(
                    arm.overrides, point, spec.budget.epochs), seed)
                params = {"arm": arm.name, **point} if multi else dict(point)
                out.append(PlannedTrial(tid, seed, arm.name, params))
    return out[: spec.budget.n_trials] if spec.budget.n_trials else out


def attempts_by_slot(trials: Sequence[FrozenTrial]) -> dict[str, list[FrozenTrial]]:
    """The study's trials grouped by the planned trial they serve, oldest first."""
    out: dict[str, list[FrozenTrial]] = {}
    for t in sorted(trials, key=lambda t: t.number):
        out.setdefault(str(t.user_attrs.get(Attr.SLOT)), []).append(t)
    return out


def is_settled(attempts: Sequence[FrozenTrial]) -> bool:
    """Whether a planned trial has its answer: COMPLETE, PRUNED, or a final failure."""
    return any(t.state in (TrialState.COMPLETE, TrialState.PRUNED)
               or (t.state == TrialState.FAIL and t.user_attrs.get(Attr.FAILURE) in FINAL_FAILURES)
               for t in attempts)


def needs_attempt(attempts: Sequence[FrozenTrial], max_retry: int, *,
                  retry_failed: bool = False, skip: Sequence[str] = ()) -> bool:
    """Whether a planned trial should get a new attempt now.

    Never while one is queued or running, or once it is settled; otherwise while its
    failures are within ``max_retry`` retries (any number with ``retry_failed``). The
    last attempt's failure in ``skip`` waits for a re-run (e.g. bad input, which repeats
    until someone fixes the data).
    """
    if is_settled(attempts) or any(t.state in (TrialState.WAITING, TrialState.RUNNING)
                                   for t in attempts):
        return False
    if attempts and attempts[-1].user_attrs.get(Attr.FAILURE) in skip:
        return False
    return retry_failed or len(attempts) <= max_retry
