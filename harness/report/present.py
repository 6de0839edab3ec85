"""Analysis tables -> what a reader sees: human column labels, digits, one missing-value mark.

The CSV files keep the tidy machine columns (for reuse); HTML, Markdown and LaTeX show the
frames made here. A value and its interval share one cell ("4.30 (3.80 to 4.80)"), which
halves the width of a table. NME values are percent with two decimals (the precision papers
quote), differences in NME points with a sign, p-values with two significant digits.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

__all__ = ["MISSING", "TITLES", "display", "num", "signed", "pvalue", "ratio", "with_ci"]

MISSING = "–"  # the one spelling of "no value", in every table and sentence

# A cell value as pandas hands it over (float, int, str, None, NaN, NaT, a numpy scalar).
Fmt = Callable[[Any], str]
# A table column: one display cell from one row (a pandas Series) of the analysis frame.
Column = Callable[[pd.Series], str]


def _ok(value: Any) -> bool:
    try:
        return value is not None and not pd.isna(value) and value != ""
    except (TypeError, ValueError):
        return True


def num(value: Any, digits: int = 2) -> str:
    return f"{float(value):.{digits}f}" if _ok(value) else MISSING


def signed(value: Any, digits: int = 2) -> str:
    return f"{float(value):+.{digits}f}".replace("-", "−") if _ok(value) else MISSING


def pvalue(value: Any) -> str:
    if not _ok(value):
        return MISSING
    return "< 0.001" if value < 0.001 else f"{value:.2g}"


def ratio(value: Any) -> str:
    if not _ok(value):
        return MISSING
    return "∞" if math.isinf(value) else f"{value:.2f}×"


def with_ci(value: Any, low: Any, high: Any, fmt: Fmt = num) -> str:
    """``value (low to high)``; the value alone when there is no interval."""
    if not _ok(value):
        return MISSING
    if not (_ok(low) and _ok(high)):
        return fmt(value)
    if math.isinf(low) or math.isinf(high):
        return f"{fmt(value)} (unbounded)"
    return f"{fmt(value)} ({fmt(low)} to {fmt(high)})"


def _ci(prefix: str, fmt: Fmt = num) -> Column:
    return lambda r: with_ci(r[prefix], r[f"{prefix}_ci_low"], r[f"{prefix}_ci_high"], fmt)


def _vs_baseline(prefix: str, fmt: Fmt = num) -> Column:
    """A comparison cell, which on the baseline's own row says so instead of a dash."""
    inner = _ci(prefix, fmt)
    return lambda r: "baseline" if r.get("is_baseline") is True else inner(r)


def _text(column: str) -> Column:
    return lambda r: str(r[column]) if _ok(r[column]) else MISSING


def _int(column: str) -> Column:
    return lambda r: f"{int(r[column])}" if _ok(r[column]) else MISSING


def _shares(r: pd.Series) -> str:
    if not _ok(r["share_seed"]):
        return MISSING
    return " / ".join(f"{100 * r[k]:.0f}%" for k in ("share_seed", "share_image", "share_resid"))


