"""What a resolved config is, as MLflow params and tags (the contract in docs/architecture.md)."""
from __future__ import annotations

from typing import Any

from mmengine.config import Config

__all__ = ["describe_config", "decoder_name", "MAX_PARAM_LEN"]

MAX_PARAM_LEN = 500  # MLflow rejects longer param values


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM_LEN else text[: MAX_PARAM_LEN - 3] + "..."


def decoder_name(head: dict[str, Any]) -> str:
    """A readable name of the head's decoder, e.g. ``GridKeypointCodec:local_softargmax(radius=2)``."""
    decoder = dict(head.get("decoder") or {})
    kind = decoder.pop("type", "none")
    if kind == "GridKeypointCodec":
        kwargs = decoder.get("decoder_kwargs") or {}
        args = ",".join(f"{k}={v}" for k, v in sorted(kwargs.items()))
        return f"{kind}:{decoder.get('decoder', 'none')}" + (f"({args})" if args else "")
    if kind == "MSRAHeatmap":
        return f"{kind}:{'dark' if decoder.get('unbiased') else 'quarter'}"
    return f"{kind}:softargmax" if kind == "IntegralRegressionLabel" else str(kind)


def describe_config(cfg: Config, *, seed: int, config_path: str) -> tuple[dict[str, str], dict[str, str]]:
    """Return (params, tags) for the run of ``cfg``."""
    head = cfg.model.head
    data = cfg.get("harness_data", {})
    evaluator = cfg.val_evaluator
    optimizer = cfg.optim_wrapper.optimizer
    method = cfg.get("harness_method", "unknown")
    params: dict[str, Any] = {
        "method": method,
        "seed": seed,
        "dataset": data.get("dataset", "unknown"),
        "dataset_kind": data.get("dataset_kind", "unknown"),
        "backbone": cfg.get("harness_backbone", cfg.model.backbone.type),
        "head": head.type,
        "decoder": decoder_name(head),
        "eval.normalizer": evaluator.get("normalizer"),
        "eval.threshold": evaluator.get("threshold"),
        "flip_test": cfg.model.get("test_cfg", {}).get("flip_test", False),
        "input_size": "x".join(map(str, cfg.get("input_size", ()))),
        "heatmap_size": "x".join(map(str, head.get("heatmap_size", ()))),
        "max_epochs": cfg.train_cfg.max_epochs,
        "batch_size": cfg.train_dataloader.batch_size,
        "optimizer": optimizer.type,
        "lr": optimizer.lr,
        "config": config_path,
    }
    for key, value in (head.get("loss") or {}).items():
        if key != "losses":
            params[f"loss.{key}"] = value
    for key in ("beta", "debias", "lambda_t"):
        if key in head:
            params[f"head.{key}"] = head[key]
    tags = {
        "harness.kind": "train",
        "harness.method": method,
        "harness.dataset": params["dataset"],
        "harness.dataset_kind": params["dataset_kind"],
        "harness.scheme": data.get("scheme", "unknown"),
        "harness.seed": str(seed),
        "harness.config": config_path,
    }
    return {k: _short(v) for k, v in params.items()}, tags
