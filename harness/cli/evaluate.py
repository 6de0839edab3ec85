"""`harness evaluate`: score a trained model on a split of any prepared or synthetic set."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.contracts import ExitCode

__all__ = ["register"]

EXAMPLE = """examples:
  # a run's best checkpoint (its logged model) on another set's test split
  harness evaluate 3f2a...c9 --data data/300w --split test_challenge \\
      --tracking-uri sqlite:///work_dirs/sweeps/demo/mlflow.db
  harness evaluate models:/m-7d1e... --data data/cofw --split test
  # a checkpoint with no MLflow record behind it
  harness evaluate --checkpoint work_dirs/x/seed0/epoch_12.pth --config work_dirs/x/seed0/resolved_config.py \\
      --data data/synth-300w --split test
A 98-point (WFLW) model is scored on 68-point (300W) and 29-point (COFW) sets through a
landmark mapping; other scheme pairs are refused."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "evaluate", help="score a run, logged model or checkpoint on a split of a prepared set (no training)",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", nargs="?", help="a training run id, or models:/<model-id>")
    parser.add_argument("--checkpoint", help="a checkpoint file (with --config, instead of a run)")
    parser.add_argument("--config", help="the checkpoint's resolved config")
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


def run(args: argparse.Namespace) -> int:
    from harness.evaluate import EvalRequest, evaluate
    from harness.train.errors import BadRequest

    request = EvalRequest(
        target=args.target, data=Path(args.data), split=args.split, out=Path(args.out), checkpoint=args.checkpoint,
        config=args.config, which=args.which, flip_test=args.flip_test, tracking_uri=args.tracking_uri or "",
        experiment=args.experiment, threads=args.threads)
    try:
        result = evaluate(request)
    except BadRequest as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    s, ec = result.scores, result.config
    mapped = f", mapped {ec.model_scheme}->{ec.data_scheme}" if ec.mapped else ""
    print(f"{result.source.label}\n  on {result.data.label} ({result.num_images} images{mapped}, "
          f"{ec.cfg.test_evaluator.normalizer} NME, flip test {'on' if ec.flip_test else 'off'}): "
          f"NME {s['nme']:.4f}%  FR@{100 * ec.cfg.test_evaluator.threshold:g}% {s['fr']:.2f}%  AUC {s['auc']:.4f}")
    print(f"  evaluation run {result.run_id}; per-image NME: {result.per_image_csv}")
    return ExitCode.OK
