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

from harness.contracts import Attr
from harness.sweep.plan import PlannedTrial, attempts_by_slot, is_settled

__all__ = ["MissingTrial", "SweepStatus", "summarize", "format_status", "format_missing",
           "trials_csv"]


@dataclass(frozen=True)
class MissingTrial:
    """A planned trial without its answer, and what a person needs to act on it."""

    slot: str
    arm: str
    seed: int
    params: dict[str, Any]
    attempts: int
    state: str  # the last attempt's state, or "never started"
    last_failure: str | None
    log: str | None
    retries_left: bool


@dataclass(frozen=True)
class SweepStatus:
    """Counts by state, the best trial, the running ones and a per-arm table."""

    counts: dict[str, int]
    best: dict[str, Any] | None
    running: list[dict[str, Any]] = field(default_factory=list)
    arms: list[dict[str, Any]] = field(default_factory=list)
    mean_trial_seconds: float | None = None
    missing: list[MissingTrial] = field(default_factory=list)

    @property
    def n_done(self) -> int:
        return self.counts.get("COMPLETE", 0) + self.counts.get("PRUNED", 0)

    @property
    def n_left(self) -> int:
        return self.counts.get("WAITING", 0) + self.counts.get("RUNNING", 0)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"n_{k.lower()}": v for k, v in self.counts.items()}
        out.update(best=self.best, arms=self.arms, mean_trial_seconds=self.mean_trial_seconds,
                   best_value=self.best["value"] if self.best else None,
                   n_missing=len(self.missing))
        return out


def _arm(t: FrozenTrial) -> str:
    return str(t.user_attrs.get(Attr.ARM, t.params.get("arm", "?")))


def _value(t: FrozenTrial) -> float:
    assert t.value is not None  # called on COMPLETE trials with a value only
    return t.value


def _cell(v: float | None, width: int) -> str:
    return f"{v:>{width}.4f}" if v is not None else f"{'-':>{width}}"


def _missing(planned: list[PlannedTrial], trials: list[FrozenTrial],
             max_retry: int) -> list[MissingTrial]:
    by_slot = attempts_by_slot(trials)
    out = []
    for p in planned:
        attempts = by_slot.get(p.slot, [])
        if is_settled(attempts):
            continue
        last = attempts[-1] if attempts else None
        out.append(MissingTrial(
            slot=p.slot, arm=_arm(last) if last else (p.arm or "?"), seed=p.seed,
            params={k: v for k, v in (last.params if last else p.params).items() if k != "arm"},
            attempts=len(attempts), state=last.state.name if last else "never started",
            last_failure=last.user_attrs.get(Attr.FAILURE) if last else None,
            log=last.user_attrs.get(Attr.LOG) if last else None,
            retries_left=len(attempts) <= max_retry))
    return out


def summarize(trials: list[FrozenTrial], direction: str = "minimize", *,
              planned: list[PlannedTrial] | None = None, max_retry: int = 0) -> SweepStatus:
    """The status of a study; with ``planned``, also which planned trials lack an answer."""
    counts = Counter(t.state.name for t in trials)
    for state in ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"):
        counts.setdefault(state, 0)
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    pick = min if direction == "minimize" else max
    best = pick(done, key=_value) if done else None
    arms = []
    for name in sorted({_arm(t) for t in trials}):
        values = [_value(t) for t in done if _arm(t) == name]
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
                  "host": t.user_attrs.get(Attr.HOST), "pid": t.user_attrs.get(Attr.PID),
                  "started": t.datetime_start.isoformat(timespec="seconds")
                  if t.datetime_start else None}
                 for t in trials if t.state == TrialState.RUNNING],
        arms=arms,
        mean_trial_seconds=statistics.fmean(durations) if durations else None,
        missing=_missing(planned, trials, max_retry) if planned is not None else [],
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
        lines.extend(f"{a['arm']:<20} {a['n_complete']:>3} {_cell(a['mean'], 9)} "
                     f"{_cell(a['std'], 8)} {_cell(a['best'], 9)}" for a in status.arms)
    lines.extend(f"running: trial {r['number']} ({r['arm']}) on {r['host']} pid {r['pid']}"
                 f" since {r['started']}" for r in status.running)
    return "\n".join(lines)


def format_missing(status: SweepStatus, *, spec_path: str) -> str:
    """The table of planned trials without an answer, and the command that retries them."""
    if not status.missing:
        return ""
    lines = [f"INCOMPLETE: {len(status.missing)} planned trial(s) without a result:",
             (f"{'arm':<16} {'seed':>4} {'tries':>5} {'state':<14} {'last failure':<16} "
              f"{'params':<28} log")]
    for m in status.missing:
        params = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in m.params.items()) or "-"
        lines.append(f"{m.arm:<16} {m.seed:>4} {m.attempts:>5} {m.state:<14} "
                     f"{m.last_failure or '-':<16} {params:<28} {m.log or '-'}")
    spent = any(not m.retries_left for m in status.missing)
    lines.append(f"retry: harness sweep run {spec_path}" + (" --retry-failed" if spent else "")
                 + ("   (retry budget spent: --retry-failed gives one more attempt each)"
                    if spent else ""))
    return "\n".join(lines)


def trials_csv(trials: list[FrozenTrial]) -> str:
    """One row per Optuna trial: number, state, value, arm, seed, trial id, run id, params."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["number", "state", "value", "arm", "seed", "trial_id", "mlflow_run_id",
                     "failure", "params"])
    for t in trials:
        a = t.user_attrs
        writer.writerow([t.number, t.state.name, t.value, _arm(t), a.get(Attr.SEED),
                         a.get(Attr.TRIAL_ID), a.get(Attr.MLFLOW_RUN_ID),
                         a.get(Attr.FAILURE), repr(t.params)])
    return buf.getvalue()
