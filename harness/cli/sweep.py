"""`harness sweep run|validate|status`: Optuna sweeps of training runs, recorded in MLflow."""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from harness.contracts import SweepExit

__all__ = ["register"]

DEFAULT_SPEC = "sweeps/demo.yaml"

EXAMPLES = """examples:
  harness sweep validate sweeps/demo.yaml
  harness sweep run                                  # sweeps/demo.yaml on this machine
  harness sweep run sweeps/wflw-paper.yaml --workers 8
  harness sweep run sweeps/wflw-paper.yaml --storage postgresql://user:pass@db-host/optuna
  harness sweep run sweeps/demo.yaml --dry-run       # show the trials, train nothing
  harness sweep status sweeps/demo.yaml
  harness sweep run sweeps/demo.yaml --retry-failed   # one more attempt for spent retries
  optuna-dashboard work_dirs/sweeps/demo/optuna.journal   # the study in a browser

exit status (run and status): 0 every planned trial ended COMPLETE, PRUNED or diverged;
  1 some planned trial has no result yet (a table says which, and how to retry);
  2 the spec or a config it names is wrong (nothing was started).
"""


def _load(path: str):
    """The parsed spec, or None after logging each of its mistakes on its own line."""
    from harness.sweep.spec import SpecError, load_spec

    try:
        return load_spec(path, root=Path.cwd())
    except SpecError as exc:
        for line in exc.problems:
            logging.getLogger("harness.sweep").error("%s", line)
        return None


def _checked(spec):
    """``spec`` if its arms agree with their configs (and models build), else None."""
    if spec is None:
        return None
    from harness.sweep.validate import spec_problems

    problems = spec_problems(spec, Path.cwd())
    for line in problems:
        logging.getLogger("harness.sweep").error("%s", line)
    return None if problems else spec


def _validate(args: argparse.Namespace) -> int:
    from harness.sweep.spec import SpecError, load_spec
    from harness.sweep.validate import arm_lines, spec_problems

    try:
        spec = load_spec(args.spec, root=Path.cwd())
        lines = spec_problems(spec, Path.cwd())
    except SpecError as exc:
        # Arms the YAML got right are still checked against their configs: all at once.
        spec, lines = None, list(exc.problems)
        for i, arm in exc.arms:
            lines += arm_lines(args.spec, i, arm, Path.cwd())
    for line in lines:
        logging.getLogger("harness.sweep").error("%s", line)
    if spec is None or lines:
        return SweepExit.BAD_INPUT
    from harness.sweep.orchestrator import planned_trials

    print(f"{args.spec}: ok: {len(spec.arms)} arms, {len(spec.seeds)} seeds, "
          f"{len(planned_trials(spec))} trials, {spec.sampler.type} sampler, "
          f"{spec.pruner.type} pruner, {spec.budget.epochs} epochs; every arm's keys are "
          "in its config and its model builds")
    return SweepExit.COMPLETE


def _context(spec, storage: str | None, **extra):
    from harness.sweep.orchestrator import resolve_context

    return resolve_context(spec, root=Path.cwd(), host=socket.gethostname(),
                           python=sys.executable, env=dict(os.environ), storage=storage, **extra)


def _run(args: argparse.Namespace) -> int:
    spec = _load(args.spec)
    spec = _checked(spec)  # before anything is created in the storage or in MLflow
    if spec is None:
        return SweepExit.BAD_INPUT
    import dataclasses

    import optuna

    from harness.sweep.launchers import plan_slots
    from harness.sweep.orchestrator import run_sweep
    from harness.sweep.progress import Progress
    from harness.sweep.status import format_status

    # Optuna logs "Using an existing study" once per worker and poll; keep warnings only.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if args.workers:
        spec = dataclasses.replace(
            spec, resources=dataclasses.replace(spec.resources, workers=args.workers))
    deadline = time.time() + spec.budget.timeout if spec.budget.timeout else None
    with tempfile.TemporaryDirectory(prefix="harness-dry-run-") as scratch:
        # A dry run samples in a throw-away study so it never touches the real one.
        storage = f"journal:{scratch}/optuna.journal" if args.dry_run else args.storage
        ctx = _context(spec, storage, launcher="dry-run" if args.dry_run else "subprocess",
                       deadline=deadline)
        if args.dry_run:
            ctx = dataclasses.replace(ctx, work_dir=Path(scratch) / "work")
        slots = plan_slots(spec.resources, cpu_count=os.cpu_count() or 1)
        logging.getLogger("harness.sweep").info(
            "sweep %s: %d worker(s); MLflow %s (experiment %r)", spec.name, len(slots),
            ctx.tracking_uri, ctx.experiment)
        with Progress(spec.name, workers=len(slots), tty=sys.stdout.isatty()) as progress:
            status = run_sweep(ctx, slots, on_status=progress, retry_failed=args.retry_failed)
    if args.dry_run:
        print(f"dry run: {status.counts['FAIL']} trials would train; nothing was trained or recorded")
        return SweepExit.COMPLETE
    print(format_status(status, title=f"sweep {spec.name}"))
    _print_links(ctx)
    return _verdict(status, args.spec)


