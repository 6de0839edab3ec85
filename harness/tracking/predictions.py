"""The per-image predictions CSV of a training or evaluation run (``image_id,nme_percent``)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

__all__ = ["write_per_image_csv"]


def write_per_image_csv(npz_path: Path, out: Path) -> Path:
    """The per-image NME of a metric dump as CSV, in percent like every NME metric (the npz keeps fractions)."""
    data = np.load(npz_path)
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        # The unit is in the column name: a bare "nme" column of fractions read as percent is 100x off.
        writer.writerow(["image_id", "nme_percent"])
        for image_id, nme in zip(data["image_ids"], data["per_image_nme"], strict=True):
            writer.writerow([image_id, f"{100.0 * float(nme):.6f}"])
    return out
