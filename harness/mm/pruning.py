"""Optuna pruning as an MMEngine hook: report val NME each val epoch, stop pruned trials.

The sweep orchestrator appends this hook to a trial's ``custom_hooks`` (through
``TrainRequest.extra_hooks``) as::

    dict(type="OptunaPruningHook",   # registered by importing harness.mm
         storage="journal:/abs/sweep/optuna.journal",   # or postgresql://...
         study_name="demo", trial_number=3, metric="face/nme",
         pruner=dict(type="MedianPruner", n_warmup_steps=2))

After each validation it reports ``metrics[metric]`` as the trial's intermediate value at
step = epoch; when the pruner says so it raises :class:`TrialPruned`, which the training
worker turns into ``ExitCode.PRUNED``. Under DDP only rank 0 talks to Optuna and its
decision is broadcast, so every rank stops at the same epoch (no rank waits in a
collective that the others never reach).
"""
from __future__ import annotations

import math
from typing import Any

import optuna
from mmengine.dist import broadcast_object_list, get_rank, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS  # the root registry: found with or without a default scope

from harness.contracts import ExitCode, Metric
from harness.storage import open_storage

__all__ = ["TrialPruned", "OptunaPruningHook"]


class TrialPruned(optuna.TrialPruned):
    """Raised on every rank when the trial is pruned; the worker exits with PRUNED."""

    # Read by harness.train.worker. The trainer records Outcome.PRUNED in its result record
    # and tags the run harness.outcome=pruned (MLflow itself has no PRUNED status).
    exit_code = ExitCode.PRUNED


@HOOKS.register_module()
class OptunaPruningHook(Hook):
    """Report a validation metric to an Optuna trial and stop training when it is pruned.

    Args:
        storage: Optuna storage URL (``journal:<path>`` or an RDB URL).
        study_name: the sweep's study.
        trial_number: the trial this run trains.
        metric: key of the evaluator's result to report (the face metric's ``face/nme``).
        pruner: ``dict(type=<optuna.pruners class name>, **kwargs)``.
    """

    # Lowest: the logger and checkpoint hooks record this epoch before we may stop.
    priority = "LOWEST"

    def __init__(self, storage: str, study_name: str, trial_number: int,
                 metric: str = Metric.FACE_NME, pruner: dict | None = None) -> None:
        self.storage_url, self.study_name = storage, study_name
        self.trial_number, self.metric = int(trial_number), metric
        self.pruner_cfg = dict(pruner or {"type": "NopPruner"})
        self._trial: optuna.Trial | None = None
        self._warned = False

    def _load_trial(self) -> optuna.Trial:
        cfg = dict(self.pruner_cfg)
        pruner = getattr(optuna.pruners, cfg.pop("type"))(**cfg)
        storage = open_storage(self.storage_url, create=False)
        # RandomSampler: building a Trial asks the sampler for relative params; the
        # orchestrator already sampled this trial's params, so keep that step trivial.
        study = optuna.load_study(study_name=self.study_name, storage=storage,
                                  sampler=optuna.samplers.RandomSampler(), pruner=pruner)
        study_id = storage.get_study_id_from_name(self.study_name)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, self.trial_number)
        return optuna.Trial(study, trial_id)

    def _should_prune(self, metrics: dict[str, Any], step: int) -> tuple[bool, Any]:
        if self.metric not in metrics:
            if not self._warned:
                print_log(f"OptunaPruningHook: no {self.metric!r} in {sorted(metrics)}; "
                          "not reporting", logger="current", level=30)
                self._warned = True
            return False, None
        value = float(metrics[self.metric])
        if self._trial is None:
            self._trial = self._load_trial()
        self._trial.report(value if math.isfinite(value) else float("nan"), step)
        return self._trial.should_prune(), value

    def after_val_epoch(self, runner, metrics: dict[str, float] | None = None) -> None:
        step = runner.epoch if runner.train_loop is not None else 0
        decision = self._should_prune(metrics or {}, step) if get_rank() == 0 else (False, None)
        if is_distributed():
            box = [decision]
            broadcast_object_list(box, src=0)
            decision = box[0]
        prune, value = decision
        if prune:
            raise TrialPruned(f"trial {self.trial_number} pruned at epoch {step} "
                              f"({self.metric}={value})")