_CI = "(95% CI)"
SPECS: dict[str, list[tuple[str, Column]]] = {
    "headline": [
        ("Method", _text("method")), ("Seeds", _int("n_seeds")), (f"Test NME % {_CI}", _ci("nme")),
        (f"Δ vs baseline, points {_CI}", _vs_baseline("nme_diff", signed)),
        ("Paired t p", lambda r: pvalue(r["t_p"])),
        (f"Speed-up in epochs {_CI}", _vs_baseline("speedup_epochs", ratio))],
    "summary": [
        ("Method", _text("method")), ("Seeds", _int("n_seeds")), (f"Test NME % {_CI}", _ci("nme")),
        ("FR %", lambda r: num(r["fr"])), ("AUC", lambda r: num(r["auc"], 3)),
        ("Best epoch", lambda r: num(r["best_epoch"], 1)), ("Best val NME %", lambda r: num(r["best_val_nme"]))],
    "published": [
        ("Benchmark", lambda r: f"{r['scheme'].upper()} {r['split']}"), ("Method", _text("method")),
        ("NME %", lambda r: num(r["nme"])), ("FR %", lambda r: num(r["fr"])), ("AUC", lambda r: num(r["auc"], 3)),
        ("Normaliser", _text("normalizer")), ("Source", _text("source"))],
    "paired_seeds": [
        ("Method", _text("method")), ("Paired seeds", _int("n_pairs")),
        (f"Δ test NME, points {_CI}", _ci("nme_diff", signed)), ("Paired t p", lambda r: pvalue(r["t_p"])),
        ("Exact Wilcoxon p (lowest possible)", lambda r: f"{pvalue(r['wilcoxon_p'])} ({pvalue(r['exact_p_floor'])})"),
        ("Detectable Δ, points (80% power)", lambda r: num(r["detectable_diff"]))],
    "paired_images": [
        ("Method", _text("method")), ("Seeds × images", lambda r: f"{int(r['n_seeds'])} × {int(r['n_images'])}"),
        (f"Δ NME, points {_CI}", _ci("nme_diff", signed)), ("df", lambda r: num(r["df"], 1)),
        ("p", lambda r: pvalue(r["p"])), ("Variance: seeds / images / residual", _shares)],
    "convergence": [
        ("Method", _text("method")), ("Target val NME %", lambda r: num(r["target_nme"])),
        ("Seeds reaching it", lambda r: f"{int(r['n_reached'])}/{int(r['n_seeds'])}"),
        (f"Epochs to target {_CI}", _ci("epochs_to_target", lambda v: num(v, 1))),
        (f"Seconds to target {_CI}", _ci("seconds_to_target", lambda v: num(v, 0))),
        (f"Speed-up, epochs {_CI}", _vs_baseline("speedup_epochs", ratio)),
        (f"Speed-up, seconds {_CI}", _vs_baseline("speedup_seconds", ratio))],
    "convergence_per_seed": [
        ("Method", _text("method")), ("Seed", _text("seed")), ("Epochs", _int("epochs")),
        ("Final val NME %", lambda r: num(r["final_val_nme"])), ("Best epoch", _int("best_epoch")),
        ("Best val NME %", lambda r: num(r["best_val_nme"])),
        ("Epochs to target", lambda r: num(r["epochs_to_target"], 2)),
        ("Seconds to target", lambda r: num(r["seconds_to_target"], 1))],
    "excluded_runs": [
        ("Method", _text("label")), ("Seed", _text("seed")), ("Status", _text("status")), ("Why", _text("why"))],
    "environment": [
        ("Key", _text("key")), ("Distinct values", _int("n_distinct")), ("Values", _text("values"))],
}


def _generic(frame: pd.DataFrame) -> pd.DataFrame:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return MISSING if math.isnan(v) else (f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}")
        return MISSING if not _ok(v) else str(v)

    labels = {c: c.removeprefix("params_").removeprefix("user_attrs_").replace("_", " ") for c in frame.columns}
    return frame.map(cell).rename(columns=labels)


def display(name: str, frame: pd.DataFrame, drop_dataset: bool = True) -> pd.DataFrame:
    """The reader's version of table ``name``; unknown tables get generic labels and digits."""
    spec = SPECS.get(name)
    if name == "wflw_subsets" and not frame.empty:  # one column per subset present
        spec = [("Method", _text("method"))] + [
            (f"{c} NME %", (lambda col: lambda r: num(r[col]))(c))
            for c in frame.columns if c not in ("dataset", "method")]
    if spec is None or frame.empty:
        return _generic(frame)
    shown = pd.DataFrame({label: [fn(r) for _, r in frame.iterrows()] for label, fn in spec})
    if not drop_dataset and "dataset" in frame:
        shown.insert(0, "Data set", frame["dataset"].astype(str).to_numpy())
    return shown

TITLES = {
    "headline": "Each method against the baseline", "summary": "Test metrics per method",
    "published": "Published numbers (not re-measured)",
    "paired_seeds": "Paired by seed", "paired_images": "Image level, seeds kept",
    "convergence": "Time to the target", "convergence_per_seed": "Per seed", "wflw_subsets": "WFLW test subsets",
    "excluded_runs": "Runs not compared", "environment": "Environment of the compared runs",
    "optuna_trial_states": "Trial states", "optuna_best_trials": "Best trials",
}
