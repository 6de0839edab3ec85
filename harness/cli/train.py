"""`harness train CONFIG`: one MMEngine training run recorded in MLflow."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmengine.config import DictAction

from harness.contracts import ExitCode

__all__ = ["register", "preflight"]

EXAMPLE = """example:
  harness data synth --out data/synth-300w
  harness train mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py \\
      --seed 1 --cfg-options train_cfg.max_epochs=3 model.head.loss.eps=0.5
  mlflow ui --backend-store-uri sqlite:///mlruns.db --host 127.0.0.1
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train one config (resumes an interrupted work dir)", epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="an mm_configs/*.py method config")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="MMEngine dotted-key overrides, e.g. optim_wrapper.optimizer.lr=1e-3; "
                        "a key the config lacks is declared new with a leading +, e.g. "
                        "+train_dataloader.dataset.indices=64")
    parser.add_argument("--work-dir", help="default: work_dirs/<config name>/seed<N>")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracking-uri", help="MLflow store (default: sqlite:///mlruns.db here)")
    parser.add_argument("--experiment", default="harness-train", help="MLflow experiment name")
    parser.add_argument("--run-name")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--gpus", type=int, default=0,
                        help="N > 1 launches N processes with torchrun (MMEngine's pytorch launcher)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--save-checkpoint", action="store_true", help="log the best checkpoint to MLflow")
    parser.set_defaults(func=run)


def request_from_args(args):
    from harness.train.request import TrainRequest

    work_dir = args.work_dir or str(Path("work_dirs") / Path(args.config).stem / f"seed{args.seed}")
    return TrainRequest(
        config=args.config, work_dir=work_dir, seed=args.seed, cfg_options=dict(args.cfg_options),
        tracking_uri=args.tracking_uri, experiment=args.experiment, run_name=args.run_name,
        device=args.device, cpu_threads=args.threads, save_best_checkpoint=args.save_checkpoint,
    )


def preflight(request) -> str | None:
    """Why ``request`` cannot train (one line), found before any MLflow run is opened.

    The override keys (checked again by the trainer) and a CPU build of the model: a
    wrong key or constructor argument would otherwise fail after the run is recorded.
    """
    from harness.train.config import load_config
    from harness.train.errors import BadRequest
    from harness.train.preflight_model import check_model

    try:
        check_model(load_config(request), request.config)
    except BadRequest as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def run(args) -> int:
    request = request_from_args(args)
    problem = preflight(request)
    if problem:
        print(problem, file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.gpus and args.gpus > 1:
        from harness.train.distributed import launch_distributed

        return launch_distributed(request, nproc=args.gpus)
    from harness.train.worker import execute

    return execute(request)
