"""Validation of the resumed epoch, when a kill fell between its checkpoint and its scores.

MMEngine saves an epoch's checkpoint in ``after_train_epoch``, before that epoch's
validation; a run killed during validation resumes after the epoch and never validates
it, so its curve (and the pruner) miss a point for good. This hook notes each validated
epoch in the work dir and, on a resume, validates the resumed epoch first if that note
is older. Every rank takes rank 0's decision, so none waits in a collective alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmengine.dist import broadcast_object_list, get_rank, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from harness.mm.checkpoint import write_atomically

__all__ = ["ResumeValidationHook", "VALIDATED_FILE"]

VALIDATED_FILE = "last_validated_epoch"


def _validated(work_dir: str) -> int:
    try:
        return int((Path(work_dir) / VALIDATED_FILE).read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


@HOOKS.register_module()
class ResumeValidationHook(Hook):
    """Re-run the validation a kill skipped; record every validated epoch."""

    # Last in before_train: every other hook (loggers, pruning) must be ready to receive it.
    priority = "LOWEST"

    def before_train(self, runner: Any) -> None:
        loop = runner.train_loop
        epoch = runner.epoch  # epochs finished, as restored from the checkpoint
        interval = getattr(loop, "val_interval", 1)
        due = (runner.val_loop is not None and epoch > 0 and epoch >= getattr(loop, "val_begin", 1)
               and (epoch % interval == 0 or epoch == getattr(loop, "max_epochs", epoch)))
        missing = due and _validated(runner.work_dir) < epoch if get_rank() == 0 else False
        if is_distributed():
            box = [missing]
            broadcast_object_list(box, src=0)
            missing = box[0]
        if missing:
            print_log(f"epoch {epoch} was resumed without its validation: validating it now",
                      logger="current")
            runner.val_loop.run()

    def after_val_epoch(self, runner: Any, metrics: dict[str, float] | None = None) -> None:
        if get_rank() == 0 and runner.train_loop is not None:
            write_atomically(str(runner.epoch).encode(), Path(runner.work_dir) / VALIDATED_FILE)
