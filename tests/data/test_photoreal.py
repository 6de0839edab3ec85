"""The menpo3d scan's landmark order and the fall-back without the scan."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from harness.data.synth import generate
from harness.data.synth.photoreal import MENPO_TO_IBUG, landmarks_from_ljson, load_scan
from harness.data.synth.shapes import mean_face

SDIST = Path("/tmp/x/menpo3d-0.8.6.tar.gz")  # where the project brief downloads it; optional


def _assert_ibug_order(f: np.ndarray) -> None:
    """(68, 3) with x right, y up: eye corners, mouth corners, jaw left to right."""
    assert f[36, 0] < f[39, 0] < f[42, 0] < f[45, 0]
    assert f[48, 0] < f[54, 0] and f[60, 0] < f[64, 0]
    assert np.all(np.diff(f[0:17, 0]) > 0)
    assert f[19, 1] > f[37, 1] > f[33, 1] > f[51, 1] > f[57, 1] > f[8, 1]


def test_menpo_group_order_is_reordered_to_ibug():
    ibug = mean_face("300w")
    menpo = np.empty_like(ibug)
    menpo[list(MENPO_TO_IBUG)] = ibug  # write the points the way james.ljson groups them
    doc = {"version": 3, "groups": {"LJSON": {"landmarks": {"points": menpo.tolist(), "connectivity": []},
                                              "labels": []}}}
    out = landmarks_from_ljson(json.dumps(doc))
    np.testing.assert_array_equal(out, ibug)
    _assert_ibug_order(out)
    assert sorted(MENPO_TO_IBUG) == list(range(68))


@pytest.mark.skipif(not SDIST.exists(), reason="menpo3d 0.8.6 sdist not downloaded")
def test_real_scan_landmarks_in_ibug_order():
    _assert_ibug_order(load_scan(SDIST).landmarks)


def test_without_scan_falls_back_to_procedural_with_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        out = generate(tmp_path / "s", n_train=2, n_val=1, n_test=1, size=64, renderer="photoreal",
                       scan=tmp_path / "missing.tar.gz")
    assert "falling back to procedural" in caplog.text
    assert json.loads((out / "card.json").read_text())["renderer"] == "procedural"
