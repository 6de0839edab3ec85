"""The report of a tune-then-confirm sweep: fairness table, stopping decisions, and a
verdict from confirmation runs only.

A real SQLite MLflow store and a real Optuna journal study, written as the orchestrator
writes them. The tuning runs are given test NMEs that reverse the comparison, so a report
that let them in would state the opposite verdict.
"""
from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from harness.contracts import ProtocolAttr, Tag, confirm_study
from harness.report import ReportRequest, generate_report
from harness.storage import open_storage

SWEEP = "prot"
# Confirmation: structured better by about 0.5 points on every seed; tuning: reversed.
CONFIRM = {"structured": [3.5, 3.6, 3.4], "softargmax": [4.0, 4.1, 3.9]}
TUNE = {"structured": [9.0, 9.5], "softargmax": [2.0, 2.1]}


def _run(client, exp, parent, arm, seed, stage, test_nme):
    tags = {Tag.KIND: "train", Tag.METHOD: arm, Tag.ARM: arm, Tag.DATASET: "synth-300w",
            Tag.DATASET_KIND: "synthetic", Tag.SCHEME: "300w", Tag.SEED: str(seed), Tag.SWEEP: SWEEP,
            Tag.STAGE: stage, Tag.PARENT_RUN: parent, Tag.TRIAL_ID: f"{arm}-{stage}-{seed}"}
    rid = client.create_run(exp, run_name=f"{arm}-{seed}", tags=tags).info.run_id
    client.log_batch(rid, params=[Param("seed", str(seed)), Param("method", arm),
                                  Param("lr", "0.001" if stage == "confirm" else str(seed))],
                     metrics=[Metric("val/nme", test_nme + 2 - e * 0.5, 0, e) for e in (1, 2, 3)]
                     + [Metric("test/nme", test_nme, 0, 3), Metric("test/fr", 1.0, 0, 3),
                        Metric("test/auc", 0.5, 0, 3)])
    client.set_terminated(rid, "FINISHED")


@pytest.fixture
def protocol_store(tmp_path: Path) -> tuple[str, Path]:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    journal = tmp_path / "optuna.journal"
    study = optuna.create_study(study_name=confirm_study(SWEEP), storage=open_storage(f"journal:{journal}"))
    choice = {"complete": 2, "pruned": 0, "trials": 2, "hours": 0.02, "epochs": 3, "configs": 2, "numbers": [1]}
    study.set_user_attr(ProtocolAttr.SELECTION, json.dumps({
        "structured": {**choice, "arm": "structured", "params": {"optim_wrapper.optimizer.lr": 0.001},
                       "val": 5.5, "space": "lr: [0.0005, 0.005] log"},
        "softargmax": {**choice, "arm": "softargmax", "params": {}, "val": 6.0, "space": "none (defaults)",
                       "configs": 1}}))
    study.set_user_attr(f"{ProtocolAttr.ROUND}0", json.dumps({
        "look": 3, "seeds": [1000, 1001, 1002], "method": "group-sequential paired t", "alpha": 0.05,
        "margin": 0.2, "baseline": "softargmax", "metric": "test/nme",
        "decisions": {"structured": {"n": 3, "mean": -0.5, "low": -0.9, "high": -0.1, "level": 0.02,
                                     "state": "differs"}}}))
    client = MlflowClient(uri)
    exp = client.create_experiment("p")
    parent = client.create_run(exp, run_name="sweep", tags={
        Tag.KIND: "sweep", Tag.SWEEP: SWEEP, Tag.PROTOCOL: "tune-then-confirm", Tag.STUDY: confirm_study(SWEEP),
        Tag.STORAGE: f"journal:{journal}"}).info.run_id
    client.log_param(parent, "baseline", "softargmax")
    client.log_param(parent, "device", "cpu")
    for arm, values in CONFIRM.items():
        for i, v in enumerate(values):
            _run(client, exp, parent, arm, 1000 + i, "confirm", v)
    for arm, values in TUNE.items():
        for i, v in enumerate(values):
            _run(client, exp, parent, arm, i, "tune", v)
    return uri, tmp_path


def test_protocol_report_compares_confirmation_runs_only(protocol_store) -> None:
    uri, tmp = protocol_store
    result = generate_report(ReportRequest(tracking_uri=uri, experiment="p", out=tmp / "report", sweep=SWEEP,
                                           log_to_parent=False))
    paired = pd.read_csv(tmp / "report" / "tables" / "paired_seeds.csv")
    assert paired["baseline"].tolist() == ["softargmax"]  # the protocol's baseline
    assert paired["n_pairs"].tolist() == [3]  # confirmation seeds 1000-1002 only
    assert paired["nme_diff"].iloc[0] == pytest.approx(-0.5)
    summary = pd.read_csv(tmp / "report" / "tables" / "summary.csv")
    assert set(summary["n_seeds"]) == {3}
    verdict = (tmp / "report" / "verdict.txt").read_text()
    assert "lower error by 0.50 points" in verdict
    assert "Sequential confirmation on fresh seeds: the sign is decided after 3 seeds" in verdict
    assert "−0.90 to −0.10" in verdict
    fairness = pd.read_csv(tmp / "report" / "tables" / "protocol_fairness.csv")
    assert fairness["Arm"].tolist() == ["structured", "softargmax"]
    assert fairness["Chosen parameters"].tolist() == ["lr=0.001", "defaults (nothing to tune)"]
    assert "Tuning CPU-hours" in fairness
    sequential = pd.read_csv(tmp / "report" / "tables" / "protocol_sequential.csv")
    assert sequential["Confirmation seeds"].tolist() == [3]
    assert sequential["Stopped because"].iloc[0].startswith("decided")
    page = (tmp / "report" / "report.md").read_text()
    assert "Protocol: equal tuning" in page and "4 tuning runs are left out" in page
    assert any("tuning runs are left out" in n for n in result.notes)
