"""A training run's checkpoints as MLflow 3 LoggedModels, and finding them again.

Each finished training run logs its best-validation checkpoint and its last one (one
model when they are the same epoch) with the resolved config, linked to the run and to the
metrics that checkpoint reached on its data set: the best one to its validation scores, the
last one to the test scores (``Runner.test()`` after training scores the last weights).
``harness evaluate RUN_ID`` or ``models:/<model_id>`` find them here.

A model's metrics are logged with ``model_id`` and the data set's name and digest, which
also adds them to the run's history: the same key, step and value a second time, which
every reader (latest value per step) reads as one point.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import LoggedModel, LoggedModelOutput, Run
from mlflow.entities import Metric as MlflowMetric

from harness.contracts import Metric, Tag

__all__ = ["ModelCheckpoint", "checkpoints_of", "log_trained_models", "find_run_model", "download_model", "sweep_runs",
           "MODEL_CONFIG", "ROLES"]

MODEL_CONFIG = "resolved_config.py"
ROLES = ("best", "last")
_EPOCH = re.compile(r"epoch_(\d+)\.pth$")
_COPIED_TAGS = (Tag.METHOD, Tag.ARM, Tag.DATASET, Tag.DATASET_KIND, Tag.SCHEME, Tag.SEED, Tag.SWEEP)
_MODEL_PARAMS = ("method", "decoder", "backbone", "input_size", "heatmap_size", "eval.normalizer", "flip_test")


@dataclass(frozen=True)
class ModelCheckpoint:
    """One checkpoint file of a work dir and what it is: ``roles`` within ("best", "last")."""

    path: Path
    epoch: int
    roles: tuple[str, ...]


def _epoch(path: Path) -> int | None:
    match = _EPOCH.search(path.name)
    return int(match.group(1)) if match else None


def checkpoints_of(work_dir: Path) -> list[ModelCheckpoint]:
    """The best (``best_*_epoch_N.pth``) and last (``last_checkpoint``) checkpoints of a work dir."""
    found: dict[int, tuple[Path, list[str]]] = {}
    best = sorted(work_dir.glob("best_*.pth"), key=lambda p: _epoch(p) or 0)
    if best and (epoch := _epoch(best[-1])) is not None:
        found[epoch] = (best[-1], ["best"])
    pointer = work_dir / "last_checkpoint"
    last = Path(pointer.read_text().strip()) if pointer.is_file() else None
    if last is not None and not last.is_absolute():
        last = work_dir / last
    if last is not None and last.is_file() and (epoch := _epoch(last)) is not None:
        path, roles = found.get(epoch, (last, []))
        found[epoch] = (path, [*roles, "last"])
    return [ModelCheckpoint(path, epoch, tuple(roles)) for epoch, (path, roles) in sorted(found.items())]


def _datasets(run: Run) -> dict[str, tuple[str, str]]:
    """context ("training", "val", "test") -> (name, digest) of the run's dataset inputs."""
    out = {}
    for item in run.inputs.dataset_inputs if run.inputs else []:
        context = next((t.value for t in item.tags if t.key == "mlflow.data.context"), "")
        out[context] = (item.dataset.name, item.dataset.digest)
    return out


def _point(client: MlflowClient, run_id: str, key: str, step: int | None) -> MlflowMetric | None:
    """The run's latest point of ``key`` (at ``step`` if given), with its own timestamp."""
    points = [m for m in client.get_metric_history(run_id, key) if step is None or m.step == step]
    return max(points, key=lambda m: (m.step, m.timestamp)) if points else None


def _weights_only(src: Path, dst: Path) -> Path:
    """The checkpoint without optimizer and scheduler state (half the size; all evaluation needs)."""
    import torch

    from harness import compat

    compat.apply()  # the allow-list of MMEngine's checkpoint types under weights_only
    checkpoint = torch.load(src, map_location="cpu", weights_only=True)
    torch.save({"meta": checkpoint.get("meta", {}), "state_dict": checkpoint["state_dict"]}, dst)
    return dst


def _metrics_of(client: MlflowClient, run: Run, ckpt: ModelCheckpoint) -> list[tuple[MlflowMetric, str]]:
    """The run's metric points the checkpoint reached, each with its data set context.

    Points, not values: logging with ``model_id`` also writes the point to the run, and
    only a point equal in key, value, step and timestamp is dropped by MLflow as a
    duplicate (else the run's history would gain a second point per linked metric).
    """
    out = []
    run_id = run.info.run_id
    if "best" in ckpt.roles:
        for key in (Metric.VAL_NME, Metric.VAL_FR, Metric.VAL_AUC):
            point = _point(client, run_id, key, ckpt.epoch)
            if point is not None:
                out.append((point, "val"))
    if "last" in ckpt.roles:
        for key in run.data.metrics:
            point = _point(client, run_id, key, None) if key.startswith("test/") else None
            if point is not None:
                out.append((point, "test"))
    return out


