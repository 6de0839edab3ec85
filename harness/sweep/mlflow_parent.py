"""The sweep's MLflow parent run, its trials' child runs, and objective read-back.

One parent run per sweep (``harness.kind=sweep``, tag ``harness.sweep``), found again by
that tag on a re-run instead of creating a second one. Each trial's training process
creates its own nested child run (``mlflow.parentRunId``) with the tags the orchestrator
passes in its TrainRequest; this module finds those children again by tag.

Every function takes an explicit ``MlflowClient``: nothing here touches MLflow's global
tracking URI or active run.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from optuna.trial import TrialState

from harness.contracts import Attr, Tag
from harness.tracking.links import run_url
from harness.tracking.run import run_id_of
from harness.tracking.store import ensure_experiment

__all__ = ["experiment_id", "find_parent", "open_parent", "child_runs", "settle_trial_run",
           "run_link", "close_parent"]


def _q(value: str) -> str:
    return "'" + str(value).replace("'", "\\'") + "'"


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, created when missing (as training runs create it)."""
    return ensure_experiment(client, name)


def find_parent(client: MlflowClient, exp_id: str, sweep: str) -> Run | None:
    """The sweep's parent run (the oldest, should there ever be two), or None."""
    runs = client.search_runs(
        [exp_id], f"tags.`{Tag.SWEEP}` = {_q(sweep)} AND tags.`{Tag.KIND}` = 'sweep'",
        order_by=["attributes.start_time ASC"], max_results=1)
    return runs[0] if runs else None


def open_parent(client: MlflowClient, exp_id: str, *, sweep: str, study: str,
                storage_redacted: str, spec_file: str, spec_text: str,
                params: Mapping[str, Any]) -> str:
    """Return the sweep's parent run id, creating and describing it on the first call.

    Callers hold the study lock, so two orchestrators never both create one.
    """
    parent = find_parent(client, exp_id, sweep)
    if parent is not None:
        if parent.info.status != "RUNNING":
            client.update_run(parent.info.run_id, status="RUNNING")
        return str(parent.info.run_id)
    run = client.create_run(exp_id, run_name=f"sweep-{sweep}", tags={
        Tag.KIND: "sweep", Tag.SWEEP: sweep, Tag.STUDY: study, Tag.STORAGE: storage_redacted,
    })
    run_id = str(run.info.run_id)
    for key, value in {Tag.STORAGE: storage_redacted, Tag.STUDY: study,
                       **params}.items():
        client.log_param(run_id, key, str(value)[:500])
    client.log_text(run_id, spec_text, f"spec/{spec_file.rsplit('/', 1)[-1]}")
    return run_id


def child_runs(client: MlflowClient, exp_id: str, *, sweep: str, study: str) -> list[Run]:
    """The sweep's trial runs (one per trial id)."""
    # Only trial runs carry harness.trial_id; the LIKE keeps the parent out.
    query = (f"tags.`{Tag.SWEEP}` = {_q(sweep)} AND tags.`{Tag.STUDY}` = {_q(study)}"
             f" AND tags.`{Tag.TRIAL_ID}` LIKE '%'")
    runs: list[Run] = []
    token: str | None = None
    while True:
        page = client.search_runs([exp_id], query, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def settle_trial_run(client: MlflowClient, work_dir: str | Path, *, run_id: str | None,
                     trial_number: int, state: TrialState, failure: str | None) -> str | None:
    """Make a trial's MLflow run agree with the attempt's outcome; returns the run id.

    The run is the work dir's (from the trainer's record, else its run file). A COMPLETE
    attempt's run ends FINISHED (a trainer killed between writing its record and closing
    the run left it RUNNING); a failed attempt's run still RUNNING (its trainer died hard)
    ends FAILED with the reason; a run already closed keeps its status. Either way the run
    carries the latest attempt's Optuna trial number and state.
    """
    run_id = run_id or run_id_of(work_dir)
    if run_id is None:
        return None
    try:
        run = client.get_run(run_id)
    except MlflowException:
        return None  # deleted by someone: nothing to settle
    if state == TrialState.COMPLETE and run.info.status != "FINISHED":
        client.set_terminated(run_id, status="FINISHED")
    elif state != TrialState.COMPLETE and run.info.status == "RUNNING":
        client.set_tag(run_id, Attr.FAILURE, failure or "unknown")
        client.set_terminated(run_id, status="FAILED")
    client.set_tag(run_id, Tag.TRIAL_NUMBER, str(trial_number))
    client.set_tag(run_id, Tag.OPTUNA_STATE, state.name)
    return run_id


def run_link(client: MlflowClient, run_id: str) -> str:
    """A browser link to the run in the MLflow UI (for optuna-dashboard's trial view)."""
    run = client.get_run(run_id)
    return run_url(client.tracking_uri, run.info.experiment_id, run_id)


def close_parent(client: MlflowClient, run_id: str, summary: Mapping[str, Any],
                 trials_csv: str, *, finished: bool) -> None:
    """Log the summary artifacts; end the run only when the whole sweep is done."""
    client.log_text(run_id, json.dumps(summary, indent=2, sort_keys=True, default=str),
                    "summary/summary.json")
    client.log_text(run_id, trials_csv, "summary/trials.csv")
    for key in ("n_complete", "n_pruned", "n_fail"):
        client.log_metric(run_id, f"sweep/{key}", summary.get(key, 0))
    if summary.get("best_value") is not None:
        client.log_metric(run_id, "sweep/best_value", summary["best_value"])
    if finished:
        client.set_terminated(run_id, status="FINISHED")
