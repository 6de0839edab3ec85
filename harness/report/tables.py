"""Tidy frames -> the report's tables (pure pandas; no MLflow, no files).

Rows are grouped by data set and by *label*: a sweep arm when the run has one, else the
method tag. NME values are percent throughout; differences are method - baseline, so a
negative difference means the method has the lower (better) error.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from harness.contracts import Outcome
from harness.report import design, stats
from harness.report.intervals import Interval, mean_t, paired_t, speedup
from harness.report.mixed import crossed_mixed
from harness.report.records import SUBSETS

__all__ = [
    "DEFAULT_BASELINES", "split_usable", "select_configs", "pick_baseline", "per_run",
    "add_targets", "summary_table", "paired_table", "per_image_table", "convergence_table",
    "subset_table", "headline_table",
]

# The paper's main baseline first (method.md section 3), then the other soft-argmax ones.
DEFAULT_BASELINES = ("star", "softargmax", "dsnt", "heatmap_mse")


def split_usable(runs: pd.DataFrame, history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs the comparison can use (finished, with test/nme and a val/nme history) and the rest.

    The excluded frame keeps ``run_id, label, seed, status, why`` so pruned and failed trials
    are listed with their reason instead of silently vanishing.
    """
    with_history = set(history.loc[history["key"] == "val/nme", "run_id"])
    why = pd.Series("", index=runs.index, dtype=object)
    why[runs["status"] != "FINISHED"] = "status " + runs["status"].astype(str)
    why[(why == "") & ~np.isfinite(runs["test/nme"].astype(float))] = "no test/nme metric"
    why[(why == "") & ~runs["run_id"].isin(with_history)] = "no val/nme history"
    # A reason only explains an exclusion: a resumed run that finished may keep a stale tag.
    reason, failed = runs["reason"].fillna(""), why != ""
    why[failed & (reason != "")] = why + " (" + reason + ")"
    # MLflow has no PRUNED status: a pruned run ends FAILED with harness.outcome=pruned.
    pruned = runs["outcome"] == Outcome.PRUNED.value if "outcome" in runs else False
    why[failed & pruned] = "pruned (" + reason + ")"
    excluded = runs.loc[why != "", ["run_id", "dataset", "label", "seed", "status"]].copy()
    excluded["why"] = why[why != ""]
    return runs[why == ""].copy(), excluded.reset_index(drop=True)


