"""What a sweep has done so far, as pure functions of its Optuna trials.

Used by ``harness sweep status``, the live progress display and the parent run's summary.
"""
from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from optuna.trial import FrozenTrial, TrialState

__all__ = ["SweepStatus", "summarize", "format_status", "trials_csv"]


@dataclass(frozen=True)
class SweepStatus:
    """Counts by state, the best trial, the running ones and a per-arm table."""

    counts: dict[str, int]
    best: dict[str, Any] | None
    running: list[dict[str, Any]] = field(default_factory=list)
    arms: list[dict[str, Any]] = field(default_factory=list)
    mean_trial_seconds: float | None = None

    @property
    def n_done(self) -> int:
        return self.counts.get("COMPLETE", 0) + self.counts.get("PRUNED", 0)

    @property
    def n_left(self) -> int:
        return self.counts.get("WAITING", 0) + self.counts.get("RUNNING", 0)

    def as_dict(self) -> dict[str, Any]:
        out = {f"n_{k.lower()}": v for k, v in self.counts.items()}
        out.update(best=self.best, arms=self.arms, mean_trial_seconds=self.mean_trial_seconds,
                   best_value=self.best["value"] if self.best else None)
        return out


def _arm(t: FrozenTrial) -> str:
    return str(t.user_attrs.get("harness.arm", t.params.get("arm", "?")))


def summarize(trials: list[FrozenTrial], direction: str = "minimize") -> SweepStatus:
    counts = Counter(t.state.name for t in trials)
    for state in ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"):
        counts.setdefault(state, 0)
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    pick = min if direction == "minimize" else max
    best = pick(done, key=lambda t: t.value) if done else None
    arms = []
    for name in sorted({_arm(t) for t in trials}):
        values = [t.value for t in done if _arm(t) == name]
        arms.append({
            "arm": name, "n_complete": len(values),
            "mean": statistics.fmean(values) if values else None,
            "std": statistics.stdev(values) if len(values) > 1 else None,
            "best": pick(values) if values else None,
        })
    durations = [t.duration.total_seconds() for t in trials
                 if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and t.duration]
    return SweepStatus(
        counts=dict(counts),
        best=None if best is None else {"number": best.number, "value": best.value,
                                        "arm": _arm(best), "params": best.params},
        running=[{"number": t.number, "arm": _arm(t),
                  "host": t.user_attrs.get("harness.host"), "pid": t.user_attrs.get("harness.pid"),
                  "started": t.datetime_start.isoformat(timespec="seconds")
                  if t.datetime_start else None}
                 for t in trials if t.state == TrialState.RUNNING],
        arms=arms,
        mean_trial_seconds=statistics.fmean(durations) if durations else None,
    )


def format_status(status: SweepStatus, *, title: str = "") -> str:
    """A plain-text report for the terminal."""
    c = status.counts
    lines = [title] if title else []
    lines.append("trials: " + ", ".join(f"{c[k]} {k.lower()}" for k in
                                        ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")))
    if status.best:
        b = status.best
        lines.append(f"best: {b['value']:.4f} (trial {b['number']}, arm {b['arm']})")
    if status.arms:
        lines.append(f"{'arm':<20} {'n':>3} {'mean':>9} {'std':>8} {'best':>9}")
        fmt = lambda v, w: f"{v:>{w}.4f}" if v is not None else f"{'-':>{w}}"  # noqa: E731
        for a in status.arms:
            lines.append(f"{a['arm']:<20} {a['n_complete']:>3} {fmt(a['mean'], 9)} "
                         f"{fmt(a['std'], 8)} {fmt(a['best'], 9)}")
    for r in status.running:
        lines.append(f"running: trial {r['number']} ({r['arm']}) on {r['host']} pid {r['pid']}"
                     f" since {r['started']}")
    return "\n".join(lines)


def trials_csv(trials: list[FrozenTrial]) -> str:
    """One row per Optuna trial: number, state, value, arm, seed, trial id, run id, params."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["number", "state", "value", "arm", "seed", "trial_id", "mlflow_run_id",
                     "failure", "params"])
    for t in trials:
        a = t.user_attrs
        writer.writerow([t.number, t.state.name, t.value, _arm(t), a.get("harness.seed"),
                         a.get("harness.trial_id"), a.get("mlflow_run_id"),
                         a.get("harness.failure"), repr(t.params)])
    return buf.getvalue()
