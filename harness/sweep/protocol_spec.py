"""The ``protocol:`` section of a sweep spec, parsed into frozen dataclasses.

::

    protocol:
      kind: tune-then-confirm
      tune: {n_trials: 4}                 # per arm; sampler, pruner, epochs, seeds: the spec's own
      confirm:
        baseline: softargmax              # the arm every other arm is compared with
        seeds: {min: 3, max: 10}          # or an integer K: K seeds, no early stop
        step: 1                           # seeds added per round
        margin: 0.1                       # NME points: stop once the interval is this narrow
        alpha: 0.05
        first_seed: 1000                  # fresh seeds count up from here, skipping tuning seeds

Checked with the rest of the spec (:func:`harness.sweep.spec.parse_spec`): every mistake is
one line naming the file and the key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.sweep.spec import _Reader

__all__ = ["PROTOCOL_KINDS", "Confirm", "Protocol", "parse_protocol"]

PROTOCOL_KINDS = ("tune-then-confirm",)


@dataclass(frozen=True)
class Confirm:
    """The confirmation stage: fresh seeds, added in rounds until each comparison is decided.

    Attributes:
        baseline: arm name.
        min_seeds, max_seeds, step: the looks are min, min + step, ..., max seeds.
        margin: NME points; a comparison whose interval half-width falls below it stops
            ("equivalent within the margin"). None: only a decided sign or ``max`` stops it.
        alpha: error rate of declaring a difference, over all looks together.
        first_seed: confirmation seeds are first_seed, first_seed + 1, ... minus tuning seeds.
        metric: the record's metric compared (``test/nme``).
    """

    baseline: str
    min_seeds: int = 3
    max_seeds: int = 3
    step: int = 1
    margin: float | None = None
    alpha: float = 0.05
    first_seed: int = 1000
    metric: str = "test/nme"

    @property
    def looks(self) -> tuple[int, ...]:
        """Seed counts at which the comparisons are decided, e.g. (3, 4, ..., 10)."""
        out = list(range(self.min_seeds, self.max_seeds, self.step)) + [self.max_seeds]
        return tuple(out)

    def seeds(self, tuning_seeds: tuple[int, ...]) -> tuple[int, ...]:
        """The ``max_seeds`` fresh seeds, in the order rounds use them (none a tuning seed)."""
        out: list[int] = []
        s = self.first_seed
        while len(out) < self.max_seeds:
            if s not in tuning_seeds:
                out.append(s)
            s += 1
        return tuple(out)


@dataclass(frozen=True)
class Protocol:
    """``tune-then-confirm``: equal tuning per arm, selection on val, fresh-seed confirmation.

    ``n_trials`` is each arm's tuning budget (None: a grid sampler's full grid).
    """

    kind: str
    confirm: Confirm
    n_trials: int | None = None


def _seeds(c: _Reader) -> tuple[int, int]:
    raw = c.data.get("seeds", 3)
    if isinstance(raw, int) and not isinstance(raw, bool):
        low = high = raw
    elif isinstance(raw, dict):
        s = c.sub("seeds")
        s.check_keys({"min", "max"})
        low, high = s.get("min", int, 3), s.get("max", int, 3)
    else:
        c.fail(f"expected an integer or {{min: N, max: M}}, got {raw!r}", c.key("seeds"))
        return 3, 3
    if low is None or high is None:
        return 3, 3
    if low < 2:
        c.fail(f"at least 2 confirmation seeds are needed for an interval, got {low}", c.key("seeds"))
    if high < low:
        c.fail(f"max ({high}) is below min ({low})", c.key("seeds"))
    return low, max(low, high)


def _confirm(c: _Reader, arm_names: list[str]) -> Confirm:
    c.check_keys({"baseline", "seeds", "step", "margin", "alpha", "first_seed", "metric"})
    baseline = c.get("baseline", str)
    if baseline is not None and baseline not in arm_names:
        c.fail(f"{baseline!r} is not an arm (arms: {', '.join(arm_names)})", c.key("baseline"))
    low, high = _seeds(c)
    step = c.get("step", int, 1)
    if step < 1:
        c.fail(f"must be >= 1, got {step}", c.key("step"))
        step = 1
    margin = c.get("margin", (int, float), None)
    if margin is not None and margin <= 0:
        c.fail(f"must be > 0 (NME points), got {margin}", c.key("margin"))
    alpha = c.get("alpha", float, 0.05)
    if not 0 < alpha < 0.5:
        c.fail(f"must lie in (0, 0.5), got {alpha}", c.key("alpha"))
        alpha = 0.05
    metric = c.get("metric", str, "test/nme")
    if not metric.startswith("test/"):
        c.fail(f"confirmation compares a test metric (test/...), got {metric!r}", c.key("metric"))
    return Confirm(baseline=baseline or "", min_seeds=low, max_seeds=high, step=step,
                   margin=None if margin is None else float(margin), alpha=alpha,
                   first_seed=c.get("first_seed", int, 1000), metric=metric)


def parse_protocol(top: _Reader, arm_names: list[str], budget_n_trials: Any,
                   sampler_type: str) -> Protocol | None:
    """The spec's ``protocol`` section, or None when it has none (mistakes go to ``top``)."""
    if top.data.get("protocol") is None:
        return None
    p = top.sub("protocol")
    p.check_keys({"kind", "tune", "confirm"})
    kind = p.get("kind", str, choices=PROTOCOL_KINDS)
    t = p.sub("tune")
    t.check_keys({"n_trials"})
    n_trials = t.get("n_trials", int, None)
    if n_trials is not None and n_trials < 1:
        t.fail(f"must be >= 1, got {n_trials}", t.key("n_trials"))
    if n_trials is None and sampler_type != "grid":
        t.fail(f"required with sampler {sampler_type!r} (each arm's tuning trials)", t.key("n_trials"))
    if budget_n_trials is not None:
        top.fail("not used with a protocol: each arm's tuning budget is protocol.tune.n_trials",
                 "budget.n_trials")
    if len(arm_names) < 2:
        top.fail("a tune-then-confirm protocol compares at least 2 arms", "arms")
    if "confirm" not in p.data:
        p.fail("missing required key", p.key("confirm"))
    confirm = _confirm(p.sub("confirm"), arm_names)
    return Protocol(kind=kind or PROTOCOL_KINDS[0], confirm=confirm, n_trials=n_trials)
