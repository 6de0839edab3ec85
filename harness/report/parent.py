"""The report's result on the sweep's parent run: per-arm summary metrics and the verdict.

MLflow's runs table shows a sweep as one collapsed parent row; with these metrics (one
column per arm: mean test NME, its 95% interval, seed count) and the verdict as the run's
description (``mlflow.note.content``) that row tells the result without opening anything.
Metric names allow letters, digits and ``_-. /:`` only, so no "%" or brackets: the unit is
in the description.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterable

import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric as MlflowMetric

from harness.contracts import Tag
from harness.report.verdict import Verdict

__all__ = ["summary_metrics", "summarise_on_parent"]

_UNSAFE = re.compile(r"[^\w\-. /:]")


def _name(*parts: str) -> str:
    return " ".join(_UNSAFE.sub("-", str(p)) for p in parts if p)


def summary_metrics(summary: pd.DataFrame) -> dict[str, float]:
    """``{"structured test NME mean": 3.9, ...}``; the data set leads the name only when several."""
    several = summary["dataset"].nunique() > 1
    out = {}
    for row in summary.itertuples(index=False):
        arm = _name(row.dataset if several else "", row.method)
        values = {"test NME mean": row.nme, "test NME low95": row.nme_ci_low, "test NME high95": row.nme_ci_high,
                  "seeds": row.n_seeds}
        # Three decimals of an NME percent: MLflow's tables show every digit it is given.
        out.update({f"{arm} {what}": round(float(v), 3) for what, v in values.items() if pd.notna(v)})
    return out


def _description(verdicts: Iterable[Verdict]) -> str:
    lines = [("**Verdict** (from `harness report generate`; NME in percent, differences in NME points, "
              "95% intervals)"), ""]
    lines += [f"- **{v.lead}**: {v.text}" for v in verdicts] or ["- only the baseline was run"]
    lines += ["", "Full report: artifact `report/index.html` of this run."]
    return "\n".join(lines)


def summarise_on_parent(
    client: MlflowClient, run_id: str, summary: pd.DataFrame, verdicts: Iterable[Verdict],
) -> dict[str, float]:
    """Log the summary metrics and set the verdict as the description of run ``run_id``."""
    metrics = summary_metrics(summary)
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[MlflowMetric(k, v, now, 0) for k, v in metrics.items()])
    client.set_tag(run_id, Tag.NOTE, _description(verdicts))
    return metrics
