"""Analysis tables -> the report's sections, sentences and figures (no I/O).

The sentences say how each number was computed (interval type, crossing rule, target
rule), because a reviewer reads the report without the code.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report import figures as fg
from harness.report import stats
from harness.storage import redact
from harness.report.published import published_frame
from harness.report.render import Report, Section

__all__ = ["summary_with_published", "build_report"]


def summary_with_published(summary: pd.DataFrame, usable: pd.DataFrame) -> pd.DataFrame:
    """Append, per data set, the published rows of its landmark scheme, labelled as such."""
    parts = [summary]
    for dataset, group in usable.groupby("dataset", sort=True):
        scheme = group["scheme"].dropna().iloc[0] if group["scheme"].notna().any() else None
        pub = published_frame(scheme) if scheme else published_frame().iloc[:0]
        if pub.empty:
            continue
        kind = group["dataset_kind"].dropna().iloc[0] if group["dataset_kind"].notna().any() else ""
        parts.append(pd.DataFrame({
            "dataset": dataset, "method": pub["method"],
            "source": "published: " + pub["source"] + " (" + pub["scheme"].str.upper() + " " + pub["split"] + ")",
            "nme": pub["nme"], "fr": pub["fr"], "auc": pub["auc"], "normalizer": pub["normalizer"],
            "threshold": pub["threshold"].map(lambda t: "" if np.isnan(t) else f"{t:g}"),
            "note": "real benchmark; not comparable to a synthetic set" if kind == "synthetic" else "",
        }))
    out = pd.concat(parts, ignore_index=True)
    out["n_seeds"] = out["n_seeds"].astype("Int64")  # published rows have none; keep counts integral
    return out


def _threshold_percent(usable: pd.DataFrame) -> float:
    # eval.threshold is logged as a fraction (0.1); a value above 1 is taken as percent already.
    values = pd.to_numeric(usable["eval.threshold"], errors="coerce").dropna()
    t = float(values.iloc[0]) if len(values) else 0.10
    return t * 100.0 if t <= 1 else t


def _paired_sentences(paired: pd.DataFrame) -> list[str]:
    out = []
    for row in paired.itertuples(index=False):
        if row.n_pairs == 0:
            continue
        ci = ("" if np.isnan(row.nme_diff_ci_low)
              else f" (95% CI {row.nme_diff_ci_low:+.3f} to {row.nme_diff_ci_high:+.3f})")
        out.append(f"{row.dataset}: {row.method} - {row.baseline} = {row.nme_diff:+.3f} NME points{ci}, "
                   f"Wilcoxon p = {row.wilcoxon_p:.3g}, {row.n_pairs} paired seeds.")
    return out


def _speedup_sentences(conv: pd.DataFrame, baseline: str) -> list[str]:
    out = []
    for row in conv[conv["method"] != baseline].itertuples(index=False):
        if np.isnan(row.speedup_epochs):
            out.append(f"{row.dataset}/{row.method}: no speed-up ratio ({row.note}).")
            continue
        ci = ("" if np.isnan(row.speedup_epochs_ci_low)
              else f" (95% bootstrap CI {row.speedup_epochs_ci_low:.2f}-{row.speedup_epochs_ci_high:.2f})")
        secs = "" if np.isnan(row.speedup_seconds) else f", {row.speedup_seconds:.2f}x in training seconds"
        out.append(f"{row.dataset}/{row.method} vs {baseline}, speed-up to {row.target_nme:.3g}% val NME: "
                   f"{row.speedup_epochs:.2f}x in epochs{ci}{secs} (above 1 = faster than {baseline}). "
                   f"[The paper's own-end-point reading would say {row.speedup_own_5pct_misleading:.2f}x.]")
    return out


def _figures(analysis) -> tuple[dict, dict[str, list[str]]]:
    recs, usable, tabs = analysis.records, analysis.usable, analysis.tables
    colors = fg.colors_for(usable["label"])
    figs, names = {}, {"convergence": [], "errors": []}
    images = recs.images.merge(usable[["run_id", "dataset", "label"]], on="run_id")
    marks = recs.landmarks.merge(usable[["run_id", "dataset", "label"]], on="run_id")
    for dataset, runs in usable.groupby("dataset", sort=True):
        target = float(analysis.per_run.loc[analysis.per_run["dataset"] == dataset, "target"].iloc[0])
        timed = recs.history.loc[recs.history["run_id"].isin(runs["run_id"]), "key"].eq("time/elapsed_seconds").any()
        for x_key, tag, unit in (("step", "epoch", "epoch"), ("time/elapsed_seconds", "seconds", "seconds"))[:1 + timed]:
            name = f"convergence_{tag}_{dataset}"
            figs[name] = (f"{dataset}: val NME vs {unit}, mean over seeds, band = seed min-max",
                          fg.convergence_figure(recs.history, runs, x_key, target, colors, f"{dataset}: val NME vs {unit}"))
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
                                                               recs.mean_faces[dataset], f"{dataset}: per-landmark error"))
            names["errors"].append(f"landmarks_{dataset}")
    subsets = tabs["wflw_subsets"]
    for dataset, rows in (subsets.groupby("dataset") if not subsets.empty else []):
        figs[f"subsets_{dataset}"] = (f"{dataset}: WFLW test subsets",
                                      fg.subset_figure(rows, colors, f"{dataset}: NME per WFLW subset"))
        names["errors"].append(f"subsets_{dataset}")
    return figs, names


def build_report(analysis, study, request) -> Report:
    """Assemble the Report (sections, tables, figures) from an Analysis and an Optuna section."""
    tabs, base = dict(analysis.tables), analysis.baseline
    figs, names = _figures(analysis)
    n_seeds = analysis.usable.groupby(["dataset", "label"])["seed"].nunique()
    intro = [f"MLflow {redact(request.tracking_uri)}, experiment {request.experiment!r}"
             + (f", sweep {request.sweep!r}" if request.sweep else "")
             + f": {len(analysis.records.runs)} training runs read, {len(analysis.usable)} compared, "
             f"{len(tabs['excluded_runs'])} excluded. Baseline: {base}.",
             f"Regenerate with: {request.command}" if request.command else "",
             *analysis.notes]
    p_floor = 2.0 / 2 ** int(n_seeds.max())
    sections = [
        Section("Headline", [
            f"Test NME (percent, mean and 95% t-CI over seeds), its paired difference with {base} "
            "(negative = better) and the convergence speed-up to the target below (above 1 = faster). "
            "Sections 1 to 3 say how each number is computed."], ["headline"]),
        Section("1. Summary per data set", [
            "Test NME in percent: mean over seeds with a 95% Student-t interval; FR, AUC and best "
            "(lowest val NME) epoch are means over seeds. Published rows are quoted from the papers "
            "with their normaliser; they are not re-measured." +
            (f" Groups with one seed: {stats.NO_CI_NOTE}." if (n_seeds == 1).any() else "")],
            ["summary"]),
        Section("2. Paired comparison with the baseline", [
            f"Difference = method - {base} in test NME (negative: the method is better), paired by seed; "
            f"95% percentile bootstrap over pairs ({stats.N_BOOTSTRAP} resamples, seed {stats.BOOTSTRAP_SEED}); "
            f"two-sided Wilcoxon signed-rank p-value. With {int(n_seeds.max())} seeds the smallest "
            f"attainable exact p is {p_floor:.3g}.",
            "Per-image test (when predictions were logged): per test image, the seed-mean NME difference; "
            "bootstrap and Wilcoxon over images.", *_paired_sentences(tabs["paired_seeds"])],
            ["paired_seeds", "paired_images"]),
        Section("3. Convergence", [
            f"Target: {analysis.target_rule} (per data set, column target_nme). It is a fixed level for every "
            "method: measuring each method against its own end point rewards a method that plateaus early "
            "(method.md section 6), so that reading is shown only for contrast, in the misleading column.",
            f"Epochs and seconds to target: {stats.CROSSING_RULE}. Speed-up = mean baseline / mean method, "
            "95% bootstrap over seeds (paired when the seeds match). The paper claims 2.2x.",
            *_speedup_sentences(tabs["convergence"], base)],
            ["convergence", "convergence_per_seed"], names["convergence"]),
        Section("4. Error distribution", [
            "CED: share of test images with NME at or below x; per-landmark error: mean over images and seeds "
            "of the point error divided by the image's normaliser."], ["wflw_subsets"], names["errors"]),
    ]
    if study.tables or study.figures or analysis.records.parent is not None:
        tabs.update(study.tables)
        figs.update({k: (t, f) for k, t, f in study.figures})
        sections.append(Section("5. Optuna search", study.notes, list(study.tables), [k for k, _, _ in study.figures]))
    env_warn = [f"WARNING: runs differ in {k}" for k in tabs["environment"].query("n_distinct > 1")["key"]]
    sections.append(Section("6. Excluded runs and environment", [
        "Runs not compared (pruned, failed or missing metrics) with the reason recorded; environment tags "
        "of the compared runs.", *env_warn], ["excluded_runs", "environment"]))
    return Report(f"Objective comparison: {request.sweep or request.experiment}",
                  [p for p in intro if p], sections, tabs, figs)
