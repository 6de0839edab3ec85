"""MLflow records of training runs: store set-up, live metric logging, provenance."""
from harness.tracking.store import default_tracking_uri, ensure_experiment

__all__ = ["default_tracking_uri", "ensure_experiment"]
