"""Analysis tables -> the report's sections, sentences and figures (no I/O).

The sentences say how each number was computed (interval method and unit, crossing rule,
target rule), because a reviewer reads the report without the code. A section that would
be empty or degenerate is left out with one line saying why.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from harness.contracts import Metric
from harness.report import design, stats
from harness.report import figures as fg
from harness.report.mixed import METHOD as MIXED_METHOD
from harness.report.render import Report, Section
from harness.report.verdict import verdicts
from harness.storage import redact

if TYPE_CHECKING:  # generate imports this module
    from matplotlib.figure import Figure
    from mlflow.entities import Run

    from harness.report.generate import Analysis, ReportRequest
    from harness.report.optuna_section import OptunaSection
    from harness.report.protocol import ProtocolSection

__all__ = ["build_report"]


def _threshold_percent(usable: pd.DataFrame) -> float:
    # eval.threshold is logged as a fraction (0.1); a value above 1 is taken as percent already.
    values = pd.to_numeric(usable["eval.threshold"], errors="coerce").dropna()
    t = float(values.iloc[0]) if len(values) else 0.10
    return t * 100.0 if t <= 1 else t


def _joined(group: pd.DataFrame, col: str, default: str = "unstated") -> str:
    """The distinct non-empty values of ``col`` in ``group``, sorted and comma-joined."""
    vals = sorted({v for v in group[col] if v})
    return ", ".join(vals) if vals else default


def _evaluation_lines(summary: pd.DataFrame) -> list[str]:
    lines = []
    for dataset, g in summary.groupby("dataset", sort=True):
        thr = pd.to_numeric(pd.Series(_joined(g, "threshold", "").split(",")), errors="coerce").dropna()
        at = (f"{100 * thr.iloc[0]:g}%" if len(thr) and thr.iloc[0] <= 1
              else (f"{thr.iloc[0]:g}%" if len(thr) else "unstated"))
        flip = {"True": "on", "False": "off"}.get(_joined(g, "flip_test"), _joined(g, "flip_test"))
        decoder = _joined(g, "decoder")
        lines.append(f"{dataset}: NME in percent of the {_joined(g, 'normalizer')} distance; "
                     f"{decoder} decoder{'s' if ',' in decoder else ''}; "
                     f"FR and AUC at a {at} threshold; flip test {flip}.")
    return lines


def _own_end_point_lines(conv: pd.DataFrame, baseline: str) -> list[str]:
    return [f"{row.dataset}/{row.method}: the paper's own-end-point reading (each run against 1.05 x its "
            f"own final val NME) would say {row.speedup_own_5pct_misleading:.2f}x; it is not a speed-up "
            "to a common level and is not used."
            for row in conv[conv["method"] != baseline].itertuples(index=False)
            if np.isfinite(row.speedup_own_5pct_misleading)]


def _figures(analysis: Analysis) -> tuple[dict[str, tuple[str, Figure]], dict[str, list[str]]]:
    recs, usable, tabs = analysis.records, analysis.usable, analysis.tables
    colors = fg.colors_for(usable["label"])
    figs: dict[str, tuple[str, Figure]] = {}
    names: dict[str, list[str]] = {"convergence": [], "errors": []}
    images = recs.images.merge(usable[["run_id", "dataset", "label"]], on="run_id")
    marks = recs.landmarks.merge(usable[["run_id", "dataset", "label"]], on="run_id")
    for dataset, runs in usable.groupby("dataset", sort=True):
        target = float(analysis.per_run.loc[analysis.per_run["dataset"] == dataset, "target"].iloc[0])
        timed = recs.history.loc[recs.history["run_id"].isin(runs["run_id"]), "key"].eq(Metric.ELAPSED_SECONDS).any()
        x_axes = (("step", "epoch", "epoch"), (Metric.ELAPSED_SECONDS, "seconds", "seconds"))
        for x_key, tag, unit in x_axes[:1 + timed]:
            name = f"convergence_{tag}_{dataset}"
            figs[name] = (f"{dataset}: val NME vs {unit}, mean over seeds, band = seed min-max",
                          fg.convergence_figure(recs.history, runs, x_key, target, colors,
                                                f"{dataset}: val NME vs {unit}"))
            names["convergence"].append(name)
        sub_images = images[images["dataset"] == dataset]
        if not sub_images.empty:
            thr = _threshold_percent(runs)
            figs[f"ced_{dataset}"] = (f"{dataset}: cumulative error distribution, images pooled over seeds",
                                      fg.ced_figure(sub_images, thr, colors, f"{dataset}: CED up to {thr:g}%"))
            names["errors"].append(f"ced_{dataset}")
        if dataset in recs.mean_faces and not marks[marks["dataset"] == dataset].empty:
            figs[f"landmarks_{dataset}"] = (f"{dataset}: per-landmark mean error on the mean face",
                                            fg.landmark_figure(marks[marks["dataset"] == dataset],
                                                               recs.mean_faces[dataset],
                                                               f"{dataset}: per-landmark error"))
            names["errors"].append(f"landmarks_{dataset}")
    subsets = tabs["wflw_subsets"]
    for dataset, rows in (subsets.groupby("dataset") if not subsets.empty else []):
        figs[f"subsets_{dataset}"] = (f"{dataset}: WFLW test subsets",
                                      fg.subset_figure(rows, colors, f"{dataset}: NME per WFLW subset"))
        names["errors"].append(f"subsets_{dataset}")
    return figs, names


def _study_section(study: OptunaSection, tabs: dict[str, pd.DataFrame], figs: dict[str, tuple[str, Figure]],
                   sections: list[Section], parent: Run | None) -> None:
    if not (study.tables or study.figures or study.skipped or parent is not None):
        return
    tabs.update(study.tables)
    figs.update({k: (t, f) for k, t, f in study.figures})
    sections.append(Section("5. Optuna search", study.notes, list(study.tables),
                            [k for k, _, _ in study.figures], study.skipped))


def _methods_text(base: str, n_max: int) -> list[str]:
    return [
        (f"Paired by seed: difference = method - {base} in test NME points (negative: the method is better), "
         "one difference per seed run by both; 95% Student-t interval and paired t-test on those differences, "
         "for this test set. The exact Wilcoxon signed-rank p is shown with the lowest value it can take with "
         f"that many pairs ({design.exact_p_floor(n_max):.3g} with {n_max}). Detectable difference: the true "
         "difference a paired t-test at alpha 0.05 finds with 80% power, given the observed seed spread."),
        (f"Image level ({MIXED_METHOD}): unit = one test image under one seed; per image and seed the NME "
         f"difference, modelled with random seed, image and residual effects. Its interval is for new seeds "
         "and new test images alike; the variance column says which source dominates the uncertainty. Images "
         "are never treated as independent replicates of a method."),
    ]


def _protocol_section(protocol: ProtocolSection, tabs: dict[str, pd.DataFrame]) -> Section:
    tabs.update(protocol.tables)
    return Section("Protocol: equal tuning, selection on validation, fresh-seed confirmation", [
        ("Tuning: every arm got the same budget (trials, epochs, pruner, sampler and its seed) over its own "
         "search space, objective val NME; an arm without a search space trained its defaults. Selection: "
         "each arm's configuration with the best mean val NME over its tuning trials, chosen before any "
         "confirmation run and without reading a test metric. Confirmation: the chosen configurations "
         "re-trained on seeds no tuning trial used; sections 1 to 4 and the verdict read these runs only."),
        *protocol.notes], list(protocol.tables))


def build_report(analysis: Analysis, study: OptunaSection, request: ReportRequest,
                 links: list[str] | None = None, protocol: ProtocolSection | None = None) -> Report:
    """Assemble the Report (verdict, sections, tables, figures) from an Analysis and a study section."""
    tabs, base = dict(analysis.tables), analysis.baseline
    figs, names = _figures(analysis)
    n_seeds = analysis.usable.groupby(["dataset", "label"])["seed"].nunique()
    n_max = int(tabs["paired_seeds"]["n_pairs"].max()) if not tabs["paired_seeds"].empty else int(n_seeds.max())
    intro = [f"MLflow {redact(request.tracking_uri)}, experiment {request.experiment!r}"
             + (f", sweep {request.sweep!r}" if request.sweep else "")
             + f": {len(analysis.records.runs)} training runs read, {len(analysis.usable)} compared, "
             f"{len(tabs['excluded_runs'])} excluded. Baseline: {base}.",
             f"Regenerate with: {request.command}" if request.command else "",
             *analysis.notes]
    summary = tabs["summary"]
    paired_skip = [] if not tabs["paired_images"].empty else [
        "Image-level comparison left out: no compared run logged predictions/test_predictions.npz."]
    subset_skip = [] if not tabs["wflw_subsets"].empty else [
        "WFLW-subset table left out: no compared run logged test/nme_<subset> (only WFLW-scheme sets have subsets)."]
    sections = [
        Section("Headline", [
            (f"Test NME in percent, mean over seeds with a 95% Student-t interval; difference with {base} in NME "
             "points (negative = better), Student-t on per-seed differences, with the paired t-test p; speed-up in "
             f"epochs to the target val NME (above 1 = faster than {base}), 95% interval as named in section 3.")],
            ["headline"]),
        Section("1. Test metrics per data set", [
            *_evaluation_lines(summary),
            "Test NME: mean over seeds with a 95% Student-t interval; FR, AUC, best (lowest val NME) epoch: "
            "means over seeds." + (f" Groups with one seed: {stats.NO_CI_NOTE}." if (n_seeds == 1).any() else "")],
            ["summary"] + (["published"] if not tabs["published"].empty else []), skipped=analysis.published_notes),
        Section("2. Paired comparison with the baseline", _methods_text(base, n_max),
                ["paired_seeds"] + (["paired_images"] if not tabs["paired_images"].empty else []), skipped=paired_skip),
        Section("3. Convergence", [
            (f"Target: {analysis.target_rule} (per data set). A fixed level for every method: measuring each method "
             "against its own end point rewards a method that plateaus early (method.md section 6)."),
            (f"Epochs and seconds to target: {stats.CROSSING_RULE}; means with 95% Student-t intervals. Speed-up = "
             f"{base} time / method time. Same seeds on both sides: geometric mean of per-seed ratios, 95% Student-t "
             "interval on their logs; otherwise ratio of mean times with Fieller's interval (Welch df). A seed that "
             "never reached the target leaves no ratio. The paper claims 2.2x."),
            *_own_end_point_lines(tabs["convergence"], base)],
            ["convergence", "convergence_per_seed"], names["convergence"]),
        Section("4. Error distribution", [
            ("CED: share of test images with NME at or below x; per-landmark error: mean over images and seeds "
             "of the point error divided by the image's normaliser.")],
            ["wflw_subsets"] if not tabs["wflw_subsets"].empty else [], names["errors"], subset_skip),
    ]
    if protocol is not None:
        sections.insert(1, _protocol_section(protocol, tabs))
    _study_section(study, tabs, figs, sections, analysis.records.parent)
    env = tabs["environment"]
    env_warn = [f"WARNING: runs differ in {k}" for k in env.query("n_distinct > 1")["key"]] if not env.empty else []
    sections.append(Section("6. Excluded runs and environment", [
        ("Runs not compared (pruned, failed or missing metrics) with the reason recorded; environment of the "
         "compared runs, from their git tags and provenance artifacts."), *env_warn],
        [n for n in ("excluded_runs", "environment") if not tabs[n].empty],
        skipped=[line for n, line in (("excluded_runs", "No run was excluded."),
                                      ("environment", "No environment recorded on the compared runs."))
                 if tabs[n].empty]))
    found = verdicts(summary, tabs["paired_seeds"], tabs["convergence"],
                     protocol.decisions if protocol is not None else None)
    notes = ([] if found else [f"Only the baseline {base} was run: nothing to compare it with."]) + list(links or [])
    return Report(f"Objective comparison: {request.sweep or request.experiment}", [p for p in intro if p],
                  sections, tabs, figs, found, notes, summary["dataset"].nunique() == 1)
