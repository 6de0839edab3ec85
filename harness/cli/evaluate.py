"""`harness evaluate`: score a trained model on a split of any prepared or synthetic set."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.contracts import ExitCode

if TYPE_CHECKING:
    from harness.evaluate import EvalResult

__all__ = ["register"]

EXAMPLE = """examples:
  # a run's best checkpoint (its logged model) on another set's test split
  harness evaluate 3f2a...c9 --data data/300w --split test_challenge \\
      --tracking-uri sqlite:///work_dirs/sweeps/demo/mlflow.db
  harness evaluate models:/m-7d1e... --data data/cofw --split test
  # a checkpoint with no MLflow record behind it
  harness evaluate --checkpoint work_dirs/x/seed0/epoch_12.pth --config work_dirs/x/seed0/resolved_config.py \\
      --data data/synth-300w --split test
  # a released STAR / RwSA checkpoint (config: the set's mm_configs/<set>/star_star-hg4_* leaf)
  harness evaluate --checkpoint best_model.pkl --arch star-hg4 --data data/wflw --split test
A 98-point (WFLW) model is scored on 68-point (300W) and 29-point (COFW) sets through a
landmark mapping; other scheme pairs are refused."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="score a run, logged model or checkpoint on a split of a prepared set (no training)",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", nargs="?", help="a training run id, or models:/<model-id>")
    parser.add_argument("--sweep", help="every finished training run of this sweep (its name), one after another")
    parser.add_argument("--checkpoint", help="a checkpoint file (with --config, instead of a run)")
    parser.add_argument("--config", help="the checkpoint's resolved config")
    parser.add_argument("--arch", choices=("star-hg4",),
                        help="a released checkpoint of this architecture (STAR/RwSA best_model.pkl): its layout, "
                        "input and pixel conventions, the paper's NME normaliser; --config defaults to the set's "
                        "star_star-hg4 leaf")
    parser.add_argument("--data", required=True, help="a set made by `harness data prepare` or `harness data synth`")
    parser.add_argument("--split", default="test", help="annotations/<split>.json of the set (default: test)")
    parser.add_argument("--which", choices=("best", "last"), default="best",
                        help="a run's best-validation or last checkpoint (default: best; the run's own test "
                        "metrics are the last one's)")
    flip = parser.add_mutually_exclusive_group()
    flip.add_argument("--flip-test", dest="flip_test", action="store_true", default=None,
                      help="average with the horizontally flipped image (default: as the config says)")
    flip.add_argument("--no-flip-test", dest="flip_test", action="store_false")
    parser.add_argument("--tracking-uri", help="MLflow store (default: sqlite:///mlruns.db here)")
    parser.add_argument("--experiment", help="the evaluation run's experiment (default: the training run's)")
    parser.add_argument("--out", default="work_dirs/evaluate", help="eval configs, predictions and logs")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.set_defaults(func=run)


def _sweep_targets(args: argparse.Namespace) -> list[str]:
    from harness.tracking.models import sweep_runs
    from harness.tracking.run import open_client_for_reading
    from harness.tracking.store import default_tracking_uri
    from harness.train.errors import BadRequest

    uri = args.tracking_uri or default_tracking_uri()
    try:
        runs = sweep_runs(open_client_for_reading(uri), args.sweep)
    except (ValueError, ConnectionError) as exc:
        raise BadRequest(str(exc)) from exc
    if not runs:
        raise BadRequest(f"no finished training run of sweep {args.sweep!r} in {uri}")
    return [r.info.run_id for r in runs]


def run(args: argparse.Namespace) -> int:
    from harness.evaluate import EvalRequest, evaluate
    from harness.train.errors import BadRequest

    # The process's own setting (a CLI run): MLflow's download bars would bury the one-line results.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    try:
        if args.sweep and (args.target or args.checkpoint or args.config):
            raise BadRequest("--sweep evaluates the sweep's runs: give no RUN_ID, --checkpoint or --config with it")
        targets = _sweep_targets(args) if args.sweep else [args.target]
        for target in targets:
            _report(evaluate(EvalRequest(
                target=target, data=Path(args.data), split=args.split, out=Path(args.out),
                checkpoint=args.checkpoint, config=args.config, which=args.which, flip_test=args.flip_test,
                arch=args.arch, tracking_uri=args.tracking_uri or "", experiment=args.experiment,
                threads=args.threads)))
    except BadRequest as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.sweep:
        uri = f" --tracking-uri {args.tracking_uri}" if args.tracking_uri else ""
        print(f"Your own faces: harness data prepare 300w --src DIR --out data/mine && "
              f"harness evaluate --sweep {args.sweep} --data data/mine --split test_full{uri}")
    return ExitCode.OK


def _report(result: EvalResult) -> None:
    from harness.train.describe import decoder_name

    s, ec = result.scores, result.config
    mapped = f", mapped {ec.model_scheme}->{ec.data_scheme}" if ec.mapped else ""
    # No number without its normaliser and decoder (one model, one checkpoint: no seed count here).
    print(f"{result.source.label}\n  on {result.data.label} ({result.num_images} images{mapped}, "
          f"{ec.cfg.test_evaluator.normalizer} NME, decoder {decoder_name(ec.cfg.model.head)}, "
          f"flip test {'on' if ec.flip_test else 'off'}): "
          f"NME {s['nme']:.4f}%  FR@{100 * ec.cfg.test_evaluator.threshold:g}% {s['fr']:.2f}%  AUC {s['auc']:.4f}")
    same = result.matches_own_test
    if same is not None:
        print(f"  the training run's own test split: {'equal to' if same else 'DIFFERENT from'} its test metrics "
              f"(test/nme {result.own_test.get('nme', float('nan')):.4f}%)")
    print(f"  evaluation run {result.run_id}; per-image NME: {result.per_image_csv}")
