"""MLflow UI links: the runs table of the machine-learning view, on the right host."""
from harness.tracking.links import experiment_url, run_url, ui_command


def test_local_store_links_point_at_the_ui():
    assert experiment_url("sqlite:///work_dirs/sweeps/demo/mlflow.db", "3") == (
        "http://127.0.0.1:5000/#/experiments/3/runs?workflowType=machine_learning")
    assert experiment_url("sqlite:///x.db", "3", ui="http://127.0.0.1:5123/") == (
        "http://127.0.0.1:5123/#/experiments/3/runs?workflowType=machine_learning")
    assert run_url("file:///tmp/mlruns", "0", "abc") == (
        "http://127.0.0.1:5000/#/experiments/0/runs/abc?workflowType=machine_learning")


def test_a_tracking_server_is_its_own_ui():
    assert experiment_url("http://mlflow.lab:8080/", "12", ui="http://127.0.0.1:5000") == (
        "http://mlflow.lab:8080/#/experiments/12/runs?workflowType=machine_learning")
    assert ui_command("https://mlflow.lab") == ""


def test_ui_command_for_local_stores():
    assert ui_command("sqlite:///work_dirs/sweeps/demo/mlflow.db") == (
        "mlflow ui --backend-store-uri sqlite:///work_dirs/sweeps/demo/mlflow.db --host 127.0.0.1 --port 5000")
    assert ui_command("sqlite:////tmp/a b/m.db") == (
        "mlflow ui --backend-store-uri 'sqlite:////tmp/a b/m.db' --host 127.0.0.1 --port 5000")
    assert "secret" not in ui_command("postgresql://u:secret@db/mlflow")