def select_configs(usable: pd.DataFrame, history: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Keep one configuration per (data set, label): the one with the best mean final val NME.

    A search sweep runs many configurations per arm; pooling them would mix hyper-parameters
    into the seed spread. Selecting on *validation* keeps the test numbers honest.
    """
    finals = _final_val(history)
    notes, keep = [], []
    # A re-run of the same seed and configuration replaces the older record.
    usable = usable.sort_values("start_time").drop_duplicates(["dataset", "label", "seed", "config"], keep="last")
    for (dataset, label), group in usable.groupby(["dataset", "label"], sort=True):
        if group["config"].nunique() <= 1:
            keep.append(group)
            continue
        score = group.assign(v=group["run_id"].map(finals)).groupby("config")["v"].mean()
        best = score.idxmin()
        keep.append(group[group["config"] == best])
        notes.append(f"{dataset}/{label}: {score.size} configurations; kept the one with the best "
                     f"mean final val NME ({score.min():.3f}%), selected on validation")
    return pd.concat(keep).reset_index(drop=True) if keep else usable.iloc[:0], notes


def pick_baseline(runs: pd.DataFrame, requested: str | None) -> str:
    """The baseline label: ``requested`` (a label or a method) or the first default present."""
    labels: set[str] = set(runs["label"])
    if requested:
        if requested in labels:
            return requested
        matches: list[str] = sorted(set(runs.loc[runs["method"] == requested, "label"]))
        if len(matches) == 1:
            return matches[0]
        raise ValueError(f"baseline {requested!r} matches {matches or 'no'} arm/method "
                         f"(present: {sorted(labels)})")
    for name in DEFAULT_BASELINES:
        matches = sorted(set(runs.loc[(runs["label"] == name) | (runs["method"] == name), "label"]))
        if matches:
            return matches[0]
    return sorted(labels)[0]


def _curve(history: pd.DataFrame, run_id: str, key: str) -> pd.Series:
    part = history[(history["run_id"] == run_id) & (history["key"] == key)]
    return part.drop_duplicates("step", keep="last").set_index("step")["value"].sort_index()


def _final_val(history: pd.DataFrame) -> pd.Series:
    val = history[history["key"] == "val/nme"].sort_values("step")
    return val.groupby("run_id")["value"].last()


def per_run(usable: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """One row per run: final and best val NME, best epoch, and its own-end-point epochs.

    ``epochs_to_own_5pct`` is the paper's reading (within 5% of the run's own final NME); it
    is kept only to show why it misleads (method.md section 6), never as the speed-up.
    """
    rows = []
    for run in usable.itertuples(index=False):
        val = _curve(history, run.run_id, "val/nme")
        rows.append({
            "run_id": run.run_id, "dataset": run.dataset, "label": run.label, "seed": run.seed,
            "epochs": int(val.index.max()), "final_val_nme": float(val.iloc[-1]),
            "best_epoch": int(val.idxmin()), "best_val_nme": float(val.min()),
            "epochs_to_own_5pct": stats.steps_to_target(val.index, val.values, 1.05 * val.iloc[-1]),
        })
    return pd.DataFrame(rows)


def add_targets(frame: pd.DataFrame, history: pd.DataFrame, targets: dict[str, float]) -> pd.DataFrame:
    """Add ``target``, ``epochs_to_target`` and ``seconds_to_target`` (per data set target)."""
    out = frame.copy()
    out["target"] = out["dataset"].map(targets)
    epochs, seconds = [], []
    for row in out.itertuples(index=False):
        val = _curve(history, row.run_id, "val/nme")
        secs = _curve(history, row.run_id, "time/elapsed_seconds").reindex(val.index)
        epochs.append(stats.steps_to_target(val.index, val.values, row.target))
        ok = secs.notna().to_numpy()
        seconds.append(stats.steps_to_target(secs.values[ok], val.values[ok], row.target) if ok.any() else np.nan)
    out["epochs_to_target"], out["seconds_to_target"] = epochs, seconds
    return out


def _ci_columns(prefix: str, interval: Interval) -> dict[str, float]:
    return {prefix: interval.value, f"{prefix}_ci_low": interval.low, f"{prefix}_ci_high": interval.high}


def _first(values: Iterable[Any]) -> str:
    vals = sorted({str(v) for v in values if v is not None and v == v})
    return ",".join(vals)


def summary_table(usable: pd.DataFrame, runs_frame: pd.DataFrame) -> pd.DataFrame:
    """Per (data set, label): seeds, test NME mean and 95% t-CI, FR, AUC, best epoch."""
    rows = []
    merged = usable.merge(runs_frame[["run_id", "best_epoch", "best_val_nme", "final_val_nme"]], on="run_id")
    for (dataset, label), g in merged.groupby(["dataset", "label"], sort=True):
        nme = mean_t(g["test/nme"])
        rows.append({
            "dataset": dataset, "method": label, "n_seeds": nme.n,
            **_ci_columns("nme", nme), "fr": g["test/fr"].mean(), "auc": g["test/auc"].mean(),
            "best_epoch": g["best_epoch"].mean(), "best_val_nme": g["best_val_nme"].mean(),
            "normalizer": _first(g["eval.normalizer"]), "threshold": _first(g["eval.threshold"]),
            "decoder": _first(g["decoder"]), "flip_test": _first(g["flip_test"]),
            "note": stats.NO_CI_NOTE if nme.n == 1 else "",
        })
    return pd.DataFrame(rows)


def _pairs(usable: pd.DataFrame, dataset: str, label: str, baseline: str, column: str) -> pd.DataFrame:
    sub = usable[usable["dataset"] == dataset]
    a = sub[sub["label"] == label].set_index("seed")[column]
    b = sub[sub["label"] == baseline].set_index("seed")[column]
    return pd.DataFrame({"method": a, "baseline": b}).dropna()


def paired_table(usable: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per-seed paired differences of test NME against the baseline (same data set, same seed).

    Besides the t interval and test: the exact Wilcoxon p-value with the floor no such test
    can go below at this number of pairs, and the smallest difference these seeds would
    detect (80% power) given the observed spread of the differences.
    """
    rows = []
    for dataset in sorted(usable["dataset"].unique()):
        labels = sorted(set(usable.loc[usable["dataset"] == dataset, "label"]) - {baseline})
        for label in labels:
            pairs = _pairs(usable, dataset, label, baseline, "test/nme")
            diff = (pairs["method"] - pairs["baseline"]).to_numpy()
            ci = paired_t(diff)
            sd = float(diff.std(ddof=1)) if diff.size > 1 else np.nan
            rows.append({
                "dataset": dataset, "method": label, "baseline": baseline, "n_pairs": diff.size,
                **_ci_columns("nme_diff", ci), "ci_method": ci.method, "t_p": ci.p,
                "wilcoxon_p": stats.wilcoxon_p(diff), "exact_p_floor": design.exact_p_floor(diff.size),
                "sd_diff": sd, "detectable_diff": design.detectable_difference(sd, diff.size),
                "seeds": ",".join(map(str, pairs.index)),
                "note": "no paired seeds" if diff.size == 0 else (stats.NO_CI_NOTE if diff.size == 1 else ""),
            })
    return pd.DataFrame(rows)


