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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.storage import normalize_url, open_storage, redact

__all__ = ["OptunaSection", "optuna_section"]


@dataclass
class OptunaSection:
    """What the report shows for a study: tables, (name, title, figure) triples and notes."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[tuple[str, str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)




def _lookup(run, key: str) -> str | None:
    return run.data.params.get(key) or run.data.tags.get(key)


def _plot(func, study) -> object:
    import matplotlib
    import matplotlib.pyplot as plt

    # rc_context undoes the global style Optuna sets (plt.style.use("ggplot")), which would
    # otherwise restyle every later figure of the report.
    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        ax = func(study)
    fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
    # Detach from pyplot's registry at once: the Figure stays savable, no global state leaks.
    plt.close(fig)
    return fig


def optuna_section(parent, top: int = 10) -> OptunaSection:
    """Read the study named on ``parent`` (an MLflow run, may be None) and summarise it."""
    section = OptunaSection()
    if parent is None:  # not a sweep: nothing to say
        return section
    storage, name = _lookup(parent, "optuna.storage"), _lookup(parent, "optuna.study")
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
        keep = ["number", "value"] + [c for c in done.columns if c.startswith(("params_", "user_attrs_"))]
        section.tables["optuna_best_trials"] = done.sort_values("value", ascending=ascending)[keep].head(top)
    for key, title, func in (
        ("optuna_importances", "Optuna parameter importances", ovm.plot_param_importances),
        ("optuna_intermediate", "Optuna intermediate values (pruning view)", ovm.plot_intermediate_values),
    ):
        try:
            section.figures.append((key, title, _plot(func, study)))
        except Exception as exc:  # e.g. fewer than two complete trials, no varying parameter
            section.notes.append(f"{title}: not available ({exc})")
    return section
