"""Shared fixtures: tiny synthetic data sets made by the test session itself."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_sets(tmp_path_factory):
    """One tiny synthetic set per landmark scheme: {"300w": Path, "wflw": Path, "cofw": Path}."""
    from harness.data.synth import generate

    root = tmp_path_factory.mktemp("tiny_sets")
    return {
        scheme: generate(root / scheme, scheme=scheme, n_train=6, n_val=3, n_test=3, size=96, seed=3)
        for scheme in ("300w", "wflw", "cofw")
    }


@pytest.fixture(scope="session")
def tiny_300w(tmp_path_factory):
    """A small 68-point set big enough for a 2-epoch training run (about 10 s per epoch)."""
    from harness.data.synth import generate

    return generate(tmp_path_factory.mktemp("tiny_300w") / "synth", n_train=64, n_val=16, n_test=16, size=96, seed=5)
