"""Search-sweep section: best trials, parameter importances and intermediate values.

The study is found through the sweep's parent MLflow run, which records the storage URL and
study name as param or tag ``optuna.storage`` / ``optuna.study`` (an RDB URL, or
``journal:/abs/path`` for the sweep's default journal file). Plots are Optuna's own
matplotlib visualisations. Anything missing (no parent, no storage, unreachable storage,
too few trials) becomes a note in the report, never an error: the rest of the report stands
on MLflow alone.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from harness.contracts import Attr, Tag
from harness.storage import normalize_url, open_storage, redact

if TYPE_CHECKING:  # matplotlib and optuna are imported only when a study is read
    import optuna
    from matplotlib.figure import Figure
    from mlflow.entities import Run

__all__ = ["OptunaSection", "optuna_section"]


@dataclass
class OptunaSection:
    """What the report shows for a study: tables, (name, title, figure) triples and notes."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[tuple[str, str, Figure]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per figure left out, saying why


def _lookup(run: Run, key: str) -> str | None:
    value: str | None = run.data.params.get(key) or run.data.tags.get(key)
    return value


def _plot(func: Callable[[optuna.Study], Any], study: optuna.Study) -> Figure:
    """``func`` is an Optuna matplotlib plot: it returns an Axes, or an array of them."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    # rc_context undoes the global style Optuna sets (plt.style.use("ggplot")), which would
    # otherwise restyle every later figure of the report.
    with warnings.catch_warnings(), mpl.rc_context():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        ax = func(study)
    fig: Figure = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
    # Detach from pyplot's registry at once: the Figure stays savable, no global state leaks.
    plt.close(fig)
    return fig


def optuna_section(parent: Run | None, top: int = 10) -> OptunaSection:
    """Read the study named on ``parent`` (an MLflow run, may be None) and summarise it."""
    section = OptunaSection()
    if parent is None:  # not a sweep: nothing to say
        return section
    storage, name = _lookup(parent, Tag.STORAGE), _lookup(parent, Tag.STUDY)
    if not storage or not name:
        section.notes.append("the sweep parent run records no optuna.storage / optuna.study")
        return section
    if "***" in storage:
        section.notes.append(f"the parent run stores the Optuna storage redacted ({storage}): study not read")
        return section
    import optuna
    from optuna.visualization import matplotlib as ovm

    try:
        study = optuna.load_study(study_name=name, storage=open_storage(
            normalize_url(storage, base=Path.cwd()), create=False))
    except Exception as exc:  # any storage failure only removes this section
        section.notes.append(f"Optuna study {name!r} at {redact(storage)} could not be read: {exc}")
        return section
    frame = study.trials_dataframe()
    section.notes.append(f"study {name!r} at {redact(storage)}: {len(frame)} trials")
    if frame.empty:
        return section
    counts = frame["state"].value_counts()
    section.tables["optuna_trial_states"] = counts.rename_axis("state").reset_index(name="trials")
    done = frame[frame["state"] == "COMPLETE"]
    if "value" in done:
        ascending = study.direction == optuna.study.StudyDirection.MINIMIZE
        best = done.sort_values("value", ascending=ascending)[_best_columns(done)]
        section.tables["optuna_best_trials"] = best.head(top)
    for key, title, func, why_not in (
        ("optuna_importances", "Optuna parameter importances", ovm.plot_param_importances, _importance_degenerate),
        ("optuna_intermediate", "Optuna intermediate values (pruning view)", ovm.plot_intermediate_values,
         _intermediate_degenerate),
    ):
        reason = why_not(frame)
        if reason:
            section.skipped.append(f"{title}: left out, {reason}.")
            continue
        try:
            section.figures.append((key, title, _plot(func, study)))
        except Exception as exc:  # e.g. fewer than two complete trials
            section.skipped.append(f"{title}: not available ({exc}).")
    return section


# Of the trial attributes, the ones that say what a trial was; hosts, pids and logs are noise here.
_ATTRS = (Attr.ARM, Attr.SEED)


def _best_columns(done: pd.DataFrame) -> list[str]:
    attrs = [f"user_attrs_{a}" for a in _ATTRS if f"user_attrs_{a}" in done]
    return ["number", "value", *attrs, *(c for c in done.columns if c.startswith("params_"))]


def _varying_params(frame: pd.DataFrame) -> list[str]:
    done = frame[frame["state"] == "COMPLETE"]
    return [c for c in frame.columns if c.startswith("params_") and done[c].nunique(dropna=True) > 1]


def _importance_degenerate(frame: pd.DataFrame) -> str:
    varying = _varying_params(frame)
    if len(varying) < 2:
        return (f"{len(varying)} searched parameter{'s' if len(varying) != 1 else ''} varied; importances are "
                "shares among parameters, so one parameter would always get 1.00")
    return ""


def _intermediate_degenerate(frame: pd.DataFrame) -> str:
    if not (frame["state"] == "PRUNED").any():
        return "no trial was pruned, so the pruning view shows nothing the convergence figures do not"
    return ""
