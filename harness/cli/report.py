"""`harness report generate`: the comparison report, from MLflow records alone."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import yaml

__all__ = ["register", "read_sweep_spec"]

DEFAULT_TRACKING_URI = "sqlite:///mlruns.db"
DEFAULT_EXPERIMENT = "harness"  # TrainRequest's default experiment name

EXAMPLES = """examples:
  harness report generate --sweep sweeps/demo.yaml
  harness report generate --experiment harness --tracking-uri sqlite:///mlruns.db \\
      --baseline star --target baseline-final-5pct --out reports/harness
  harness report generate --experiment harness --target 6.0   # fixed 6% val NME target
"""


def read_sweep_spec(path: str | Path) -> dict[str, str | None]:
    """Only ``name``, ``mlflow.tracking_uri`` and ``mlflow.experiment`` of a sweep spec.

    Deliberately minimal and tolerant: the full spec parser belongs to the sweep package,
    which reports must not import (architecture rule); unknown keys are ignored.
    """
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a sweep spec must be a YAML mapping")
    mlflow_value = data.get("mlflow")
    mlflow_cfg = mlflow_value if isinstance(mlflow_value, dict) else {}
    name = data.get("name")
    return {"name": str(name) if name is not None else Path(path).stem,
            "tracking_uri": mlflow_cfg.get("tracking_uri"), "experiment": mlflow_cfg.get("experiment")}


def _command(args: argparse.Namespace) -> str:
    """The command line that regenerates this report, shown inside it."""
    parts = ["harness", "report", "generate"]
    for flag in ("sweep", "experiment", "tracking_uri", "baseline", "target", "out"):
        value = getattr(args, flag)
        if value:
            parts += ["--" + flag.replace("_", "-"), str(value)]
    return shlex.join(parts)


def _run(args: argparse.Namespace) -> int:
    # MLflow draws a progress bar per downloaded artifact; one report downloads one per run.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from harness.report import RecordsError, ReportRequest, generate_report

    sweep = None
    tracking_uri, experiment = args.tracking_uri, args.experiment
    try:
        if args.sweep:
            spec = read_sweep_spec(args.sweep)
            sweep = spec["name"]
            tracking_uri = tracking_uri or spec["tracking_uri"]
            experiment = experiment or spec["experiment"] or DEFAULT_EXPERIMENT
        request = ReportRequest(
            tracking_uri=tracking_uri or DEFAULT_TRACKING_URI, experiment=experiment or DEFAULT_EXPERIMENT,
            out=Path(args.out or f"reports/{sweep or experiment or DEFAULT_EXPERIMENT}"), sweep=sweep,
            baseline=args.baseline, target=args.target, log_to_parent=not args.no_log,
            command=_command(args),
        )
        result = generate_report(request)
    except (RecordsError, ValueError, OSError, yaml.YAMLError) as exc:
        # One line: YAML errors span several lines with a caret marker.
        print(f"harness report: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(f"note: {note}")
    for line in result.verdict:  # the ten-second reading, before any path
        print(line)
    print(f"report: {result.out / 'index.html'} ({len(result.files)} files)")
    if result.logged_to:
        print(f"logged as artifact 'report' on sweep parent run {result.logged_to}")
    return 0


def register(subparsers) -> None:
    """Add `report generate` to the `harness` parser."""
    parser = subparsers.add_parser("report", help="build comparison reports from MLflow records")
    sub = parser.add_subparsers(dest="report_command", metavar="SUBCOMMAND", required=True)
    gen = sub.add_parser(
        "generate", help="write index.html, report.md, CSV tables and PNG/SVG figures",
        description="Compare training objectives from the MLflow records of an experiment or sweep.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = gen.add_mutually_exclusive_group()
    what.add_argument("--experiment", help=f"MLflow experiment name (default {DEFAULT_EXPERIMENT!r})")
    what.add_argument("--sweep", metavar="SPEC_YAML", help="sweep spec: its name, tracking URI and experiment")
    gen.add_argument("--tracking-uri", help=f"MLflow tracking URI (default {DEFAULT_TRACKING_URI}, or the spec's)")
    gen.add_argument("--baseline", help="arm or method compared against (default: star, softargmax, dsnt, heatmap_mse)")
    gen.add_argument("--target", default="baseline-final-5pct",
                     help='val NME percent to reach, or "baseline-final-5pct" (default)')
    gen.add_argument("--out", help="output directory (default reports/NAME)")
    gen.add_argument("--no-log", action="store_true", help="do not log the report on the sweep's parent run")
    gen.set_defaults(func=_run)
