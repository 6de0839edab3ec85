"""The per-image CSV a training run logs states its unit: NME in percent, like every metric.

(The report reads the npz, whose ``per_image_nme`` stays a fraction by contract; the CSV is
what people open by hand, so its column names the unit.)
"""
import csv

import numpy as np
import pytest

from harness.train.runner import _write_predictions_csv


def test_per_image_csv_is_in_percent(tmp_path):
    npz = tmp_path / "test_predictions.npz"
    np.savez(npz, image_ids=np.array(["a", "b"]), per_image_nme=np.array([0.0412, 0.15]))
    with open(_write_predictions_csv(npz), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["image_id", "nme_percent"]
    assert [r["image_id"] for r in rows] == ["a", "b"]
    assert [float(r["nme_percent"]) for r in rows] == pytest.approx([4.12, 15.0])
