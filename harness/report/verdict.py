"""One sentence per method against the baseline: what was found and what the design cannot decide.

Read first, in ten seconds: the direction, the size with its interval and test, the seed
count, the speed-up with its interval, the evaluation it holds for (normaliser, decoder),
and the limits of the design (the exact-test floor, the smallest detectable difference).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.report.present import num, pvalue, ratio, signed

__all__ = ["Verdict", "verdicts"]


@dataclass(frozen=True)
class Verdict:
    """``lead`` ("structured vs star on synth-wflw") is shown in bold before ``text``."""

    dataset: str
    method: str
    lead: str
    text: str

    def plain(self) -> str:
        return f"{self.lead}: {self.text}"


def _both(own: pd.Series, base: pd.Series, column: str) -> str:
    """One value when both arms agree, else ``method's vs baseline's`` (a difference to notice)."""
    a, b = own[column] or "unstated", base[column] or "unstated"
    return a if a == b else f"{a} vs {b}"


def _evaluation(own: pd.Series, base: pd.Series) -> str:
    normaliser, decoder = _both(own, base, "normalizer"), _both(own, base, "decoder")
    seeds = (f"{int(own['n_seeds'])} seeds each" if own["n_seeds"] == base["n_seeds"]
             else f"{int(own['n_seeds'])} vs {int(base['n_seeds'])} seeds")
    return f"test NME in % of the {normaliser} distance, {decoder} decoder{'s' if ' vs ' in decoder else ''}, {seeds}"


def _direction(row: pd.Series) -> str:
    if row["n_pairs"] < 2 or not math.isfinite(row["nme_diff_ci_low"]):
        return "no interval possible"
    if row["nme_diff_ci_high"] < 0:
        return f"lower error by {num(-row['nme_diff'])} points"
    if row["nme_diff_ci_low"] > 0:
        return f"higher error by {num(row['nme_diff'])} points"
    return "no difference these seeds can resolve"


def _difference(row: pd.Series, own: pd.Series, base: pd.Series) -> str:
    n = int(row["n_pairs"])
    if n == 0:
        return "no seed was run by both methods, so no paired comparison"
    core = f"{num(own['nme'])}% vs {num(base['nme'])}% (difference {signed(row['nme_diff'])}"
    if n < 2:
        return core + " from 1 paired seed: no interval, no test)"
    return (f"{core}, 95% CI {signed(row['nme_diff_ci_low'])} to {signed(row['nme_diff_ci_high'])}, "
            f"Student-t on {n} paired seeds; paired t-test p = {pvalue(row['t_p'])})")


def _speed(conv: pd.Series | None) -> str:
    if conv is None or not math.isfinite(conv["speedup_epochs"]):
        why = conv["note"] if conv is not None and conv["note"] else "no time to target"
        return f"speed-up not measurable ({why})"
    low, high = conv["speedup_epochs_ci_low"], conv["speedup_epochs_ci_high"]
    if math.isfinite(low) and math.isfinite(high):
        ci = f"95% CI {ratio(low)} to {ratio(high)}, {conv['speedup_epochs_method']}"
    elif math.isnan(low):
        ci = "no interval with 1 seed"
    else:
        ci = f"95% CI unbounded, {conv['speedup_epochs_method']}"
    return f"reaches {num(conv['target_nme'])}% val NME {ratio(conv['speedup_epochs'])} as fast in epochs ({ci})"


def _limits(row: pd.Series) -> str:
    n = int(row["n_pairs"])
    if n < 2:
        return "one seed cannot separate a method from seed luck"
    parts = [f"an exact Wilcoxon or sign-flip test of {n} pairs cannot go below p = {pvalue(row['exact_p_floor'])}"]
    if math.isfinite(row["detectable_diff"]):
        parts.append(f"a true difference under {num(row['detectable_diff'])} points would be missed more than 20% "
                     f"of the time (80% power at the observed seed spread, sd {num(row['sd_diff'])})")
    return f"Not decidable with {n} seeds: " + "; ".join(parts)


def _sequential(decision: Mapping[str, Any] | None) -> str:
    """The confirmation stage's own decision: it, not the fixed-n interval, accounts for the stopping."""
    if decision is None:
        return ""
    why = {"differs": "the sign is decided", "equivalent": "equivalent within the margin",
           "max": "undecided at the maximum seed count", "continue": "not decided yet"}
    low, high = decision["low"], decision["high"]
    ci = (f"95% repeated CI {signed(low)} to {signed(high)}" if math.isfinite(low) and math.isfinite(high)
          else "no interval yet")
    return (f" Sequential confirmation on fresh seeds: {why.get(decision['state'], decision['state'])} after "
            f"{int(decision['n'])} seeds ({ci}, group-sequential t, valid under the stopping rule).")


def verdicts(summary: pd.DataFrame, paired: pd.DataFrame, convergence: pd.DataFrame,
             sequential: Mapping[str, Mapping[str, Any]] | None = None) -> list[Verdict]:
    """A verdict per (data set, non-baseline method), in table order.

    ``sequential``: a protocol's last stopping decision per method (harness.report.protocol).
    """
    out = []
    by_arm = summary.set_index(["dataset", "method"])
    conv = convergence.set_index(["dataset", "method"]) if not convergence.empty else None
    for _, row in paired.iterrows():
        own, base = by_arm.loc[(row["dataset"], row["method"])], by_arm.loc[(row["dataset"], row["baseline"])]
        key = (row["dataset"], row["method"])
        speed = conv.loc[key] if conv is not None and key in conv.index else None
        lead = f"{row['method']} vs {row['baseline']} on {row['dataset']}"
        text = (f"{_direction(row)}, {_difference(row, own, base)}; {_speed(speed)}. {_limits(row)}."
                + _sequential((sequential or {}).get(row["method"])))
        lead = f"{lead} ({_evaluation(own, base)})"
        out.append(Verdict(row["dataset"], row["method"], lead, text))
    return out