def _print_links(ctx) -> None:
    from mlflow import MlflowClient

    from harness.storage import redact
    from harness.tracking.links import experiment_url, ui_command

    exp = MlflowClient(ctx.tracking_uri).get_experiment_by_name(ctx.experiment)
    if exp is not None:
        print(f"MLflow runs:      {experiment_url(ctx.tracking_uri, exp.experiment_id)}")
    if ui_command(ctx.tracking_uri):
        print(f"MLflow UI:        {ui_command(ctx.tracking_uri)}")
    print(f"optuna-dashboard: optuna-dashboard {redact(ctx.storage_url).removeprefix('journal:')}")


def _verdict(status, spec_path: str) -> int:
    """Exit COMPLETE only when every planned trial has its answer; else say what is missing."""
    from harness.sweep.status import format_missing

    if not status.missing:
        return SweepExit.COMPLETE
    print(format_missing(status, spec_path=spec_path))
    return SweepExit.INCOMPLETE


def _status(args: argparse.Namespace) -> int:
    spec = _load(args.spec)
    if spec is None:
        return SweepExit.BAD_INPUT
    import optuna

    from harness.storage import is_journal, journal_path, redact
    from harness.sweep.plan import planned_trials
    from harness.sweep.status import format_status, summarize
    from harness.sweep.storage import open_storage

    ctx = _context(spec, args.storage)
    if is_journal(ctx.storage_url) and not journal_path(ctx.storage_url).exists():
        print(f"sweep {spec.name}: no study yet in {ctx.storage_url}")  # and create nothing
        return SweepExit.INCOMPLETE
    storage = open_storage(ctx.storage_url)
    try:
        study = optuna.load_study(study_name=ctx.study_name, storage=storage)
    except KeyError:
        print(f"sweep {spec.name}: no study yet in {redact(ctx.storage_url)}")
        return SweepExit.INCOMPLETE
    status = summarize(study.get_trials(deepcopy=False), spec.objective.direction,
                       planned=planned_trials(spec), max_retry=spec.budget.max_retry)
    print(format_status(status, title=f"sweep {spec.name} ({redact(ctx.storage_url)})"))
    _print_links(ctx)
    return _verdict(status, args.spec)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep", help="run, validate or inspect an Optuna sweep (sweeps/*.yaml)",
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="sweep_command", metavar="ACTION", required=True)

    run = sub.add_parser("run", help="run or resume a sweep", epilog=EXAMPLES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("spec", nargs="?", default=DEFAULT_SPEC, help=f"default {DEFAULT_SPEC}")
    run.add_argument("--storage", help="Optuna storage: a journal file path, or "
                     "postgresql://user:pass@host/db shared by many machines")
    run.add_argument("--workers", type=int, help="parallel trials on this machine")
    run.add_argument("--dry-run", action="store_true", help="show the trials, train nothing")
    run.add_argument("--retry-failed", action="store_true",
                     help="give failed trials whose retry budget is spent one more attempt")
    run.set_defaults(func=_run)

    val = sub.add_parser("validate",
                         help="check a spec: every mistake at once, each arm's keys against its config, "
                              "its model built",
                         epilog="example:\n  harness sweep validate sweeps/demo.yaml",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    val.add_argument("spec")
    val.set_defaults(func=_validate)

    st = sub.add_parser("status", help="trials by state, best so far, running workers",
                        epilog="example:\n  harness sweep status sweeps/demo.yaml",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    st.add_argument("spec")
    st.add_argument("--storage", help="as for `harness sweep run`")
    st.set_defaults(func=_status)
