"""`harness predict`: landmarks of a trained model on your own images (JSON + overlays)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.contracts import ExitCode

__all__ = ["register"]

EXAMPLE = """examples:
  harness predict 3f2a...c9 photos/*.jpg --out preds --tracking-uri sqlite:///work_dirs/sweeps/demo/mlflow.db
  harness predict --checkpoint epoch_12.pth --config resolved_config.py a.jpg b.jpg --boxes boxes.json --out preds
boxes.json: {"a.jpg": [[x1, y1, x2, y2], ...], ...} in pixels, one box per face; an image
without an entry is one face filling the image. Writes OUT/landmarks.json and OUT/overlays/*.png."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="landmarks of a trained model on images (JSON and overlays)",
                                   epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", metavar="[RUN_ID | models:/ID] IMAGE",
                        help="a run id or models:/<id> (unless --checkpoint/--config), then the images")
    parser.add_argument("--checkpoint", help="a checkpoint file (with --config, instead of a run)")
    parser.add_argument("--config", help="the checkpoint's resolved config")
    parser.add_argument("--boxes", type=Path, help="face boxes per image (JSON)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--which", choices=("best", "last"), default="best")
    parser.add_argument("--tracking-uri", help="MLflow store (default: sqlite:///mlruns.db here)")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.evaluate.predict import PredictRequest, predict
    from harness.train.errors import BadRequest

    # The process's own setting (a CLI run): MLflow's download bars would bury the one-line results.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    inputs = list(args.inputs)
    target = None if (args.checkpoint or args.config) else inputs.pop(0)
    request = PredictRequest(target=target, images=tuple(Path(p) for p in inputs), out=args.out,
                             checkpoint=args.checkpoint, config=args.config, boxes=args.boxes, which=args.which,
                             tracking_uri=args.tracking_uri or "", threads=args.threads,
                             progress=sys.stderr.isatty())
    try:
        result = predict(request)
    except BadRequest as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    print(f"{len(result.landmarks.faces)} faces in {len(request.images)} images: {result.json_path}; "
          f"overlays in {result.json_path.parent / 'overlays'}")
    return ExitCode.OK
