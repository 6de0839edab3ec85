"""Tests that need a system service: skip on a developer's machine, fail in CI.

`.ci/run` installs what these tests need (Chromium, PostgreSQL); a CI run where one is
still missing must not pass quietly with the test skipped.
"""
from __future__ import annotations

import os

import pytest

__all__ = ["missing"]


def missing(reason: str) -> None:
    """Stop the test because ``reason``: a failure under CI=true, a skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run this test: {reason}", pytrace=False)
    pytest.skip(reason)
