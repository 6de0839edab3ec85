"""`harness reproduce RUN_ID`: re-run a logged run and compare the two metric sets."""
from __future__ import annotations

import argparse
import sys

__all__ = ["register"]

EXAMPLE = """example:
  harness reproduce 3f2a9c0e4b8d4c1e9a7f --tracking-uri sqlite:///mlruns.db
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reproduce", help="re-run a logged run from its stored config, seed and code", epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_id")
    parser.add_argument("--tracking-uri", help="MLflow store (default: sqlite:///mlruns.db here)")
    parser.add_argument("--work-dir", help="default: work_dirs/reproduce/<run id>")
    parser.add_argument("--force", action="store_true", help="re-run even when the code differs")
    parser.set_defaults(func=run)


def run(args) -> int:
    from mlflow import MlflowClient

    from harness.tracking.store import default_tracking_uri
    from harness.train.errors import BadRequest
    from harness.train.reproduce import compare_runs, plan_reproduction
    from harness.train.runner import run_training

    client = MlflowClient(tracking_uri=args.tracking_uri or default_tracking_uri())
    try:
        plan = plan_reproduction(
            client, args.run_id, args.work_dir or f"work_dirs/reproduce/{args.run_id}", force=args.force
        )
    except BadRequest as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    result = run_training(plan.request)
    # Rank 0 always gets a result, with its run: a request rejected before training raises BadRequest.
    assert result is not None and result.run_id is not None
    print(f"{'metric':<24} {'original':>12} {'reproduced':>12} {'difference':>12}")
    for key, old, new, diff in compare_runs(client, plan.original_run_id, result.run_id):
        fmt = lambda v: f"{v:12.6f}" if v is not None else f"{'-':>12}"  # noqa: E731
        print(f"{key:<24} {fmt(old)} {fmt(new)} {fmt(diff)}")
    return 0
