"""Training against a real MLflow tracking server on 127.0.0.1, and against a dead one."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import pytest
from mlflow import MlflowClient

from harness.train.distributed import free_port
from harness.train.errors import BadRequest
from harness.train.runner import run_training


def test_unreachable_server_is_one_line_before_training(make_request):
    uri = f"http://127.0.0.1:{free_port()}"
    started = time.time()
    with pytest.raises(BadRequest, match=r"http://127.0.0.1:\d+: MLflow server unreachable") as info:
        run_training(make_request("dead", tracking_uri=uri))
    assert "\n" not in str(info.value) and time.time() - started < 30


@pytest.fixture
def mlflow_server(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "server-artifacts"), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(uri + "/health", timeout=2).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("mlflow server did not start")
    yield uri
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.slow
def test_training_logs_to_a_server(make_request, mlflow_server):
    result = run_training(make_request("served", tracking_uri=mlflow_server, cfg_options={"train_cfg.max_epochs": 1}))
    client = MlflowClient(mlflow_server)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED" and "test/nme" in run.data.metrics
    assert [m.step for m in client.get_metric_history(result.run_id, "val/nme")] == [1]
    assert "predictions/test_predictions.npz" in {f.path for f in client.list_artifacts(result.run_id, "predictions")}
