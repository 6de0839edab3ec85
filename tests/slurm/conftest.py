"""Fixtures of the SLURM tests: a real single-node cluster, PostgreSQL and an MLflow server."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from cluster import Cluster, start_cluster, start_mlflow_server, why_not

from needs import missing

_SWEEP_CONFTEST = Path(__file__).resolve().parents[1] / "sweep" / "conftest.py"
_spec = importlib.util.spec_from_file_location("harness_tests_sweep_conftest", _SWEEP_CONFTEST)
assert _spec is not None and _spec.loader is not None
_sweep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sweep)
# The sweep tests' real PostgreSQL fixture (that conftest's fixtures are not visible from
# here; in a whole-suite run this starts a second throw-away cluster, about 5 s).
postgres_url = _sweep.postgres_url


@pytest.fixture(scope="session")
def slurm() -> Cluster:
    reason = why_not()
    if reason:
        missing(reason)
    cluster = start_cluster(cpus=2)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory) -> str:
    """A real `mlflow server` on 127.0.0.1 (SQLite behind the server, a local artifact root)."""
    proc, uri = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    yield uri
    proc.terminate()
    proc.wait(timeout=30)
