"""Report figures, built as :class:`matplotlib.figure.Figure` objects.

Figures are created with the object API, not pyplot: no global figure registry, no GUI
backend, and PNG/SVG saving goes through the Agg and SVG canvases. Each function takes tidy
frames already restricted to one data set and returns a figure; nothing is written here.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.evaluation.metrics import ced_curve
from harness.report import stats

__all__ = ["colors_for", "convergence_figure", "ced_figure", "landmark_figure", "subset_figure"]


def colors_for(labels: Iterable[str]) -> dict[str, str]:
    """A stable colour per label (sorted order), shared by every figure of the report."""
    return {label: f"C{i % 10}" for i, label in enumerate(sorted(set(labels)))}


def _seed_curves(history: pd.DataFrame, run_ids: Iterable[str], x_key: str) -> list[tuple[np.ndarray, np.ndarray]]:
    curves = []
    for run_id in run_ids:
        h = history[history["run_id"] == run_id]
        val = h[h["key"] == "val/nme"].drop_duplicates("step", keep="last").set_index("step")["value"].sort_index()
        if x_key == "step":
            x = val.index.to_numpy(dtype=float)
        else:
            secs = h[h["key"] == x_key].drop_duplicates("step", keep="last").set_index("step")["value"]
            x = secs.reindex(val.index).to_numpy(dtype=float)
        ok = np.isfinite(x)
        curves.append((x[ok], val.to_numpy(dtype=float)[ok]))
    return [c for c in curves if c[0].size]


def _mean_band(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # Seeds are put on one grid by linear interpolation (needed for wall-clock seconds,
    # which differ per seed); outside a seed's own range it contributes nothing.
    grid = np.unique(np.concatenate([c[0] for c in curves]))
    stack = np.vstack([np.interp(grid, x, y, left=np.nan, right=np.nan) for x, y in curves])
    with np.errstate(all="ignore"):
        return grid, np.nanmean(stack, 0), np.nanmin(stack, 0), np.nanmax(stack, 0)


def convergence_figure(history: pd.DataFrame, runs: pd.DataFrame, x_key: str, target: float,
                       colors: dict[str, str], title: str) -> Figure:
    """Val NME against epoch (``x_key="step"``) or seconds: mean line, min-max band over seeds."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot()
    for label, group in runs.groupby("label", sort=True):
        curves = _seed_curves(history, group["run_id"], x_key)
        if not curves:
            continue
        grid, mean, low, high = _mean_band(curves)
        ax.plot(grid, mean, color=colors[label], lw=2, label=f"{label} (n={len(curves)})")
        if len(curves) > 1:
            ax.fill_between(grid, low, high, color=colors[label], alpha=0.2, lw=0)
    if np.isfinite(target):
        ax.axhline(target, color="k", ls="--", lw=1, label=f"target {target:.3g}%")
    ax.set_xlabel("epoch" if x_key == "step" else "training seconds (validation excluded)")
    ax.set_ylabel("val NME (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def ced_figure(images: pd.DataFrame, threshold: float, colors: dict[str, str], title: str) -> Figure:
    """Cumulative error distribution per label, images pooled over seeds; AUC in the legend."""
    fig = Figure(figsize=(6, 4.2))
    ax = fig.add_subplot()
    for label, group in images.groupby("label", sort=True):
        xs, frac = ced_curve(group["nme"].to_numpy(), threshold, 201)
        area = stats.auc(group["nme"], threshold)
        ax.plot(xs, frac, color=colors[label], lw=2, label=f"{label} (AUC@{threshold:g}% {area:.3f})")
    ax.set_xlim(0, threshold)
    ax.set_ylim(0, 1)
    ax.set_xlabel("per-image NME (%)")
    ax.set_ylabel("share of test images")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def landmark_figure(landmarks: pd.DataFrame, mean_face: np.ndarray, title: str) -> Figure:
    """Per-landmark mean error (colour and size) drawn on the mean ground-truth face."""
    labels = sorted(landmarks["label"].unique())
    fig = Figure(figsize=(3.2 * len(labels) + 0.8, 3.6))
    per = landmarks.groupby(["label", "landmark"])["error"].mean()
    # Colour spans the observed range (not 0..max) so that differences between points show.
    vmin, vmax = (float(per.min()), float(per.max())) if len(per) else (0.0, 1.0)
    axes = fig.subplots(1, len(labels), squeeze=False)[0]
    for ax, label in zip(axes, labels, strict=True):  # one axes per label
        err = per.loc[label].reindex(range(len(mean_face))).to_numpy()
        points = ax.scatter(mean_face[:, 0], mean_face[:, 1], c=err, s=10 + 60 * err / vmax,
                            cmap="viridis", vmin=vmin, vmax=max(vmax, vmin + 1e-9))
        ax.set_title(f"{label}\nmean {np.nanmean(err):.2f}%", fontsize=9)
        ax.invert_yaxis()  # image coordinates: y grows downwards
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.margins(0.08)
    fig.colorbar(points, ax=list(axes), label="mean error (% of normaliser)")
    fig.suptitle(title, fontsize=10)
    return fig


def subset_figure(subsets: pd.DataFrame, colors: dict[str, str], title: str) -> Figure:
    """Grouped bars of mean test NME per WFLW subset and label."""
    names = [c for c in subsets.columns if c not in ("dataset", "method")]
    fig = Figure(figsize=(7.5, 4))
    ax = fig.add_subplot()
    width = 0.8 / max(len(subsets), 1)
    for i, row in enumerate(subsets.itertuples(index=False)):
        values = [getattr(row, n) for n in names]
        ax.bar(np.arange(len(names)) + i * width, values, width, color=colors[row.method], label=row.method)
    ax.set_xticks(np.arange(len(names)) + width * (len(subsets) - 1) / 2, names)
    ax.set_ylabel("test NME (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
