"""The sweep orchestrator's own ceiling: trial completions per second without training.

For each worker count (default 1, 2, 4, 8, 16) a fresh Optuna study on one PostgreSQL
database is given ``--trials`` planned trials (a random search over one float, so every
trial is a distinct configuration and work dir) and driven by ``run_sweep`` exactly as
``harness sweep run`` drives it, with the ``record-only`` launcher: each claimed trial
writes a COMPLETE result record at once instead of training, so what is measured is
claiming under the study lock, sampling, request/record files, heartbeats and ``tell``.

    .venv/bin/python benchmarks/bench_orchestration.py                     # own PostgreSQL
    .venv/bin/python benchmarks/bench_orchestration.py --workers 1,16 --trials 100
    .venv/bin/python benchmarks/bench_orchestration.py --storage postgresql://u:p@host/db

Timing (from the trials' own Optuna start/complete times, and wrappers around the
orchestrator's ``prepare`` and worker start, in this process only):

- ``setup``: ``run_sweep`` call until the trials are queued (storage, study, enqueue,
  MLflow parent run);
- ``start-up``: workers started until the first completion (process spawn and imports);
- ``steady /s``: completions per second between the first and the last completion;
- ``all-up /s``: completions per second after every worker has claimed its first trial
  (the ramp while later workers still import is left out); "-" when fewer than 20 trials
  completed after that point;
- ``wall /s``: trials / whole ``run_sweep`` wall time, start-up and tail included;
- ``by quarter /s``: the steady rate in each quarter of the completions, in order (a
  rate that rises as the queue drains means a claim's cost grows with the queue);
- ``ask->tell ms``: median time a trial spends RUNNING (claimed to told).

At the end of each measurement: every planned trial has exactly one COMPLETE Optuna trial
(lost = 0) and no slot or trial id has two COMPLETE trials (duplicated = 0); the run
exits 1 otherwise. Ratios are against the first worker count measured in the same run.
Results go to ``--out`` as JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

GOAL_PER_SECOND = 20.0  # at 16 workers on the 2-core machine (issue 9)


def _spec(root: Path, name: str, n_trials: int, workers: int, sampler: str) -> Path:
    (root / "cfg").mkdir(parents=True, exist_ok=True)
    (root / "cfg" / "a.py").write_text("# record-only: never built\n")
    spec = {"name": name, "seeds": [0],
            "sampler": {"type": sampler, "seed": 0},
            "budget": {"epochs": 1, "n_trials": n_trials},
            "arms": [{"name": "a", "method": "structured", "config": "cfg/a.py",
                      "search_space": {"model.head.loss.eps": {
                          "type": "float", "low": 0.1, "high": 2.0}}}],
            "resources": {"workers": workers},
            "work_dir": str(root / "work")}
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@contextlib.contextmanager
def _phase_clock(marks: dict[str, float]) -> Iterator[None]:
    """Record when ``prepare`` returns and when the workers are started (this process only)."""
    from harness.sweep import orchestrator

    prepare, start = orchestrator.prepare, orchestrator._start_workers

    def timed_prepare(*a: Any, **k: Any) -> Any:
        out = prepare(*a, **k)
        marks.setdefault("prepared", time.time())
        return out

    def timed_start(*a: Any, **k: Any) -> Any:
        marks.setdefault("spawn", time.time())
        return start(*a, **k)

    orchestrator.prepare, orchestrator._start_workers = timed_prepare, timed_start
    try:
        yield
    finally:
        orchestrator.prepare, orchestrator._start_workers = prepare, start


def _ts(when: dt.datetime) -> float:
    return when.timestamp()  # Optuna stores naive local times; timestamp() reads them so


def measure(url: str, tmp: Path, *, workers: int, n_trials: int, sampler: str,
            tag: str) -> dict[str, Any]:
    import optuna
    from optuna.trial import TrialState

    from harness.contracts import Attr
    from harness.sweep.launchers import plan_slots
    from harness.sweep.orchestrator import resolve_context, run_sweep
    from harness.sweep.spec import load_spec
    from harness.sweep.storage import open_storage

    name = f"orch-{tag}-w{workers}"
    root = tmp / name
    spec = load_spec(_spec(root, name, n_trials, workers, sampler), root=root)
    ctx = resolve_context(spec, root=root, host=socket.gethostname(), python=sys.executable,
                          env={"HARNESS_RECORD_ONLY_SECONDS": "0"}, storage=url,
                          launcher="record-only")
    slots = plan_slots(spec.resources, cpu_count=os.cpu_count() or 1)
    marks: dict[str, float] = {}
    with _phase_clock(marks):
        t0 = time.time()
        status = run_sweep(ctx, slots, poll_seconds=0.5)
        t1 = time.time()

    trials = optuna.load_study(study_name=name, storage=open_storage(ctx.storage_url)).trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    by_slot = Counter(str(t.user_attrs.get(Attr.SLOT)) for t in complete)
    by_tid = Counter(str(t.user_attrs.get(Attr.TRIAL_ID)) for t in complete)
    planned = {f"slot-{k}" for k in range(n_trials)}
    lost = sorted(planned - set(by_slot))
    duplicated = sorted([s for s, n in by_slot.items() if n > 1]
                        + [f"trial_id {i}" for i, n in by_tid.items() if n > 1])
    unplanned = sorted(set(by_slot) - planned)

    done = sorted(_ts(t.datetime_complete) for t in complete)
    first_claim: dict[int, float] = {}
    for t in complete:
        pid = int(t.user_attrs[Attr.PID])
        first_claim[pid] = min(first_claim.get(pid, float("inf")), _ts(t.datetime_start))
    all_up = max(first_claim.values()) if first_claim else t1
    after_up = [c for c in done if c > all_up]
    per_worker = Counter(int(t.user_attrs[Attr.PID]) for t in complete)
    ask_to_tell = [(_ts(t.datetime_complete) - _ts(t.datetime_start)) * 1000 for t in complete]
    spawn = marks.get("spawn", t0)
    return {
        "workers": workers, "trials": n_trials, "study": name,
        "attempts": len(trials), "complete": len(complete),
        "fail": sum(t.state == TrialState.FAIL for t in trials),
        "reused": sum(Attr.REUSED_FROM in t.user_attrs for t in complete),
        "lost": len(lost), "duplicated": len(duplicated), "unplanned": len(unplanned),
        "lost_slots": lost[:20], "duplicated_keys": duplicated[:20],
        "missing_in_status": len(status.missing),
        "wall_seconds": t1 - t0,
        "setup_seconds": marks.get("prepared", t0) - t0,
        "startup_seconds": (done[0] - spawn) if done else None,
        "tail_seconds": (t1 - done[-1]) if done else None,
        "steady_per_second": ((len(done) - 1) / (done[-1] - done[0])
                              if len(done) > 1 and done[-1] > done[0] else None),
        "all_up_per_second": ((len(after_up) - 1) / (after_up[-1] - after_up[0])
                              if len(after_up) >= 20 and after_up[-1] > after_up[0] else None),
        "wall_per_second": len(complete) / (t1 - t0),
        "workers_that_claimed": len(per_worker),
        "trials_per_worker_min_max": [min(per_worker.values()), max(per_worker.values())]
        if per_worker else None,
        "all_up_after_spawn_seconds": all_up - spawn,
        "ask_to_tell_ms_median": statistics.median(ask_to_tell) if ask_to_tell else None,
        # Completions/s in each quarter of the run (by completion order): a claim that
        # costs more while the queue is long shows as a rate rising towards the end.
        "quarter_per_second": _quarters(done),
    }


def _quarters(done: list[float]) -> list[float | None]:
    if len(done) < 8:
        return []
    cuts = [round(len(done) * q / 4) for q in range(5)]
    out: list[float | None] = []
    for a, b in itertools.pairwise(cuts):
        span = done[b - 1] - done[max(a - 1, 0)]
        out.append((b - max(a, 1)) / span if span > 0 else None)
    return out


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    base = rows[0]["steady_per_second"] or float("nan")
    head = ("| workers | trials | wall s | setup s | start-up s | steady /s | x first | "
            "all-up /s | wall /s | by quarter /s | ask->tell ms | lost | dup |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        ratio = (r["steady_per_second"] / base) if r["steady_per_second"] else None
        lines.append(
            f"| {r['workers']} | {r['complete']}/{r['trials']} | {_fmt(r['wall_seconds'])} | "
            f"{_fmt(r['setup_seconds'])} | {_fmt(r['startup_seconds'])} | "
            f"{_fmt(r['steady_per_second'])} | {_fmt(ratio, 2)} | "
            f"{_fmt(r['all_up_per_second'])} | {_fmt(r['wall_per_second'])} | "
            f"{' '.join(_fmt(q) for q in r['quarter_per_second']) or '-'} | "
            f"{_fmt(r['ask_to_tell_ms_median'], 0)} | {r['lost']} | {r['duplicated']} |")
    return "\n".join(lines)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4,8,16",
                        help="comma-separated worker counts, measured in this order")
    parser.add_argument("--trials", type=int, default=300, help="planned trials per worker count")
    parser.add_argument("--sampler", choices=("random", "tpe"), default="random")
    parser.add_argument("--storage", help="a PostgreSQL URL to use instead of a throw-away cluster")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/bench_orchestration.json"))
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # as `harness sweep run` does
    from harness.storage import normalize_url, redact

    tag = time.strftime("%Y%m%d%H%M%S")
    results: dict[str, Any] = {"machine": platform.node(), "cpus": os.cpu_count(),
                               "python": platform.python_version(),
                               "optuna": optuna.__version__, "sampler": args.sampler,
                               "date": time.strftime("%Y-%m-%d %H:%M"),
                               "load_before": _load(), "runs": []}
    print(f"load average before: {results['load_before']}", flush=True)
    with contextlib.ExitStack() as stack:
        if args.storage:
            url = normalize_url(args.storage, base=REPO)
        else:
            from _postgres import throwaway_postgres

            url = normalize_url(stack.enter_context(throwaway_postgres()), base=REPO)
        results["storage"] = redact(url)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-orch-")))
        for workers in counts:
            row = measure(url, tmp, workers=workers, n_trials=args.trials,
                          sampler=args.sampler, tag=tag)
            row["load_after"] = _load()
            results["runs"].append(row)
            print(f"{workers:>2} workers: {row['complete']}/{row['trials']} complete, "
                  f"steady {_fmt(row['steady_per_second'])}/s, wall {_fmt(row['wall_seconds'])} s, "
                  f"lost {row['lost']}, duplicated {row['duplicated']}, load {row['load_after']}",
                  flush=True)
    results["load_after"] = _load()
    print()
    print(table(results["runs"]))
    print(f"\nload average after: {results['load_after']}; storage {results['storage']}")
    bad = [r for r in results["runs"]
           if r["lost"] or r["duplicated"] or r["unplanned"] or r["missing_in_status"]]
    for r in bad:
        print(f"{r['workers']} workers: lost {r['lost_slots']} duplicated {r['duplicated_keys']}"
              f" unplanned {r['unplanned']} missing in status {r['missing_in_status']}")
    top = [r for r in results["runs"] if r["workers"] == 16]
    if top and top[0]["steady_per_second"] is not None:
        met = top[0]["steady_per_second"] >= GOAL_PER_SECOND
        print(f"goal >= {GOAL_PER_SECOND:.0f} completions/s at 16 workers: "
              f"{'met' if met else 'NOT met'} ({top[0]['steady_per_second']:.1f}/s steady)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
