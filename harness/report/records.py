"""MLflow records -> tidy pandas DataFrames (the only place the report touches MLflow reads).

Reads exactly what docs/architecture.md "The MLflow record" promises: training runs tagged
``harness.kind=train`` (optionally restricted to one ``harness.sweep``), their per-epoch
metric histories, and the ``predictions/test_predictions.npz`` artifact. Every function
takes an explicit :class:`mlflow.MlflowClient`; nothing here reads environment variables or
sets the global tracking URI.
"""
from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Experiment, Run, ViewType

from harness.contracts import Attr, Tag
from harness.evaluation.metrics import per_landmark_nme

__all__ = [
    "RecordsError", "Records", "HISTORY_KEYS", "SUBSETS", "open_client", "find_experiment",
    "find_sweep_parent", "load_records",
]

log = logging.getLogger(__name__)

HISTORY_KEYS = ("val/nme", "val/fr", "val/auc", "train/loss", "time/elapsed_seconds")
SUBSETS = ("pose", "expression", "illumination", "makeup", "occlusion", "blur")
FINAL_KEYS = ("test/nme", "test/fr", "test/auc") + tuple(f"test/nme_{s}" for s in SUBSETS)
PREDICTIONS = "predictions/test_predictions.npz"
# Why a run failed: the orchestrator tags ``harness.failure`` on trials it gave up on, the
# trainer ``harness.error`` (the exception's line); first one present wins. How it ended
# is the trainer's ``harness.outcome`` (complete, pruned, diverged, ...).
REASON_TAGS = (Attr.FAILURE, Tag.ERROR, "harness.reason")
# Environment: the git tags of every training run, and its provenance artifacts (package
# versions and hardware are artifacts only, not tags: one copy, no tag chips in MLflow).
GIT_TAGS = {Tag.GIT_COMMIT: "git commit", Tag.GIT_DIRTY: "git dirty"}
PROVENANCE = {"provenance/packages.json": "package", "provenance/hardware.json": "hardware"}
_TAG_COLUMNS = {
    Tag.METHOD: "method", Tag.ARM: "arm", Tag.DATASET: "dataset",
    Tag.DATASET_KIND: "dataset_kind", Tag.SCHEME: "scheme", Tag.SEED: "seed",
    Tag.SWEEP: "sweep", Tag.TRIAL_ID: "trial_id", Tag.OUTCOME: "outcome",
    Tag.TRIAL_NUMBER: "trial_number", Tag.PARENT_RUN: "parent_run_id", Tag.STAGE: "stage",
}
_PARAM_COLUMNS = ("eval.normalizer", "eval.threshold", "decoder", "flip_test", "input_size",
                  "heatmap_size", "max_epochs", "backbone")


class RecordsError(RuntimeError):
    """The tracking store does not hold what the report needs (message is one line)."""


@dataclass
class Records:
    """Everything the report reads, as tidy frames.

    Attributes:
        runs: one row per training run (tags, key params, final metrics, status, config).
        history: long frame ``run_id, key, step, value`` of the per-epoch metrics.
        images: long frame ``run_id, image_id, nme`` (percent) from the predictions artifact.
        landmarks: long frame ``run_id, landmark, error`` (mean over images, percent).
        mean_faces: dataset -> (K, 2) mean ground-truth shape, for drawing per-landmark error
            (key None for runs without a dataset tag).
        fingerprints: one row per run with the environment tags found.
        parent: the sweep's parent run (``mlflow.entities.Run``) or None.
        experiment_id: the MLflow experiment's id (for links into the UI).
    """

    runs: pd.DataFrame
    history: pd.DataFrame
    images: pd.DataFrame
    landmarks: pd.DataFrame
    mean_faces: dict[str | None, np.ndarray] = field(default_factory=dict)
    fingerprints: pd.DataFrame = field(default_factory=pd.DataFrame)
    parent: Run | None = None
    experiment_id: str = ""


def open_client(tracking_uri: str) -> MlflowClient:
    """A client bound to ``tracking_uri`` (never touches the global MLflow state).

    A ``sqlite:///`` file that does not exist is an error: MLflow would silently create an
    empty store, and a report must not write a database nobody asked for.
    """
    if tracking_uri.startswith("sqlite:///"):
        path = Path(tracking_uri[len("sqlite:///"):])
        if str(path) != ":memory:" and not path.is_file():
            raise RecordsError(f"no MLflow store at {path} (tracking URI {tracking_uri})")
    return MlflowClient(tracking_uri=tracking_uri)


def find_experiment(client: MlflowClient, name: str) -> Experiment:
    """The experiment called ``name``; :class:`RecordsError` when it does not exist."""
    exp = client.get_experiment_by_name(name)
    if exp is None:
        known = sorted(e.name for e in client.search_experiments(view_type=ViewType.ALL))
        raise RecordsError(f"experiment {name!r} does not exist in this tracking store (known: {known})")
    return exp


def _search(client: MlflowClient, experiment_id: str, filter_string: str) -> list[Run]:
    runs: list[Run] = []
    token: str | None = None
    while True:
        page = client.search_runs([experiment_id], filter_string, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def find_sweep_parent(client: MlflowClient, experiment_id: str, sweep: str) -> Run | None:
    """The parent run of sweep ``sweep`` (``harness.kind=sweep``), newest first, or None."""
    runs = _search(client, experiment_id,
                   f"tags.`harness.kind` = 'sweep' and tags.`harness.sweep` = '{sweep}'")
    return max(runs, key=lambda r: r.info.start_time or 0) if runs else None


def _plain(text: str, limit: int = 160) -> str:
    """One short line: error tags may carry ANSI colour codes and long tracebacks."""
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _config_key(params: dict[str, str]) -> str:
    # Runs that differ only by seed share a configuration; a search sweep has many.
    return "|".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "seed")


