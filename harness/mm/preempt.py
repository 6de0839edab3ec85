"""Stop a run at an iteration boundary when the scheduler asks for it, after a checkpoint.

SLURM warns a job before its time limit (``--signal``) and sends SIGTERM when it preempts,
cancels or requeues it. The trainer's signal handler (:mod:`harness.train.preempt`) only
sets a flag; :class:`PreemptionHook` looks at it after every training iteration, saves a
checkpoint there (atomically, named in ``last_checkpoint`` so the resume picks it), and
raises :class:`TrainingPreempted`, which the trainer turns into a result record and
``ExitCode.REQUEUE``.

MMEngine resumes an epoch-based loop at epoch granularity: the interrupted epoch is
trained again from its first batch, starting from the weights reached at the signal.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmengine.dist import all_reduce, is_distributed, is_main_process
from mmengine.hooks import Hook

from harness.contracts import ExitCode
from harness.mm.checkpoint import ATOMIC_BACKEND, write_atomically

__all__ = ["PreemptionHook", "TrainingPreempted", "PREEMPT_CHECKPOINT"]

PREEMPT_CHECKPOINT = "iter_{}.pth"


class TrainingPreempted(RuntimeError):
    """Stopped on a signal after saving a checkpoint; running it again resumes it."""

    exit_code = ExitCode.REQUEUE
    mlflow_status = "KILLED"


def _agreed(flag: bool) -> bool:
    """True on every rank once any rank saw the signal (ranks must stop at the same iteration)."""
    if not is_distributed():
        return flag
    import torch

    box = torch.tensor([1.0 if flag else 0.0])
    all_reduce(box, op="max")
    return bool(box.item())


class PreemptionHook(Hook):
    """Checkpoint and stop at the first iteration boundary after ``requested()`` turns true.

    Args:
        requested: returns whether a stop was asked for (the signal flag).
    """

    # After the optimizer step and the other hooks of the iteration (loss logging, NaN guard).
    priority = "LOWEST"

    def __init__(self, requested: Callable[[], bool]) -> None:
        self._requested = requested

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None,
                         outputs: Any = None) -> None:
        if not _agreed(self._requested()):
            return
        step = runner.iter + 1
        name = PREEMPT_CHECKPOINT.format(step)
        # by_epoch=False records the epoch as unfinished (meta epoch = epochs done), so the
        # resume re-enters this epoch instead of skipping the rest of it.
        runner.save_checkpoint(runner.work_dir, name, by_epoch=False, save_optimizer=True,
                               save_param_scheduler=True, backend_args=dict(backend=ATOMIC_BACKEND))
        if is_main_process():
            write_atomically(str(Path(runner.work_dir) / name).encode(),
                             Path(runner.work_dir) / "last_checkpoint")
        raise TrainingPreempted(
            f"stopped on a signal at epoch {runner.epoch + 1}, iteration {step}; "
            f"checkpoint {name} saved: run again to resume")

    def after_train_epoch(self, runner: Any) -> None:
        # A preemption checkpoint is superseded once an epoch checkpoint of the resumed
        # run is in place (the checkpoint hook, of higher priority, has just saved it).
        if not is_main_process():
            return
        work_dir = Path(runner.work_dir)
        pointer = work_dir / "last_checkpoint"
        named = Path(pointer.read_text().strip()).name if pointer.is_file() else None
        for path in work_dir.glob(PREEMPT_CHECKPOINT.format("*")):
            if path.name != named:
                path.unlink(missing_ok=True)
