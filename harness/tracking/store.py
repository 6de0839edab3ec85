"""Where runs are stored: tracking URIs and experiments, always passed explicitly."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from mlflow import MlflowClient

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"

__all__ = ["default_tracking_uri", "ensure_experiment", "sqlite_path", "check_reachable", "StoreUnreachable"]


class StoreUnreachable(ConnectionError):
    """The tracking server does not answer; raised before anything is trained."""


def check_reachable(tracking_uri: str, timeout: float = 5.0) -> None:
    """Fail fast on an http(s) tracking URI whose server does not answer its health check.

    MLflow's client retries a dead server for minutes before giving up, by which time a
    trial would already have trained.
    """
    if urlparse(tracking_uri).scheme not in ("http", "https"):
        return
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(tracking_uri.rstrip("/") + "/health", timeout=timeout) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StoreUnreachable(f"{tracking_uri}: MLflow server unreachable ({reason})") from exc


def default_tracking_uri(root: str | Path = ".") -> str:
    """A SQLite store in ``root`` (MLflow 3 refuses a plain ./mlruns folder by default)."""
    return f"sqlite:///{(Path(root).resolve() / 'mlruns.db').as_posix()}"


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, else None."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return Path(tracking_uri[len("sqlite:///"):])


def ensure_experiment(client: MlflowClient, name: str) -> str:
    """Return the id of experiment ``name``, creating it when missing.

    With a SQLite store, artifacts go beside the database (``mlartifacts/``) rather than
    into MLflow's default relative ``./mlruns``, so a store moved as a folder stays whole.
    A restored (deleted) experiment of the same name is reused.
    """
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    experiment_id = _create(client, name)
    # MLflow 3's UI opens an untyped experiment in its GenAI (traces) view; these are
    # training runs, so say so and the UI opens on the runs table and their curves.
    client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, "custom_model_development")
    return experiment_id


def _create(client: MlflowClient, name: str) -> str:
    db = sqlite_path(client.tracking_uri)
    # Other stores (a server) choose their own artifact root.
    artifact_location = (db.parent / "mlartifacts").resolve().as_uri() if db is not None else None
    try:
        return client.create_experiment(name, artifact_location=artifact_location)
    except Exception:
        # Another worker created it between our lookup and create.
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id
