"""Where the weights to evaluate come from: a training run, a logged model, or a file pair.

``RUN_ID`` and ``models:/<model_id>`` are looked up in MLflow (the run's LoggedModel holds
its checkpoint and resolved config, :mod:`harness.tracking.models`) and downloaded;
``--checkpoint/--config`` are used as given, with no MLflow record behind them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.train.errors import BadRequest

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = ["ModelSource", "resolve_source", "MODELS_PREFIX"]

MODELS_PREFIX = "models:/"


@dataclass(frozen=True)
class ModelSource:
    """A checkpoint, its config, and the MLflow records it came from (None for a file pair).

    Attributes:
        checkpoint, config: local files.
        run_id: the training run, when known.
        model_id: the LoggedModel, when there is one.
        which: "best", "last" or "best,last" (the model's checkpoint roles); "file" for a pair.
        epoch: the checkpoint's epoch, when known.
        run_tags, run_params, run_metrics: the training run's (empty for a file pair).
        experiment_id: the training run's experiment.
        test_digest: the sha256 prefix MLflow holds for the run's own test annotation file.
    """

    checkpoint: Path
    config: Path
    run_id: str | None = None
    model_id: str | None = None
    which: str = "file"
    epoch: int | None = None
    run_tags: dict[str, str] = field(default_factory=dict)
    run_params: dict[str, str] = field(default_factory=dict)
    run_metrics: dict[str, float] = field(default_factory=dict)
    experiment_id: str | None = None
    test_digest: str | None = None
    run_name: str | None = None
    threads: int | None = None  # the training's torch CPU threads (CPU kernels round differently per count)

    @property
    def label(self) -> str:
        if self.model_id:
            return f"{MODELS_PREFIX}{self.model_id} ({self.which} checkpoint of run {self.run_id})"
        return f"{self.checkpoint} with {self.config}"


def resolve_source(target: str | None, *, checkpoint: str | None, config: str | None, which: str,
                   tracking_uri: str, download_to: Path) -> ModelSource:
    """Find the checkpoint and config named by ``target`` (a run id or ``models:/ID``) or the pair.

    Raises:
        BadRequest: both or neither given, a missing file, an unknown run or model, a run
            without a logged model.
    """
    if (target is None) == (checkpoint is None and config is None):
        raise BadRequest("give a RUN_ID, a models:/<model-id>, or --checkpoint PATH --config CONFIG (one of them)")
    if target is None:
        if checkpoint is None or config is None:
            raise BadRequest("--checkpoint and --config go together")
        for path, what in ((Path(checkpoint), "checkpoint"), (Path(config), "config")):
            if not path.is_file():
                raise BadRequest(f"{path}: {what} file not found")
        return ModelSource(Path(checkpoint), Path(config))
    return _from_mlflow(target, which, tracking_uri, download_to)


def _from_mlflow(target: str, which: str, tracking_uri: str, download_to: Path) -> ModelSource:
    from mlflow.exceptions import MlflowException

    from harness.contracts import Tag
    from harness.tracking.models import download_model, find_run_model
    from harness.tracking.run import open_client_for_reading

    try:
        client = open_client_for_reading(tracking_uri)
    except (ValueError, ConnectionError) as exc:
        raise BadRequest(str(exc)) from exc
    try:
        if target.startswith(MODELS_PREFIX):
            model = client.get_logged_model(target[len(MODELS_PREFIX):])
            run_id = model.source_run_id
        else:
            run_id = target
            client.get_run(run_id)
            found = find_run_model(client, run_id, which)
            if found is None:
                raise BadRequest(f"run {run_id} has no logged {which} checkpoint in {tracking_uri} (runs logged "
                                 "before logged models existed: pass its work dir's --checkpoint and --config)")
            model = found
    except MlflowException as exc:
        raise BadRequest(f"{target}: not found in {tracking_uri} ({exc.error_code})") from exc
    try:
        ckpt, cfg = download_model(client, model, download_to)
    except (OSError, MlflowException) as exc:
        raise BadRequest(f"{target}: cannot download the model's files ({exc})".splitlines()[0]) from exc
    run = client.get_run(run_id) if run_id else None
    test_digest = None
    if run is not None and run.inputs:
        test_digest = next((i.dataset.digest for i in run.inputs.dataset_inputs
                            if any(t.key == "mlflow.data.context" and t.value == "test" for t in i.tags)), None)
    epoch = model.tags.get(Tag.CHECKPOINT_EPOCH)
    return ModelSource(
        checkpoint=ckpt, config=cfg, run_id=run_id, model_id=model.model_id,
        which=model.tags.get(Tag.CHECKPOINT, which), epoch=int(epoch) if epoch and epoch.isdigit() else None,
        run_tags=dict(run.data.tags) if run else {}, run_params=dict(run.data.params) if run else {},
        run_metrics=dict(run.data.metrics) if run else {},
        experiment_id=run.info.experiment_id if run else model.experiment_id, test_digest=test_digest,
        run_name=run.info.run_name if run else None, threads=_train_threads(client, run_id, download_to))


def _train_threads(client: MlflowClient, run_id: str | None, tmp: Path) -> int | None:
    """torch's thread count during training, from the run's ``provenance/hardware.json``."""
    import json

    if not run_id:
        return None
    try:
        local = client.download_artifacts(run_id, "provenance/hardware.json", str(tmp))
        value = json.loads(Path(local).read_text()).get("torch_threads")
    except Exception:  # an old or partial run: no thread count, torch's default applies
        return None
    return int(value) if str(value).isdigit() else None
