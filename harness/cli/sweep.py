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

    p = spec.protocol
    trials = (f"{p.n_trials or 'grid'} tuning trials per arm, then {p.confirm.min_seeds}.."
              f"{p.confirm.max_seeds} fresh confirmation seeds" if p else f"{len(planned_trials(spec))} trials")
    print(f"{args.spec}: ok: {len(spec.arms)} arms, {len(spec.seeds)} seeds, "
          f"{trials}, {spec.sampler.type} sampler, "
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
        from harness.sweep.protocol import run_protocol

        # tune-then-confirm: stages that are ordinary sweeps with derived specs
        runner = run_protocol if spec.protocol is not None else run_sweep
        with Progress(spec.name, workers=len(slots), tty=sys.stdout.isatty()) as progress:
            status = runner(ctx, slots, on_status=progress, retry_failed=args.retry_failed)
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
    if spec.protocol is not None:
        from harness.sweep.protocol import protocol_sweep_status

        status = protocol_sweep_status(ctx)
        if status is None:
            print(f"sweep {spec.name}: no study yet in {redact(ctx.storage_url)}")
            return SweepExit.INCOMPLETE
    else:
        storage = open_storage(ctx.storage_url)
        try:
            study = optuna.load_study(study_name=ctx.study_name, storage=storage)
        except KeyError:
            print(f"sweep {spec.name}: no study yet in {redact(ctx.storage_url)}")
            return SweepExit.INCOMPLETE
        status = summarize(study.get_trials(deepcopy=False), spec.objective.direction,
                           planned=planned_trials(spec), max_retry=spec.budget.max_retry)
    print(format_status(status, title=f"sweep {spec.name} ({redact(ctx.storage_url)})"))
    _print_slurm_jobs(ctx)
    _print_links(ctx)
    return _verdict(status, args.spec)


def _print_slurm_jobs(ctx) -> None:
    """The study's SLURM array tasks, where this is a SLURM submit host."""
    from harness.slurm.jobs import configured

    if configured(os.environ):
        from harness.slurm.submit import jobs_lines

        print("\n".join(jobs_lines(ctx, os.environ)))


SUBMIT_EXAMPLES = """examples:
  harness sweep submit sweeps/wflw-paper.yaml --slurm --workers 8 --gpus-per-worker 1 \\
      --cpus-per-worker 8 --time 1-00:00:00 --partition gpu \\
      --storage postgresql://user:pass@db-host/optuna --tracking-uri http://mlflow-host:5000
  harness sweep submit sweeps/wflw-paper.yaml --slurm --workers 8 --dry-run   # print the script
  harness sweep status sweeps/wflw-paper.yaml --storage postgresql://user:pass@db-host/optuna
  harness sweep cancel sweeps/wflw-paper.yaml --storage postgresql://user:pass@db-host/optuna

Every node must reach the study and MLflow: PostgreSQL (or a journal on a shared file
system) and an `mlflow server`; anything else is refused before anything is queued.
"""


def _slurm_context(args: argparse.Namespace):
    """The checked spec's context for submit/cancel, or None after one line per problem."""
    import dataclasses

    from harness.slurm.submit import storage_problems

    spec = _checked(_load(args.spec)) if args.sweep_command == "submit" else _load(args.spec)
    if spec is None:
        return None
    ctx = _context(spec, args.storage, launcher=getattr(args, "launcher", "subprocess"))
    if args.tracking_uri:
        ctx = dataclasses.replace(ctx, tracking_uri=args.tracking_uri)
    problems = storage_problems(ctx, args.spec)
    for line in problems:
        logging.getLogger("harness.sweep").error("%s", line)
    return None if problems else ctx


def _submit(args: argparse.Namespace) -> int:
    import shlex

    from harness.slurm.jobs import SlurmError
    from harness.slurm.script import SbatchOptions, SlurmOptionError
    from harness.slurm.submit import submit_sweep, sweep_script, work_dir_warning
    from harness.sweep.plan import planned_trials

    ctx = _slurm_context(args)
    if ctx is None:
        return SweepExit.BAD_INPUT
    options = SbatchOptions(
        workers=args.workers, gpus_per_worker=args.gpus_per_worker, cpus_per_worker=args.cpus_per_worker,
        partition=args.partition, time=args.time, account=args.account, mem=args.mem,
        warn_seconds=args.warn_seconds, extra=tuple(shlex.split(args.extra or "")))
    warning = work_dir_warning(ctx)
    if warning:
        logging.getLogger("harness.sweep").warning("%s: %s", args.spec, warning)
    try:
        if args.dry_run:
            print(sweep_script(ctx, options), end="")
            return SweepExit.COMPLETE
        sub = submit_sweep(ctx, options, os.environ)
    except (SlurmOptionError, SlurmError) as exc:
        logging.getLogger("harness.sweep").error("%s: %s", args.spec, exc)
        return SweepExit.BAD_INPUT
    print(f"sweep {ctx.study_name}: job array {sub.job_id} ({options.workers} task(s)) submitted for "
          f"{len(planned_trials(ctx.spec))} planned trials ({sub.queued} queued, {sub.running} running)")
    print(f"script: {sub.script}\nlogs:   {sub.log_dir}")
    print(f"follow: harness sweep status {args.spec}" + (f" --storage '{args.storage}'" if args.storage else ""))
    return SweepExit.COMPLETE


def _cancel(args: argparse.Namespace) -> int:
    from harness.slurm.jobs import SlurmError
    from harness.slurm.submit import cancel_sweep

    ctx = _slurm_context(args)
    if ctx is None:
        return SweepExit.BAD_INPUT
    try:
        left = cancel_sweep(ctx, os.environ, wait_seconds=args.wait)
    except SlurmError as exc:
        logging.getLogger("harness.sweep").error("%s: %s", args.spec, exc)
        return SweepExit.BAD_INPUT
    if left:
        print(f"sweep {ctx.study_name}: {len(left)} SLURM task(s) still ending: "
              + ", ".join(j.job_id for j in left))
        return SweepExit.INCOMPLETE
    print(f"sweep {ctx.study_name}: SLURM tasks cancelled; interrupted trials are back in the queue "
          f"(or recovered by the next run): resume with `harness sweep submit {args.spec} --slurm` "
          "or `harness sweep run`")
    return SweepExit.COMPLETE


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

    sb = sub.add_parser("submit", help="queue the study and submit SLURM array tasks that work it off",
                        epilog=SUBMIT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sb.add_argument("spec")
    sb.add_argument("--slurm", action="store_true", required=True, help="submit to SLURM (sbatch job array)")
    sb.add_argument("--storage", help="PostgreSQL URL, or a journal on a shared file system")
    sb.add_argument("--tracking-uri", help="an `mlflow server` URL (default: the spec's mlflow.tracking_uri)")
    sb.add_argument("--workers", type=int, default=1, help="array tasks, each one sweep worker (default 1)")
    sb.add_argument("--gpus-per-worker", type=int, default=0, help="GPUs per task (--gres=gpu:G)")
    sb.add_argument("--cpus-per-worker", type=int, default=1, help="CPUs per task (default 1)")
    sb.add_argument("--partition")
    sb.add_argument("--time", help="time limit per task, SLURM's format (e.g. 4:00:00, 1-12)")
    sb.add_argument("--account")
    sb.add_argument("--mem", help="memory per node, e.g. 32G")
    sb.add_argument("--warn-seconds", type=int, default=300,
                    help="SIGUSR1 this long before the time limit: checkpoint, requeue (default 300)")
    sb.add_argument("--extra", help='further sbatch flags, e.g. "--qos high --constraint a100"')
    sb.add_argument("--launcher", default="subprocess", choices=("subprocess", "record-only"),
                    help="record-only trains nothing (tests and benchmarks of the orchestration)")
    sb.add_argument("--dry-run", action="store_true", help="print the sbatch script, submit nothing")
    sb.set_defaults(func=_submit)

    cn = sub.add_parser("cancel", help="cancel the study's SLURM tasks; the study stays resumable",
                        epilog=SUBMIT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    cn.add_argument("spec")
    cn.add_argument("--storage", help="as for `harness sweep submit`")
    cn.add_argument("--tracking-uri", help="as for `harness sweep submit`")
    cn.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the tasks to end")
    cn.set_defaults(func=_cancel)