def _existing(client: MlflowClient, run: Run) -> set[str]:
    """Roles already logged as READY models of ``run`` (a re-run of a finished record adds none)."""
    return {m.tags.get(Tag.CHECKPOINT, "") for m in _run_models(client, run)}


def log_trained_models(client: MlflowClient, run_id: str, work_dir: Path) -> list[LoggedModel]:
    """Log the work dir's best and last checkpoints as LoggedModels of ``run_id``; returns them."""
    run = client.get_run(run_id)
    config = work_dir / MODEL_CONFIG
    if not config.is_file():
        return []
    datasets = _datasets(run)
    done = _existing(client, run)
    logged = []
    for ckpt in checkpoints_of(work_dir):
        roles = ",".join(ckpt.roles)
        if roles in done:
            continue
        tags = {k: run.data.tags[k] for k in _COPIED_TAGS if k in run.data.tags}
        tags.update({Tag.CHECKPOINT: roles, Tag.CHECKPOINT_EPOCH: str(ckpt.epoch), Tag.CHECKPOINT_FILE: ckpt.path.name})
        model = client.create_logged_model(
            run.info.experiment_id, name=f"{run.info.run_name}-{'-'.join(ckpt.roles)}", source_run_id=run_id,
            tags=tags, params={k: run.data.params[k] for k in _MODEL_PARAMS if k in run.data.params},
            model_type="mmpose-topdown")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                client.log_model_artifact(model.model_id, str(_weights_only(ckpt.path, Path(tmp) / ckpt.path.name)))
            client.log_model_artifact(model.model_id, str(config))
            for point, context in _metrics_of(client, run, ckpt):
                name, digest = datasets.get(context, (None, None))
                client.log_metric(run_id, point.key, point.value, timestamp=point.timestamp, step=point.step,
                                  model_id=model.model_id, dataset_name=name, dataset_digest=digest)
        except BaseException:
            client.finalize_logged_model(model.model_id, "FAILED")
            raise
        logged.append(client.finalize_logged_model(model.model_id, "READY"))
        client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=ckpt.epoch)])
    return logged


def _run_models(client: MlflowClient, run: Run) -> list[LoggedModel]:
    models = client.search_logged_models([run.info.experiment_id],
                                         filter_string=f"source_run_id = '{run.info.run_id}'")
    return [m for m in models if str(m.status) in ("READY", "LoggedModelStatus.READY")]


def find_run_model(client: MlflowClient, run_id: str, which: str = "best") -> LoggedModel | None:
    """The READY model of ``run_id`` holding its ``which`` ("best" or "last") checkpoint, or None."""
    run = client.get_run(run_id)
    matching = [m for m in _run_models(client, run) if which in m.tags.get(Tag.CHECKPOINT, "").split(",")]
    return max(matching, key=lambda m: m.creation_timestamp) if matching else None


def download_model(client: MlflowClient, model: LoggedModel, dst: Path) -> tuple[Path, Path]:
    """Download a model's checkpoint and config into ``dst``: (checkpoint, config) paths."""
    from mlflow.artifacts import download_artifacts

    local = Path(download_artifacts(artifact_uri=model.artifact_location, dst_path=str(dst),
                                    tracking_uri=client.tracking_uri))
    checkpoints = sorted(local.glob("*.pth"))
    config = local / MODEL_CONFIG
    if len(checkpoints) != 1 or not config.is_file():
        raise FileNotFoundError(f"model {model.model_id}: expected one .pth and {MODEL_CONFIG} in its artifacts, "
                                f"found {sorted(p.name for p in local.iterdir())}")
    return checkpoints[0], config


def sweep_runs(client: MlflowClient, sweep: str) -> list[Run]:
    """The FINISHED training runs of sweep ``sweep`` in every experiment of the store, oldest first."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs: list[Run] = []
    token = None
    while experiments:
        page = client.search_runs(
            experiments, f"tags.`{Tag.KIND}` = 'train' and tags.`{Tag.SWEEP}` = '{sweep}' and "
            "attributes.status = 'FINISHED'", max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    return sorted(runs, key=lambda r: r.info.start_time or 0)
