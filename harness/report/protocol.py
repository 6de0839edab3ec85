"""The protocol section of a tune-then-confirm sweep: how fair the tuning was, what was
chosen, and how many confirmation seeds each comparison used and why it stopped.

Everything comes from the confirmation study's user attributes, each written once by the
orchestrator (``harness.protocol.selection`` and ``harness.protocol.round.<k>``), found
through the sweep parent run's ``optuna.storage`` / ``optuna.study``. The comparison itself
is the ordinary report restricted to confirmation runs (:func:`confirmation_only`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from harness.contracts import ProtocolAttr, Tag
from harness.report.present import MISSING, num, signed
from harness.storage import normalize_url, open_storage, redact

if TYPE_CHECKING:
    from mlflow.entities import Run

__all__ = ["ProtocolSection", "protocol_section", "confirmation_only", "REASONS"]

REASONS = {
    "differs": "decided: the interval excludes 0",
    "equivalent": "equivalent: the interval's half-width fell below the margin",
    "max": "undecided at the maximum number of seeds",
    "continue": "not decided yet (a round is still running)",
}


@dataclass
class ProtocolSection:
    """Tables (display-ready strings), sentences, and each comparison's last decision."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)  # method -> last decision
    baseline: str | None = None


def is_protocol(parent: Run | None) -> bool:
    return parent is not None and Tag.PROTOCOL in parent.data.tags


def confirmation_only(runs: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The confirmation runs when any run carries a protocol stage, and how many were dropped."""
    if "stage" not in runs or not runs["stage"].notna().any():
        return runs, 0
    keep = runs["stage"] == "confirm"
    return runs[keep].reset_index(drop=True), int((~keep).sum())


def _fairness(selection: dict[str, dict[str, Any]], unit: str) -> pd.DataFrame:
    rows = []
    for arm, c in selection.items():
        params = ", ".join(f"{k.rsplit('.', 1)[-1]}={_value(v)}" for k, v in c["params"].items())
        rows.append({
            "Arm": arm, "Tuning trials (complete / pruned / ended)": f"{c['complete']} / {c['pruned']} / {c['trials']}",
            f"Tuning {unit}-hours": num(c["hours"], 3), "Epochs": str(c["epochs"]),
            "Search space": c["space"], "Configurations tried": str(c["configs"]),
            "Chosen parameters": params or "defaults (nothing to tune)",
            "Val NME % of the choice": num(c["val"]),
        })
    return pd.DataFrame(rows)


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _sequential(rounds: list[dict[str, Any]], baseline: str | None) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    last: dict[str, dict[str, Any]] = {}
    for r in rounds:
        for method, d in r["decisions"].items():
            last[method] = {**d, "round": r["index"], "baseline": r.get("baseline", baseline),
                            "margin": r.get("margin"), "alpha": r.get("alpha"), "method_name": r.get("method", "")}
    rows = []
    for method, d in last.items():
        low, high = d["low"], d["high"]
        rci = f"{signed(low)} to {signed(high)}" if math.isfinite(low) and math.isfinite(high) else MISSING
        rows.append({
            "Comparison": f"{method} vs {d['baseline']}", "Confirmation seeds": str(d["n"]),
            "Rounds": str(d["round"] + 1), "Stopped because": REASONS.get(d["state"], d["state"]),
            "Δ test NME, points": signed(d["mean"]), "95% repeated CI": rci,
            "Per-look level": f"{d['level']:.4f}",
            "Margin": MISSING if d["margin"] is None else num(d["margin"]),
        })
    return pd.DataFrame(rows), last


def protocol_section(parent: Run | None) -> ProtocolSection | None:
    """The section for a protocol sweep's parent run; None for any other sweep."""
    if parent is None or not is_protocol(parent):
        return None
    section = ProtocolSection(baseline=parent.data.params.get("baseline"))
    storage = parent.data.params.get(Tag.STORAGE) or parent.data.tags.get(Tag.STORAGE)
    name = parent.data.tags.get(Tag.STUDY)
    if not storage or not name or "***" in storage:
        section.notes.append("the parent run names no readable Optuna storage: selection and stopping "
                             "decisions not shown")
        return section
    import optuna

    try:
        study = optuna.load_study(study_name=name, storage=open_storage(normalize_url(storage, base=Path.cwd()),
                                                                          create=False))
    except Exception as exc:  # any storage failure only removes this section's tables
        section.notes.append(f"confirmation study {name!r} at {redact(storage)} could not be read: {exc}")
        return section
    attrs = study.user_attrs
    unit = "GPU" if parent.data.params.get("device") == "cuda" else "CPU"
    if ProtocolAttr.SELECTION in attrs:
        section.tables["protocol_fairness"] = _fairness(json.loads(attrs[ProtocolAttr.SELECTION]), unit)
    else:
        section.notes.append("no configuration selected yet: the tuning stage is not complete")
    rounds = sorted(({**json.loads(v), "index": int(k[len(ProtocolAttr.ROUND):])}
                     for k, v in attrs.items() if k.startswith(ProtocolAttr.ROUND)), key=lambda r: r["index"])
    if rounds:
        section.tables["protocol_sequential"], section.decisions = _sequential(rounds, section.baseline)
        section.notes.append(f"Stopping rule: {rounds[-1].get('method', '')}; alpha {rounds[-1].get('alpha')} for "
                             "each comparison over all its looks together. The repeated CI covers the true "
                             "difference with 95% probability whenever the seeds stopped; the Student-t "
                             "intervals of sections 1 and 2 are fixed-n intervals on the same runs and do "
                             "not account for the stopping.")
    return section
