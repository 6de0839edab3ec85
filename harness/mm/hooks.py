"""Training-time guards registered as MMEngine hooks."""
from __future__ import annotations

import math

from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from harness.contracts import ExitCode

__all__ = ["DivergenceGuardHook", "TrainingDiverged"]


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite; the run cannot recover by itself."""

    exit_code = ExitCode.DIVERGED
    mlflow_status = "FAILED"


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Stop training at the first non-finite loss, naming the epoch and iteration.

    MMEngine keeps stepping on NaN losses, which wastes a trial's whole budget and ends
    with a NaN metric; stopping at once keeps what was logged and frees the slot.
    """

    priority = "VERY_HIGH"

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not outputs:
            return
        loss = outputs.get("loss")
        if loss is None:
            return
        value = float(loss.detach()) if hasattr(loss, "detach") else float(loss)
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"training loss is {value} at epoch {runner.epoch + 1}, iteration {runner.iter + 1}"
            )
