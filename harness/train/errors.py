"""Errors that reject a training request before any training starts."""
from __future__ import annotations

from harness.train.request import ExitCode

__all__ = ["BadRequest"]


class BadRequest(ValueError):
    """Config, override or data problem; the message is one line naming the file and key."""

    exit_code = ExitCode.BAD_INPUT
    mlflow_status = "FAILED"
