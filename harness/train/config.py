"""Load a training config and apply a request to it (overrides, seed, work dir, resume)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmengine.config import Config

from harness.train.errors import BadRequest
from harness.train.preflight import override_problems, plain_keys
from harness.train.request import TrainRequest
from harness.train.resume import pick_resume_checkpoint

__all__ = ["load_config", "parse_config_file", "check_override_keys", "PREDICTIONS_FILE"]

PREDICTIONS_FILE = "predictions/test_predictions.npz"


def check_override_keys(cfg: Config, options: dict[str, Any], source: str) -> None:
    """Every override key must exist in ``cfg``, unless declared new with a leading ``+``.

    MMEngine merges an unknown key silently: a typo would train with the default, or
    fail deep in a model constructor.

    Raises:
        BadRequest: naming ``source`` and the first unknown key.
    """
    problems = override_problems(cfg, options)
    if problems:
        key, reason = problems[0]
        raise BadRequest(f"{source}: {key}: {reason}")


def _absolute_data_roots(cfg: Config, base: Path) -> None:
    # Trials run with other working directories; a config saved in a work dir must still
    # point at the same data.
    for name in ("train_dataloader", "val_dataloader", "test_dataloader"):
        loader = cfg.get(name)
        if loader and loader.get("dataset", {}).get("data_root"):
            root = Path(loader.dataset.data_root)
            if not root.is_absolute():
                loader.dataset.data_root = str((base / root).resolve()) + "/"


def parse_config_file(path: Path) -> Config:
    """``Config.fromfile``, with a one-line :class:`BadRequest` for a missing or broken file."""
    if not path.is_file():
        raise BadRequest(f"{path}: config file not found")
    try:
        return Config.fromfile(str(path))
    except Exception as exc:  # MMEngine raises many types for a bad config file
        raise BadRequest(f"{path}: cannot parse config ({type(exc).__name__}: {exc})".splitlines()[0]) from exc


def load_config(request: TrainRequest, base_dir: Path | None = None) -> Config:
    """Return the resolved MMEngine config of ``request``.

    Raises:
        BadRequest: the config file is missing or unparsable, or an override key is unknown.
    """
    path = Path(request.config)
    cfg = parse_config_file(path)
    if request.cfg_options:
        check_override_keys(cfg, request.cfg_options, str(path))
        cfg.merge_from_dict(plain_keys(request.cfg_options))
    if "harness_method" not in cfg:
        raise BadRequest(f"{path}: not a harness method config (no `harness_method`)")
    cfg.work_dir = str(Path(request.work_dir).resolve())
    cfg.randomness = dict(seed=int(request.seed), deterministic=cfg.get("randomness", {}).get("deterministic", True))
    # Resume only what an earlier attempt left behind. Deciding it up front also keeps
    # Runner.test() from re-reading the last checkpoint after a fresh training: under DDP,
    # rank 0 rewrites that file after validation (to record the best score) while the
    # other ranks would be reading it. Every rank picks the same file: rank 0 saves nothing
    # before all ranks are past this point (its first save follows a collective step).
    # The newest checkpoint that loads, not blindly the one last_checkpoint names: a kill
    # during a save may have left that one missing or truncated. None loads: start over.
    checkpoint = pick_resume_checkpoint(Path(cfg.work_dir))
    cfg.resume = checkpoint is not None
    cfg.load_from = str(checkpoint) if checkpoint is not None else None
    cfg.launcher = request.launcher
    if request.launcher != "none" and request.device != "cuda":
        import torch

        if not torch.cuda.is_available():
            # CPU processes: gloo instead of NCCL, and DDP without device ids (MMEngine
            # would pass the local rank as a CUDA device).
            cfg.env_cfg.dist_cfg = dict(backend="gloo")
            cfg.model_wrapper_cfg = dict(
                type="MMDistributedDataParallel", device_ids=None, broadcast_buffers=False,
                find_unused_parameters=False,
            )
    _absolute_data_roots(cfg, (base_dir or Path.cwd()).resolve())
    if cfg.get("test_evaluator"):
        cfg.test_evaluator.predictions_file = str(Path(cfg.work_dir) / PREDICTIONS_FILE)
    return cfg