def _difference_grid(d: pd.DataFrame, label: str, baseline: str) -> pd.DataFrame:
    """(seed x image) differences on the images every paired seed has for both methods."""
    own = d[d["label"] == label].pivot_table(index="seed", columns="image_id", values="nme", aggfunc="last")
    base = d[d["label"] == baseline].pivot_table(index="seed", columns="image_id", values="nme", aggfunc="last")
    return (own - base).dropna(how="all").dropna(axis=1)


def per_image_table(usable: pd.DataFrame, images: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Image-level evidence: crossed seeds x images mixed model of per-image differences."""
    if images.empty:
        return pd.DataFrame()
    tagged = images.merge(usable[["run_id", "dataset", "label", "seed"]], on="run_id")
    rows = []
    for dataset, d in tagged.groupby("dataset", sort=True):
        for label in sorted(set(d["label"]) - {baseline}):
            grid = _difference_grid(d, label, baseline)
            if grid.empty:
                continue
            fit = crossed_mixed(grid.to_numpy())
            rows.append({"dataset": dataset, "method": label, "baseline": baseline, "n_seeds": fit.n_seeds,
                         "n_images": fit.n_images, **_ci_columns("nme_diff", fit.interval),
                         "ci_method": fit.interval.method, "df": fit.interval.df, "p": fit.interval.p,
                         "share_seed": fit.share_seed, "share_image": fit.share_image,
                         "share_resid": fit.share_resid})
    return pd.DataFrame(rows)


def convergence_table(frame: pd.DataFrame, baseline: str, rule: str) -> pd.DataFrame:
    """Epochs and seconds to the target, and the speed-up (baseline / method) with its CI.

    Seeds are paired when both sides have the same seeds; the speed-up is then the geometric
    mean of per-seed ratios, else the ratio of mean times (see :func:`intervals.speedup`).
    """
    rows = []
    for (dataset, label), g in frame.groupby(["dataset", "label"], sort=True):
        base = frame[(frame["dataset"] == dataset) & (frame["label"] == baseline)]
        paired = sorted(map(str, g["seed"])) == sorted(map(str, base["seed"]))
        g, base = g.sort_values("seed"), base.sort_values("seed")
        row = {"dataset": dataset, "method": label, "baseline": baseline, "is_baseline": label == baseline,
               "target_nme": g["target"].iloc[0], "target_rule": rule, "n_seeds": len(g),
               "n_reached": int(g["epochs_to_target"].notna().sum())}
        for unit in ("epochs", "seconds"):
            row.update(_ci_columns(f"{unit}_to_target", mean_t(g[f"{unit}_to_target"])))
            # The baseline's ratio with itself says nothing: left empty rather than 1.00x.
            ratio = (Interval(np.nan, np.nan, np.nan, len(g)) if label == baseline
                     else speedup(base[f"{unit}_to_target"], g[f"{unit}_to_target"], paired=paired))
            row.update(_ci_columns(f"speedup_{unit}", ratio))
            row[f"speedup_{unit}_method"] = ratio.method
        own = speedup(base["epochs_to_own_5pct"], g["epochs_to_own_5pct"], paired=paired)
        row["speedup_own_5pct_misleading"] = np.nan if label == baseline else own.value
        row["note"] = _convergence_note(row)
        rows.append(row)
    return pd.DataFrame(rows)


def _convergence_note(row: dict[str, Any]) -> str:
    if row["n_reached"] < row["n_seeds"]:
        return f"target not reached in {row['n_seeds'] - row['n_reached']}/{row['n_seeds']} seeds: no ratio"
    return stats.NO_CI_NOTE if row["n_seeds"] == 1 else ""


def subset_table(usable: pd.DataFrame) -> pd.DataFrame:
    """Mean test NME per WFLW subset and label (empty when no run logged subsets)."""
    cols = [f"test/nme_{s}" for s in SUBSETS if f"test/nme_{s}" in usable]
    if not cols or usable[cols].isna().all().all():
        return pd.DataFrame()
    table = usable.groupby(["dataset", "label"], sort=True)[cols].mean().dropna(how="all").reset_index()
    return table.rename(columns={c: c.split("_", 1)[1] for c in cols} | {"label": "method"})


def headline_table(summary: pd.DataFrame, paired: pd.DataFrame, convergence: pd.DataFrame) -> pd.DataFrame:
    """One row per (data set, method): NME with CI, paired difference with CI and p, speed-up."""
    keys = ["dataset", "method"]
    measured = summary[keys + ["n_seeds", "nme", "nme_ci_low", "nme_ci_high"]]
    diff_cols = ["nme_diff", "nme_diff_ci_low", "nme_diff_ci_high", "t_p"]
    speed_cols = ["is_baseline", "speedup_epochs", "speedup_epochs_ci_low", "speedup_epochs_ci_high"]
    out = measured.merge(paired[keys + diff_cols] if not paired.empty else pd.DataFrame(columns=keys + diff_cols),
                         on=keys, how="left")
    return out.merge(convergence[keys + speed_cols], on=keys, how="left")
