"""The report's cross-data-set table from evaluation runs in a real MLflow store."""
from __future__ import annotations

import pytest
from mlflow import MlflowClient

from harness.report.crossdata import crossdata_tables, read_eval_runs
from harness.report.intervals import mean_t


def _eval_run(client: MlflowClient, experiment: str, source: str, seed: int, on: str, nme: float) -> None:
    dataset, split = on.split("/")
    run = client.create_run(experiment, tags={
        "harness.kind": "eval", "harness.source_run_id": source, "harness.trained_on": "synth-300w",
        "harness.method": "structured", "harness.seed": str(seed), "harness.dataset": dataset,
        "harness.eval_split": split, "harness.sweep": "demo"})
    client.log_metric(run.info.run_id, "eval/nme", nme)
    client.log_param(run.info.run_id, "eval.normalizer", "inter_ocular")
    client.set_terminated(run.info.run_id, "FINISHED")


def test_cells_are_student_t_over_seeds_latest_evaluation_per_run(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path / 'm.db'}")
    exp = client.create_experiment("x", artifact_location=(tmp_path / "a").as_uri())
    for seed, nme in enumerate((4.0, 5.0, 6.5)):
        _eval_run(client, exp, f"train{seed}", seed, "300w/test_full", nme + 10)  # superseded below
        _eval_run(client, exp, f"train{seed}", seed, "300w/test_full", nme)
    _eval_run(client, exp, "train0", 0, "cofw/test", 7.0)
    long, wide = crossdata_tables(read_eval_runs(client, exp, "demo"))
    row = long[long["evaluated_on"] == "300w/test_full"].iloc[0]
    expected = mean_t([4.0, 5.0, 6.5])
    assert (row["n_seeds"], row["nme"], row["nme_ci_low"]) == (3, pytest.approx(5.1666666), pytest.approx(expected.low))
    assert list(wide.columns) == ["Trained on", "Method", "300w/test_full", "cofw/test"]
    assert wide.iloc[0]["cofw/test"] == "7.00 (n=1)"
    assert wide.iloc[0]["300w/test_full"].endswith("(n=3)")
    assert read_eval_runs(client, exp, "other").empty
