"""Live per-epoch MLflow logging from inside an MMEngine run.

MMEngine's MLflowVisBackend starts no run of its own, uploads only when closed and logs
scalars per iteration; this hook logs into a run the trainer already opened, one point
per epoch (``step`` = epoch, 1-based), as soon as the epoch ends, with the metric names
of the project's MLflow contract (docs/architecture.md).
"""
from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from mlflow import MlflowClient
from mlflow.entities import Metric
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

if TYPE_CHECKING:
    from mmengine.runner import Runner

__all__ = ["MLflowEpochLoggerHook", "rename_metrics"]

_ELAPSED_KEY = "harness_elapsed_seconds"


def rename_metrics(metrics: dict[str, Any], stage: str) -> dict[str, float]:
    """``{'face/nme': 4.1}`` -> ``{'val/nme': 4.1}``; non-numeric values are dropped."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        out[f"{stage}/{key.split('/')[-1]}"] = value
    return out


@HOOKS.register_module()
class MLflowEpochLoggerHook(Hook):
    """Log train loss, learning rate, timing and val/test metrics to an open MLflow run.

    Args:
        tracking_uri: the MLflow store.
        run_id: the run to log into (opened and closed by the trainer).
    """

    priority = "BELOW_NORMAL"

    def __init__(self, tracking_uri: str, run_id: str) -> None:
        self.client = MlflowClient(tracking_uri=tracking_uri)
        self.run_id = run_id
        self._loss_sum = 0.0
        self._iters = 0
        self._samples = 0
        self._epoch_start: float | None = None

    def _log(self, values: dict[str, float], step: int) -> None:
        if not is_main_process() or not values:
            return
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, step) for k, v in values.items() if math.isfinite(v)]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics, synchronous=True)

    def before_train_epoch(self, runner: Runner) -> None:
        self._loss_sum, self._iters, self._samples = 0.0, 0, 0
        self._epoch_start = time.perf_counter()

    def after_train_iter(self, runner: Runner, batch_idx: int, data_batch: Any = None,
                         outputs: dict[str, Any] | None = None) -> None:
        if outputs and "loss" in outputs:
            loss = outputs["loss"]
            self._loss_sum += float(loss.detach()) if hasattr(loss, "detach") else float(loss)
            self._iters += 1
        if data_batch is not None:
            self._samples += len(data_batch["inputs"])

    def after_train_epoch(self, runner: Runner) -> None:
        seconds = time.perf_counter() - (self._epoch_start or time.perf_counter())
        # Cumulative training seconds live in the message hub so that they survive a
        # resume (the hub's runtime info is saved in every checkpoint).
        elapsed = float(runner.message_hub.get_info(_ELAPSED_KEY, 0.0)) + seconds
        runner.message_hub.update_info(_ELAPSED_KEY, elapsed, resumed=True)
        lrs = runner.optim_wrapper.get_lr()
        lr = next(iter(lrs.values()))[0] if lrs else float("nan")
        values = {
            "train/lr": float(lr),
            "time/epoch_seconds": seconds,
            "time/elapsed_seconds": elapsed,
            "time/samples_per_second": self._samples / seconds if seconds > 0 else 0.0,
        }
        if self._iters:
            values["train/loss"] = self._loss_sum / self._iters
        # runner.epoch is still the 0-based index of the epoch that just ended.
        self._log(values, step=runner.epoch + 1)

    def after_val_epoch(self, runner: Runner, metrics: dict[str, Any] | None = None) -> None:
        # Validation runs after the train loop has advanced runner.epoch.
        self._log(rename_metrics(metrics or {}, "val"), step=max(runner.epoch, 1))

    def after_test_epoch(self, runner: Runner, metrics: dict[str, Any] | None = None) -> None:
        self._log(rename_metrics(metrics or {}, "test"), step=max(runner.epoch, 1))
