"""The config of one evaluation: the model's resolved config, its test loop pointed at a split.

Everything that made the model's predictions stays as trained (pipeline, dataset class and
so its flip pairs, decoder, batch size, normaliser); only the data root and annotation
file, the metric's scheme (with a mapping when the schemes differ) and the output
directory change. Training, validation and their optimiser are dropped: nothing trains.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmengine.config import Config

from harness.data.mapping import SCHEME_MAPS
from harness.evaluate.data import EvalSplit
from harness.schemes import get_scheme
from harness.train.config import parse_config_file
from harness.train.errors import BadRequest

__all__ = ["EvalConfig", "eval_config", "load_model_config", "model_scheme", "EVAL_PREDICTIONS"]

EVAL_PREDICTIONS = "predictions/eval_predictions.npz"
_DROPPED = ("train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler", "val_dataloader", "val_cfg",
            "val_evaluator")


@dataclass(frozen=True)
class EvalConfig:
    """The runnable config and what it decided: schemes, mapping, flip test, image subset."""

    cfg: Config
    model_scheme: str
    data_scheme: str
    mapped: bool
    flip_test: bool
    indices: int | None  # the first N images only: the run's own test subset, kept as trained


def load_model_config(path: str | Path) -> Config:
    """Parse a model's config; one-line :class:`BadRequest` when it is missing or broken."""
    path = Path(path)
    cfg = parse_config_file(path)
    for key in ("model", "test_dataloader", "test_evaluator"):
        if not cfg.get(key):
            raise BadRequest(f"{path}: no {key}: not a model config to evaluate")
    return cfg


def model_scheme(cfg: Config) -> str:
    """The landmark scheme the model predicts (its data card's, else its keypoint count's)."""
    scheme = cfg.get("harness_data", {}).get("scheme")
    if scheme:
        return str(get_scheme(scheme).name)
    return get_scheme(int(cfg.get("num_keypoints") or cfg.model.head.out_channels)).name


def _mapping_problem(config: str, model: str, data: EvalSplit) -> str | None:
    if model == data.scheme or (model, data.scheme) in SCHEME_MAPS:
        return None
    known = ", ".join(f"{a}->{b}" for a, b in sorted(SCHEME_MAPS))
    return (f"{config}: a {model} model ({get_scheme(model).num_keypoints} points) cannot be scored on "
            f"{data.root} ({data.scheme}, {get_scheme(data.scheme).num_keypoints} points): no mapping from "
            f"{model} to {data.scheme} (known: {known})")


def eval_config(cfg: Config, config_name: str, data: EvalSplit, work_dir: Path, *,
                flip_test: bool | None = None, own_test_set: bool = False, name: str = "eval") -> EvalConfig:
    """Point ``cfg``'s test loop at ``data``; ``own_test_set`` keeps the config's image subset.

    ``name`` becomes MMEngine's experiment name (its logger and visualizer instances).

    Raises:
        BadRequest: the model's scheme cannot be mapped to the data's.
    """
    cfg = cfg.copy()
    scheme = model_scheme(cfg)
    problem = _mapping_problem(config_name, scheme, data)
    if problem:
        raise BadRequest(problem)
    for key in _DROPPED:
        cfg[key] = None
    dataset = cfg.test_dataloader.dataset
    indices = dataset.pop("indices", None) if not own_test_set else dataset.get("indices")
    dataset.update(data_root=str(data.root) + "/", ann_file=str(data.ann_file.relative_to(data.root)),
                   data_prefix=dict(img="images/"), test_mode=True)
    evaluator = cfg.test_evaluator
    cfg.test_evaluator = dict(
        type="MappedFaceLandmarkMetric", model_scheme=scheme, scheme=data.scheme,
        normalizer=evaluator.get("normalizer", "inter_ocular"), threshold=evaluator.get("threshold", 0.1),
        predictions_file=str(work_dir / EVAL_PREDICTIONS))
    test_cfg = cfg.model.setdefault("test_cfg", {})
    if flip_test is not None:
        test_cfg["flip_test"] = flip_test
    imports = list(cfg.get("custom_imports", {}).get("imports", []))
    wanted = [m for m in ("harness.mm", "harness.evaluate.metric") if m not in imports]
    cfg.custom_imports = dict(imports=[*imports, *wanted], allow_failed_imports=False)
    cfg.work_dir = str(work_dir)
    cfg.load_from, cfg.resume = None, False  # weights go in through load_weights (strict)
    cfg.launcher = "none"
    cfg.log_level = "WARNING"  # MMEngine's environment and config dump would bury the scores
    cfg.experiment_name = name  # names MMEngine's per-run singletons
    return EvalConfig(cfg, scheme, data.scheme, scheme != data.scheme, bool(test_cfg.get("flip_test", False)),
                      int(indices) if isinstance(indices, int) else None)
