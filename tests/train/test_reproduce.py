"""`harness reproduce`: refuses on other code, re-runs to identical metrics when allowed."""
from __future__ import annotations

import subprocess

import pytest
from mlflow import MlflowClient

from harness.train.errors import BadRequest
from harness.train.reproduce import compare_runs, plan_reproduction
from harness.train.runner import run_training

pytestmark = pytest.mark.slow


def test_reproduce_refuses_other_code_and_matches_when_forced(make_request, tmp_path):
    original = run_training(make_request("orig"))
    client = MlflowClient(make_request().tracking_uri)

    other = tmp_path / "other_repo"
    other.mkdir()
    for args in (["init", "-q"],
                 ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *args], cwd=other, check=True)
    with pytest.raises(BadRequest, match=r"checked-out commit .* differs from the logged .*--force"):
        plan_reproduction(client, original.run_id, str(tmp_path / "again"), repo_dir=other)

    plan = plan_reproduction(client, original.run_id, str(tmp_path / "again"), force=True, repo_dir=other)
    again = run_training(plan.request)
    assert client.get_run(again.run_id).data.tags["harness.reproduces"] == original.run_id
    rows = {key: diff for key, _, _, diff in compare_runs(client, original.run_id, again.run_id)}
    assert rows["test/nme"] == 0.0 and rows["val/nme"] == 0.0
