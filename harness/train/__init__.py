"""One training run done right: config -> Runner -> MLflow record (see runner.py)."""
from typing import Any

from harness.train.request import ExitCode, TrainRequest

__all__ = ["ExitCode", "TrainRequest", "run_training", "TrainResult"]


def __getattr__(name: str) -> Any:
    # The runner imports torch and MMPose; keep `import harness.train` light for the CLI.
    if name in ("run_training", "TrainResult"):
        from harness.train import runner

        return getattr(runner, name)
    raise AttributeError(name)