def _run_row(run: Run) -> dict[str, Any]:
    tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
    row: dict[str, Any] = {"run_id": run.info.run_id, "run_name": run.info.run_name, "status": run.info.status}
    row.update({col: tags.get(tag) for tag, col in _TAG_COLUMNS.items()})
    row["seed"] = row["seed"] if row["seed"] is not None else params.get("seed")
    row["method"] = row["method"] or params.get("method")
    row["arm"] = row["arm"] or params.get("arm")
    # The label a comparison groups by: the sweep's arm when there is one, else the method.
    row["label"] = row["arm"] or row["method"]
    row.update({col: params.get(col) for col in _PARAM_COLUMNS})
    row.update({key: metrics.get(key, np.nan) for key in FINAL_KEYS})
    reason = next((tags[t] for t in REASON_TAGS if t in tags), None)
    row["reason"] = _plain(reason) if reason else None
    row["config"] = _config_key(params)
    row["start_time"] = run.info.start_time or 0
    row["duration_s"] = ((run.info.end_time or 0) - (run.info.start_time or 0)) / 1000.0
    return row


def _history(client: MlflowClient, run_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key in HISTORY_KEYS:
        rows.extend({"run_id": run_id, "key": key, "step": int(m.step), "value": float(m.value)}
                    for m in client.get_metric_history(run_id, key))
    return rows


def _download(client: MlflowClient, run_id: str, folder: str, wanted: Iterable[str], tmp: str) -> dict[str, Path]:
    """Copies in ``tmp`` of the artifacts ``wanted`` under ``folder`` that the run has (path -> local).

    Each run's copy overwrites the previous run's: callers read it at once.
    """
    names = {a.path for a in client.list_artifacts(run_id, folder)} & set(wanted)
    return {name: Path(client.download_artifacts(run_id, name, tmp)) for name in sorted(names)}


def _predictions(client: MlflowClient, run_id: str, tmp: str) -> dict[str, np.ndarray] | None:
    """The npz arrays of one run, or None when the artifact was not logged."""
    found = _download(client, run_id, "predictions", [PREDICTIONS], tmp)
    if not found:
        return None
    with np.load(found[PREDICTIONS], allow_pickle=False) as npz:
        return {k: np.array(npz[k]) for k in npz.files}


def _prediction_frames(
    run_id: str, arrays: dict[str, np.ndarray],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ids = [str(i) for i in arrays["image_ids"]]
    per_image = np.asarray(arrays["per_image_nme"], dtype=float) * 100.0  # fraction -> percent
    images = [{"run_id": run_id, "image_id": i, "nme": v} for i, v in zip(ids, per_image, strict=False)]
    # The core metric skips NaN (unannotated) points, as training's own evaluation does.
    per_landmark = per_landmark_nme(arrays["pred"], arrays["gt"], normalizer=arrays["normalizer"]) * 100.0
    landmarks = [{"run_id": run_id, "landmark": k, "error": float(e)} for k, e in enumerate(per_landmark)]
    return images, landmarks


def _fingerprint(client: MlflowClient, run: Run, tmp: str) -> dict[str, str]:
    row = {"run_id": run.info.run_id}
    row.update({label: run.data.tags[tag] for tag, label in GIT_TAGS.items() if tag in run.data.tags})
    for name, local in _download(client, run.info.run_id, "provenance", PROVENANCE, tmp).items():
        try:
            content = json.loads(local.read_text())
        except (OSError, ValueError):
            continue  # a damaged provenance file only leaves the environment table shorter
        row.update({f"{PROVENANCE[name]} {k}": str(v) for k, v in content.items()})
    return row


def load_records(client: MlflowClient, experiment_name: str, sweep: str | None = None) -> Records:
    """Read every training run of ``experiment_name`` (only sweep ``sweep`` when given).

    Raises:
        RecordsError: the experiment does not exist or holds no training run.
    """
    exp = find_experiment(client, experiment_name)
    filt = "tags.`harness.kind` = 'train'"
    if sweep:
        filt += f" and tags.`harness.sweep` = '{sweep}'"
    runs = _search(client, exp.experiment_id, filt)
    if not runs:
        where = f"sweep {sweep!r} of experiment {experiment_name!r}" if sweep else f"experiment {experiment_name!r}"
        raise RecordsError(f"no training runs (tag harness.kind=train) in {where}")
    history: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    landmarks: list[dict[str, Any]] = []
    faces: dict[str | None, np.ndarray] = {}
    prints: list[dict[str, str]] = []
    # One temporary directory for every download, so nothing is left behind.
    with tempfile.TemporaryDirectory() as tmp:
        for run in runs:
            history.extend(_history(client, run.info.run_id))
            arrays = _predictions(client, run.info.run_id, tmp)
            prints.append(_fingerprint(client, run, tmp))
            if arrays is not None:
                img, lm = _prediction_frames(run.info.run_id, arrays)
                images.extend(img)
                landmarks.extend(lm)
                faces.setdefault(run.data.tags.get(Tag.DATASET), np.nanmean(arrays["gt"], axis=0))
    table = pd.DataFrame([_run_row(r) for r in runs])
    parent = find_sweep_parent(client, exp.experiment_id, sweep) if sweep else None
    log.debug("read %d runs, %d history points", len(table), len(history))
    return Records(
        runs=table,
        history=pd.DataFrame(history, columns=["run_id", "key", "step", "value"]),
        images=pd.DataFrame(images, columns=["run_id", "image_id", "nme"]),
        landmarks=pd.DataFrame(landmarks, columns=["run_id", "landmark", "error"]),
        mean_faces=faces,
        fingerprints=pd.DataFrame(prints),
        parent=parent,
        experiment_id=exp.experiment_id,
    )
