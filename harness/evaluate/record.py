"""The MLflow record of one evaluation: a run tagged ``harness.kind=eval``, linked to its source.

The run is a nested child of the training run it evaluates (when there is one), carries
that run's method, arm, seed and sweep tags so reports group it with its training run,
names the evaluated set as ``harness.dataset`` (``harness.trained_on`` is the training
set), and logs the split as a dataset input and the LoggedModel as a model input. Scores
are ``eval/*`` metrics, also linked to the model and the data set, so the model's page
lists every set it was scored on. The training run itself is never written to.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import LoggedModelInput, Metric, Param

from harness.contracts import Tag
from harness.evaluate.data import EvalSplit
from harness.evaluate.source import ModelSource
from harness.tracking.run import RunHandle
from harness.tracking.store import ensure_experiment

__all__ = ["EvalRecord", "open_eval_run", "EVAL_CONTEXT"]

EVAL_CONTEXT = "evaluation"
_COPIED = (Tag.METHOD, Tag.ARM, Tag.SEED, Tag.SWEEP, Tag.TRIAL_ID)


@dataclass
class EvalRecord:
    """An open evaluation run."""

    handle: RunHandle
    source: ModelSource
    data: EvalSplit

    @property
    def run_id(self) -> str:
        return self.handle.run_id

    def log_scores(self, scores: dict[str, float]) -> None:
        """``eval/<key>`` metrics, linked to the logged model and the data set when there is a model."""
        client, now = self.handle.client, int(time.time() * 1000)
        if self.source.model_id is None:
            client.log_batch(self.run_id, metrics=[Metric(f"eval/{k}", v, now, 0) for k, v in scores.items()],
                             synchronous=True)
            return
        for key, value in scores.items():
            client.log_metric(self.run_id, f"eval/{key}", value, timestamp=now, step=0,
                              model_id=self.source.model_id, dataset_name=self.data.label,
                              dataset_digest=self.data.digest[:36])

    def log_artifact(self, path: Path, folder: str) -> None:
        self.handle.client.log_artifact(self.run_id, str(path), folder)

    def finish(self, status: str = "FINISHED", error: str | None = None) -> None:
        self.handle.finish(status, error=error)


def open_eval_run(client: MlflowClient, *, experiment: str | None, source: ModelSource, data: EvalSplit,
                  params: dict[str, str], tags: dict[str, str]) -> EvalRecord:
    """Create the evaluation run with its tags, params and inputs (in the source run's experiment by default)."""
    experiment_id = (ensure_experiment(client, experiment) if experiment
                     else source.experiment_id or ensure_experiment(client, "harness-eval"))
    all_tags = {k: source.run_tags[k] for k in _COPIED if k in source.run_tags}
    all_tags.update(tags)
    all_tags.update({Tag.KIND: "eval", Tag.DATASET: data.name, Tag.DATASET_KIND: data.kind, Tag.SCHEME: data.scheme,
                     Tag.EVAL_SPLIT: data.split})
    if source.run_id:
        all_tags.update({Tag.SOURCE_RUN: source.run_id, Tag.PARENT_RUN: source.run_id})
    if source.model_id:
        all_tags[Tag.SOURCE_MODEL] = source.model_id
    name = f"eval-{source.run_name or source.config.stem}-on-{data.name}-{data.split}"
    run_id = client.create_run(experiment_id, tags=all_tags, run_name=name).info.run_id
    handle = RunHandle(client, run_id, resumed=False)
    try:
        client.log_batch(run_id, params=[Param(k, v[:500]) for k, v in params.items()], synchronous=True)
        handle.log_datasets([(data.label, data.digest, str(data.ann_file), EVAL_CONTEXT)])
        if source.model_id:
            client.log_inputs(run_id, models=[LoggedModelInput(source.model_id)])
    except BaseException as exc:
        handle.finish("FAILED", error=f"{type(exc).__name__}: {exc}".splitlines()[0][:1000])
        raise
    return EvalRecord(handle, source, data)
