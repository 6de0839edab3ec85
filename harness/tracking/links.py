"""Links into the MLflow UI that land on the runs, and the command that starts the UI.

MLflow 3 opens an experiment on its GenAI overview (traces, token usage) unless the URL
asks for the machine-learning workflow; ``runs?workflowType=machine_learning`` opens the
runs table directly (checked with MLflow 3.17). For an ``http(s)`` tracking URI the tracking
server serves the UI itself; for a local store (SQLite file, ``file:`` directory, database
URL) the UI is whatever ``mlflow ui`` serves, by default ``http://127.0.0.1:5000``.
"""
from __future__ import annotations

import shlex
from urllib.parse import quote

from harness.storage import redact

__all__ = ["experiment_url", "run_url", "ui_command", "DEFAULT_UI"]

DEFAULT_UI = "http://127.0.0.1:5000"
_RUNS_VIEW = "workflowType=machine_learning"


def _is_server(tracking_uri: str) -> bool:
    return tracking_uri.lower().startswith(("http://", "https://"))


def _base(tracking_uri: str, ui: str) -> str:
    return (tracking_uri if _is_server(tracking_uri) else ui).rstrip("/")


def experiment_url(tracking_uri: str, experiment_id: str, *, ui: str = DEFAULT_UI) -> str:
    """The link that opens the runs table of experiment ``experiment_id``."""
    return f"{_base(tracking_uri, ui)}/#/experiments/{quote(str(experiment_id))}/runs?{_RUNS_VIEW}"


def run_url(tracking_uri: str, experiment_id: str, run_id: str, *, ui: str = DEFAULT_UI) -> str:
    """The link that opens one run's page (overview, metrics, artifacts)."""
    return (f"{_base(tracking_uri, ui)}/#/experiments/{quote(str(experiment_id))}"
            f"/runs/{quote(str(run_id))}?{_RUNS_VIEW}")


def ui_command(tracking_uri: str) -> str:
    """The ``mlflow ui`` line that serves a local store on the default UI address.

    Empty for an ``http(s)`` tracking URI: the server is its own UI. A database password
    is shown as ``***``: the line is printed and pasted, the password lives elsewhere.
    """
    if _is_server(tracking_uri):
        return ""
    host, port = DEFAULT_UI.rsplit("//", 1)[1].split(":")
    return shlex.join(["mlflow", "ui", "--backend-store-uri", redact(tracking_uri), "--host", host, "--port", port])
