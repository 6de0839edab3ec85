"""records -> frames -> tables and figures -> files: the whole of `harness report generate`.

:func:`generate_report` is a pure function of the MLflow records (plus the Optuna study the
sweep's parent run points to). Its only side effects are the files under ``out`` and,
when a sweep parent run exists, logging that directory as the parent's ``report`` artifact.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from harness.report import records as rec
from harness.report import sections, stats, tables
from harness.report.crossdata import add_crossdata
from harness.report.optuna_section import OptunaSection, optuna_section
from harness.report.parent import summarise_on_parent
from harness.report.protocol import confirmation_only, protocol_section
from harness.report.published import published_for
from harness.report.render import write_report
from harness.tracking.links import experiment_url, run_url, ui_command

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

__all__ = ["ReportRequest", "ReportResult", "Analysis", "analyse", "generate_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportRequest:
    """What to report on and where to write it.

    Attributes:
        tracking_uri: MLflow tracking URI (``sqlite:///...`` or a server).
        experiment: MLflow experiment name.
        out: output directory (created).
        sweep: restrict to runs tagged ``harness.sweep=<sweep>`` and use its parent run.
        baseline: the arm or method to compare against; None picks STAR, then soft-argmax...
        target: NME percent, or ``"baseline-final-5pct"`` (the default).
        log_to_parent: log the report directory on the sweep's parent run.
        command: the command line that regenerates the report (shown in it).
    """

    tracking_uri: str
    experiment: str
    out: Path
    sweep: str | None = None
    baseline: str | None = None
    target: str = "baseline-final-5pct"
    log_to_parent: bool = True
    command: str = ""


@dataclass
class Analysis:
    """Every table of the report plus what the figures need."""

    records: rec.Records
    usable: pd.DataFrame
    per_run: pd.DataFrame
    baseline: str
    target_rule: str
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    published_notes: list[str] = field(default_factory=list)


@dataclass
class ReportResult:
    """Where the report went: its directory, files, the parent run it was logged on, the verdict."""

    out: Path
    files: list[Path]
    logged_to: str | None
    notes: list[str]
    verdict: list[str] = field(default_factory=list)
    mlflow_url: str = ""


def _targets(frame: pd.DataFrame, baseline: str, spec: str) -> tuple[dict[str, float], str, list[str]]:
    targets, rule, notes = {}, "", []
    for dataset, group in frame.groupby("dataset", sort=True):
        base = group.loc[group["label"] == baseline, "final_val_nme"]
        targets[dataset], rule = stats.resolve_target(spec, base.mean() if len(base) else np.nan)
        if not np.isfinite(targets[dataset]):
            notes.append(f"{dataset}: baseline {baseline!r} has no runs, so no target")
    return targets, rule, notes


def _fingerprint_table(fingerprints: pd.DataFrame, run_ids: Iterable[str]) -> pd.DataFrame:
    if fingerprints.empty or "run_id" not in fingerprints:
        return pd.DataFrame(columns=["key", "n_distinct", "values"])
    used = fingerprints[fingerprints["run_id"].isin(run_ids)].drop(columns="run_id")
    rows = [{"key": c, "n_distinct": used[c].nunique(),
             "values": ", ".join(sorted(map(str, used[c].dropna().unique())))}
            for c in sorted(used.columns)]
    return pd.DataFrame(rows, columns=["key", "n_distinct", "values"])


def analyse(records: rec.Records, baseline: str | None, target: str) -> Analysis:
    """Compute every table from the records.

    Raises:
        RecordsError: no run has the metrics the comparison needs.
        ValueError: the baseline or target cannot be resolved.
    """
    # A tune-then-confirm sweep is compared on its confirmation runs alone: a tuned
    # winner's own trials would carry the winner's curse into the verdict.
    runs, tuning = confirmation_only(records.runs)
    usable, excluded = tables.split_usable(runs, records.history)
    if usable.empty:
        reasons = "; ".join(sorted(set(excluded["why"])))
        raise rec.RecordsError(f"none of the {len(excluded)} training runs has the needed metrics ({reasons})")
    usable, notes = tables.select_configs(usable, records.history)
    if tuning:
        notes.insert(0, f"tune-then-confirm: {tuning} tuning runs are left out; every table and the verdict "
                        "use the confirmation runs (fresh seeds) only")
    base = tables.pick_baseline(usable, baseline)
    per = tables.per_run(usable, records.history)
    targets, rule, target_notes = _targets(per, base, target)
    per = tables.add_targets(per, records.history, targets)
    published, published_notes = published_for(usable)
    out = {
        "summary": tables.summary_table(usable, per),
        "published": published,
        "paired_seeds": tables.paired_table(usable, base),
        "paired_images": tables.per_image_table(usable, records.images, base),
        "convergence": tables.convergence_table(per, base, rule),
        "convergence_per_seed": per.drop(columns="run_id").rename(columns={"label": "method"}),
        "wflw_subsets": tables.subset_table(usable),
        "excluded_runs": excluded,
        "environment": _fingerprint_table(records.fingerprints, usable["run_id"]),
    }
    out["headline"] = tables.headline_table(out["summary"], out["paired_seeds"], out["convergence"])
    return Analysis(records, usable, per, base, rule, out, notes + target_notes, published_notes)


def _single_sweep_parent(client: MlflowClient, experiment: str, usable: pd.DataFrame) -> Run | None:
    sweeps = set(usable["sweep"].dropna())
    if len(sweeps) != 1:
        return None
    return rec.find_sweep_parent(client, rec.find_experiment(client, experiment).experiment_id, sweeps.pop())


def _links(request: ReportRequest, experiment_id: str, parent: Run | None) -> tuple[str, list[str]]:
    url = experiment_url(request.tracking_uri, experiment_id)
    command = ui_command(request.tracking_uri)
    start = f" (start the UI first: {command})" if command else ""
    lines = [f"MLflow runs table: {url}{start}"]
    # MLflow's runs table shows no metric column until one is picked; the parent run's page
    # shows the verdict (its description) and the per-arm metrics at once.
    if parent is not None and request.log_to_parent:
        lines.append(f"Sweep result in MLflow (verdict, per-arm NME): "
                     f"{run_url(request.tracking_uri, experiment_id, parent.info.run_id)}")
    return url, lines


def generate_report(request: ReportRequest) -> ReportResult:
    """Read the records, write the report, and log it on the sweep's parent run (if any).

    On the parent run the report also leaves per-arm summary metrics and the verdict as the
    run's description, so the collapsed sweep row in MLflow tells the result.
    """
    client = rec.open_client(request.tracking_uri)
    records = rec.load_records(client, request.experiment, request.sweep)
    protocol = protocol_section(records.parent)
    baseline = request.baseline or (protocol.baseline if protocol is not None else None)
    analysis = analyse(records, baseline, request.target)
    parent = records.parent or _single_sweep_parent(client, request.experiment, analysis.usable)
    study = optuna_section(parent) if protocol is None else OptunaSection(notes=[
        "Optuna search section left out: the protocol section shows each arm's tuning and choice"])
    if parent is None and request.sweep:
        study.notes.append(f"no parent run (harness.kind=sweep) for sweep {request.sweep!r}: no Optuna section")
    url, links = _links(request, records.experiment_id, parent)
    report = sections.build_report(analysis, study, request, links, protocol)
    add_crossdata(report, client, records.experiment_id, request.sweep)  # harness evaluate's runs, if any
    files = write_report(report, request.out)
    logged_to = None
    if parent is not None and request.log_to_parent:
        client.log_artifacts(parent.info.run_id, str(request.out), artifact_path="report")
        summarise_on_parent(client, parent.info.run_id, analysis.tables["summary"], report.verdict)
        logged_to = parent.info.run_id
    log.info("report written to %s (%d files)", request.out, len(files))
    return ReportResult(Path(request.out), files, logged_to, analysis.notes + study.notes,
                        [v.plain() for v in report.verdict] + report.verdict_notes, url)
