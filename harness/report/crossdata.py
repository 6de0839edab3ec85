"""The cross-data-set table: how each trained model scores on other sets (``harness evaluate``).

Reads the evaluation runs (``harness.kind=eval``) of the experiment, restricted to a sweep
when the report is, and keeps one score per training run and evaluated split (its latest
evaluation). Rows are (trained on, method), columns the evaluated ``<set>/<split>``; each
cell is the mean eval NME over seeds with the report's Student-t interval
(:func:`harness.report.intervals.mean_t`). Seeds, not images, are the replicates.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from mlflow import MlflowClient

from harness.contracts import Metric, Tag
from harness.report.intervals import mean_t
from harness.report.present import with_ci
from harness.report.render import Section

if TYPE_CHECKING:
    from harness.report.render import Report

__all__ = ["read_eval_runs", "crossdata_tables", "add_crossdata"]

_COLUMNS = ["run_id", "source_run_id", "trained_on", "method", "seed", "evaluated_on", "kind", "nme", "normalizer",
            "decoder", "checkpoint", "scheme_map", "start_time"]


def read_eval_runs(client: MlflowClient, experiment_id: str, sweep: str | None) -> pd.DataFrame:
    """One row per FINISHED evaluation run (NME in percent)."""
    filt = f"tags.`{Tag.KIND}` = 'eval' and attributes.status = 'FINISHED'"
    if sweep:
        filt += f" and tags.`{Tag.SWEEP}` = '{sweep}'"
    rows = []
    for run in client.search_runs([experiment_id], filt, max_results=5000):
        tags, params = run.data.tags, run.data.params
        rows.append({
            "run_id": run.info.run_id, "source_run_id": tags.get(Tag.SOURCE_RUN, run.info.run_id),
            "trained_on": tags.get(Tag.TRAINED_ON, "unknown"),
            "method": tags.get(Tag.ARM) or tags.get(Tag.METHOD) or params.get("method", "unknown"),
            "seed": tags.get(Tag.SEED), "evaluated_on": f"{tags.get(Tag.DATASET)}/{tags.get(Tag.EVAL_SPLIT)}",
            "kind": tags.get(Tag.DATASET_KIND), "nme": run.data.metrics.get(Metric.EVAL_NME, float("nan")),
            "normalizer": params.get("eval.normalizer"), "decoder": params.get("decoder"),
            "checkpoint": params.get("checkpoint_which"), "scheme_map": tags.get(Tag.SCHEME_MAP, "none"),
            "start_time": run.info.start_time or 0})
    return pd.DataFrame(rows, columns=_COLUMNS)


def crossdata_tables(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(long machine table with the intervals, wide display table: rows trained on / method)."""
    latest = runs.sort_values("start_time").groupby(["source_run_id", "evaluated_on"], as_index=False).last()
    rows = []
    for (trained_on, method, evaluated_on), group in latest.groupby(["trained_on", "method", "evaluated_on"]):
        ci = mean_t(group["nme"])
        rows.append({"trained_on": trained_on, "method": method, "evaluated_on": evaluated_on, "n_seeds": ci.n,
                     "nme": ci.value, "nme_ci_low": ci.low, "nme_ci_high": ci.high, "interval": ci.method,
                     "normalizer": ", ".join(sorted(set(group["normalizer"].dropna()))),
                     "decoder": ", ".join(sorted(set(group["decoder"].dropna()))),
                     "checkpoint": ", ".join(sorted(set(group["checkpoint"].dropna()))),
                     "scheme_map": ", ".join(sorted(set(group["scheme_map"].dropna())))})
    long = pd.DataFrame(rows)
    if long.empty:
        return long, long
    long["cell"] = [f"{with_ci(r.nme, r.nme_ci_low, r.nme_ci_high)} (n={r.n_seeds})" for r in long.itertuples()]
    wide = long.pivot(index=["trained_on", "method"], columns="evaluated_on", values="cell").reset_index()
    wide.columns.name = None
    wide = wide.rename(columns={"trained_on": "Trained on", "method": "Method"})
    return long.drop(columns="cell"), wide.fillna("–")


def add_crossdata(report: Report, client: MlflowClient, experiment_id: str, sweep: str | None) -> None:
    """Append the cross-data-set section to ``report`` when evaluation runs exist (else nothing)."""
    long, wide = crossdata_tables(read_eval_runs(client, experiment_id, sweep))
    if long.empty:
        return
    report.tables["crossdata"], report.tables["nme_across_data_sets"] = long, wide
    decoders = ", ".join(sorted(set(long["decoder"]))) or "unstated"
    text = [(f"Eval NME in percent of the {', '.join(sorted(set(long['normalizer']))) or 'unstated'} distance, "
             f"as each evaluated set defines it; decoders: {decoders}; checkpoints: "
             f"{', '.join(sorted(set(long['checkpoint'])))}. Mean over seeds (n = seeds, one evaluation per "
             "training run and set) with a 95% Student-t interval over seeds; a single seed has no interval. "
             "A 98-point model on a 68- or 29-point set is scored after mapping its points "
             "(harness.data.mapping). From `harness evaluate` runs (harness.kind=eval); "
             "tables/crossdata.csv keeps the numbers.")]
    report.sections.append(Section("Across data sets (harness evaluate)", text, ["nme_across_data_sets"]))
