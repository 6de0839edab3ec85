"""Published numbers, copied from shared/docs/method.md section 5, with source and normaliser.

They come from the real benchmarks, so they are shown in their own table and only for a
real data set of the same landmark scheme; next to synthetic data they would read as a
comparison they are not.
"""
from __future__ import annotations

import math

import pandas as pd

__all__ = ["PUBLISHED", "published_frame", "published_for"]

_NAN = math.nan
_IO = "inter-ocular"
# (scheme, split, method, NME %, FR %, AUC, normaliser, FR/AUC threshold, source)
_Row = tuple[str, str, str, float, float, float, str, float, str]
PUBLISHED: tuple[_Row, ...] = (
    ("wflw", "full test", "structured (paper)", 3.99, 1.84, 0.606, _IO, 0.10, "Yang & Yeh, ICCV 2025"),
    ("wflw", "full test", "structured (paper, released ckpt)", 3.97, 1.96, 0.608, _IO, 0.10, "Yang & Yeh, ICCV 2025"),
    ("wflw", "full test", "STAR", 4.02, 2.32, 0.605, _IO, 0.10, "Zhou et al., CVPR 2023"),
    ("wflw", "full test", "ADNet", 4.14, 2.72, 0.602, _IO, 0.10, "Huang et al., ICCV 2021"),
    ("wflw", "full test", "SLPT", 4.14, 2.76, 0.595, _IO, 0.10, "Xia et al., CVPR 2022"),
    ("wflw", "full test", "AWing", 4.36, 2.84, 0.572, _IO, 0.10, "Wang et al., ICCV 2019"),
    ("wflw", "full test", "HRNetV2-W18 (original)", 4.60, 4.64, _NAN, _IO, 0.10, "Wang et al., TPAMI 2020"),
    ("wflw", "full test", "MMPose HRNetV2-W18 MSE, 60 ep", 4.06, _NAN, _NAN, _IO, 0.10, "MMPose model zoo"),
    ("wflw", "full test", "MMPose HRNetV2-W18 AWing, 60 ep", 4.02, _NAN, _NAN, _IO, 0.10, "MMPose model zoo"),
    ("wflw", "full test", "MMPose HRNetV2-W18 DARK, 60 ep", 3.98, _NAN, _NAN, _IO, 0.10, "MMPose model zoo"),
    ("cofw", "test", "structured (paper, released ckpt)", 4.54, _NAN, _NAN,
     "not stated (likely inter-pupil)", _NAN, "Yang & Yeh, ICCV 2025"),
    ("cofw", "test", "STAR", 4.62, _NAN, _NAN, "inter-pupil", _NAN, "Zhou et al., CVPR 2023"),
    ("cofw", "test", "STAR", 3.21, _NAN, _NAN, _IO, _NAN, "Zhou et al., CVPR 2023"),
    ("300w", "full", "structured (paper, released ckpt)", 2.86, _NAN, _NAN, _IO, _NAN, "Yang & Yeh, ICCV 2025"),
    ("300w", "common", "STAR", 2.52, _NAN, _NAN, _IO, _NAN, "Zhou et al., CVPR 2023"),
    ("300w", "challenge", "STAR", 4.32, _NAN, _NAN, _IO, _NAN, "Zhou et al., CVPR 2023"),
    ("300w", "full", "STAR", 2.87, _NAN, _NAN, _IO, _NAN, "Zhou et al., CVPR 2023"),
)
_COLUMNS = ["scheme", "split", "method", "nme", "fr", "auc", "normalizer", "threshold", "source"]


def published_frame(scheme: str | None = None) -> pd.DataFrame:
    """Published rows, all or only those of one landmark scheme ("wflw", "300w", "cofw")."""
    frame = pd.DataFrame(list(PUBLISHED), columns=_COLUMNS)
    if scheme is not None:
        frame = frame[frame["scheme"] == str(scheme).lower()].reset_index(drop=True)
    return frame


def _first(group: pd.DataFrame, column: str) -> str | None:
    values = group[column].dropna()
    return str(values.iloc[0]) if len(values) else None


def published_for(usable: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Published rows for each real data set of the compared runs, and why others get none."""
    parts, why = [], []
    for dataset, group in usable.groupby("dataset", sort=True):
        scheme, kind = _first(group, "scheme"), _first(group, "dataset_kind")
        rows = published_frame(scheme) if scheme else published_frame().iloc[:0]
        if kind != "real":
            why.append(f"Published numbers (method.md section 5) are for the real benchmarks: not shown beside "
                       f"{dataset}, which is {kind or 'not marked real'}.")
        elif rows.empty:
            why.append(f"No published numbers for the landmark scheme of {dataset} ({scheme or 'unknown'}).")
        else:
            parts.append(rows.assign(dataset=dataset))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["dataset", *_COLUMNS])
    return frame, why
