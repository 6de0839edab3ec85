"""Open, resume and close the MLflow run of one training work dir.

The run id is kept in ``<work_dir>/harness_run.json``: running the same work dir again
(after a crash or a kill) continues the same run, so curves continue and no second run
appears. A sweep trial whose file was lost is found again by its ``harness.trial_id`` tag.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException

from harness.contracts import RUN_FILE, Tag
from harness.tracking.store import check_reachable, ensure_experiment, sqlite_path

__all__ = ["RunHandle", "open_run", "run_id_of", "open_client_for_reading", "RUN_FILE"]


@dataclass
class RunHandle:
    """An open MLflow run. ``resumed`` says it existed before this process."""

    client: MlflowClient
    run_id: str
    resumed: bool
    previous_status: str | None = None

    def log_params(self, params: dict[str, str]) -> None:
        items = [Param(k, v) for k, v in params.items()]
        for start in range(0, len(items), 100):  # MLflow's per-batch param limit
            self.client.log_batch(self.run_id, params=items[start : start + 100], synchronous=True)

    def set_tags(self, tags: dict[str, str]) -> None:
        self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)[:5000]) for k, v in tags.items()], synchronous=True)

    def log_datasets(self, files: Iterable[tuple[str, str, str, str]]) -> None:
        """Log annotation files as dataset inputs: (name, sha256, path, context) each."""
        inputs = [
            DatasetInput(
                Dataset(name=name, digest=digest[:36], source_type="local",
                        source=json.dumps({"uri": path, "sha256": digest})),
                tags=[InputTag("mlflow.data.context", context)],
            )
            for name, digest, path, context in files
        ]
        for attempt in range(5 if inputs else 0):
            try:
                self.client.log_inputs(self.run_id, datasets=inputs)
                return
            except Exception as exc:  # MlflowException, or SQLAlchemy's IntegrityError unwrapped
                # MLflow's SQL store looks a dataset up, then inserts it: two trials of one
                # sweep logging the same annotation file at once collide on its unique key.
                # The retry finds the row the other run inserted and only links it.
                if attempt == 4 or ("unique" not in str(exc).lower() and "duplicate" not in str(exc).lower()):
                    raise
                time.sleep(0.2 * (attempt + 1))

    def finish(self, status: str = "FINISHED", error: str | None = None) -> None:
        if error:
            self.set_tags({Tag.ERROR: error})
        self.client.set_terminated(self.run_id, status=status, end_time=int(time.time() * 1000))


def run_id_of(work_dir: str | Path) -> str | None:
    """The MLflow run a work dir logs into (from its run file), or None."""
    try:
        return str(json.loads((Path(work_dir) / RUN_FILE).read_text())["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def open_client_for_reading(tracking_uri: str) -> MlflowClient:
    """A client of a store that must already exist: a missing SQLite file or a dead server is
    a :class:`ValueError` (MLflow would create an empty store, or retry for minutes)."""
    db = sqlite_path(tracking_uri)
    if db is not None and not db.is_file():
        raise ValueError(f"no MLflow store at {db} (tracking URI {tracking_uri})")
    check_reachable(tracking_uri)
    return MlflowClient(tracking_uri=tracking_uri)


def _find_trial_run(client: MlflowClient, experiment_id: str, trial_id: str) -> str | None:
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.`{Tag.TRIAL_ID}` = '{trial_id}'", max_results=5
    )
    live = [r for r in runs if r.info.status != RunStatus.to_string(RunStatus.FINISHED)]
    return live[0].info.run_id if live else None


def open_run(
    client: MlflowClient,
    *,
    work_dir: Path,
    experiment: str,
    run_name: str,
    tags: dict[str, str],
    parent_run_id: str | None = None,
) -> RunHandle:
    """Resume the work dir's run when it still exists, else create one."""
    record = work_dir / RUN_FILE
    if record.exists():
        run_id = json.loads(record.read_text())["run_id"]
        try:
            run = client.get_run(run_id)
        except MlflowException:
            run = None
        if run is not None and run.info.lifecycle_stage == "active":
            client.update_run(run_id, status="RUNNING")
            return RunHandle(client, run_id, resumed=True, previous_status=run.info.status)
    experiment_id = ensure_experiment(client, experiment)
    run_id = None
    if Tag.TRIAL_ID in tags:
        run_id = _find_trial_run(client, experiment_id, tags[Tag.TRIAL_ID])
    resumed = run_id is not None
    if run_id is None:
        all_tags = dict(tags)
        if parent_run_id:
            all_tags[Tag.PARENT_RUN] = parent_run_id
        run_id = client.create_run(experiment_id, tags=all_tags, run_name=run_name).info.run_id
    else:
        client.update_run(run_id, status="RUNNING")
    work_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"run_id": run_id, "tracking_uri": client.tracking_uri, "experiment": experiment}))
    return RunHandle(client, run_id, resumed=resumed)
