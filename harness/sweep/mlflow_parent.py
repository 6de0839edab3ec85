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
import math
from typing import Any, Mapping

from mlflow import MlflowClient
from mlflow.entities import Run

from harness.tracking.store import ensure_experiment

__all__ = ["experiment_id", "find_parent", "open_parent", "child_runs", "fail_child_runs",
           "read_objective", "close_parent"]


def _q(value: str) -> str:
    return "'" + str(value).replace("'", "\\'") + "'"


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, created when missing (as training runs create it)."""
    return ensure_experiment(client, name)


def find_parent(client: MlflowClient, exp_id: str, sweep: str) -> Run | None:
    """The sweep's parent run (the oldest, should there ever be two), or None."""
    runs = client.search_runs(
        [exp_id], f"tags.`harness.sweep` = {_q(sweep)} AND tags.`harness.kind` = 'sweep'",
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
        return parent.info.run_id
    run = client.create_run(exp_id, run_name=f"sweep-{sweep}", tags={
        "harness.kind": "sweep", "harness.sweep": sweep, "optuna.study": study,
        "optuna.storage": storage_redacted,
    })
    run_id = run.info.run_id
    for key, value in {"optuna.storage": storage_redacted, "optuna.study": study,
                       **params}.items():
        client.log_param(run_id, key, str(value)[:500])
    client.log_text(run_id, spec_text, f"spec/{spec_file.rsplit('/', 1)[-1]}")
    return run_id


def child_runs(client: MlflowClient, exp_id: str, *, sweep: str, study: str,
               trial_number: int | None = None) -> list[Run]:
    """The sweep's trial runs (every attempt), optionally of one Optuna trial number."""
    # Only trial runs carry harness.trial_id; the LIKE keeps the parent out.
    query = (f"tags.`harness.sweep` = {_q(sweep)} AND tags.`optuna.study` = {_q(study)}"
             " AND tags.`harness.trial_id` LIKE '%'")
    if trial_number is not None:
        query += f" AND tags.`optuna.trial_number` = {_q(str(trial_number))}"
    runs, token = [], None
    while True:
        page = client.search_runs([exp_id], query, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def fail_child_runs(client: MlflowClient, exp_id: str, *, sweep: str, study: str,
                    trial_number: int, reason: str) -> list[str]:
    """Mark a dead trial's still-RUNNING child runs FAILED, tagging why; returns their ids."""
    failed = []
    for run in child_runs(client, exp_id, sweep=sweep, study=study, trial_number=trial_number):
        if run.info.status == "RUNNING":
            client.set_tag(run.info.run_id, "harness.failure", reason)
            client.set_terminated(run.info.run_id, status="FAILED")
            failed.append(run.info.run_id)
    return failed


def read_objective(client: MlflowClient, run_id: str, metric: str, *, reduce: str,
                   direction: str) -> float | None:
    """The run's ``metric``: its last logged value, or the best over steps; None if absent."""
    history = [m for m in client.get_metric_history(run_id, metric) if math.isfinite(m.value)]
    if not history:
        return None
    if reduce == "last":
        return max(history, key=lambda m: (m.step, m.timestamp)).value
    pick = min if direction == "minimize" else max
    return pick(m.value for m in history)


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
