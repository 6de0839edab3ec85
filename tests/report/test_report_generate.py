"""End to end: real MLflow store -> `harness report generate` -> CSV numbers checked by hand.

Hand computations (inputs in conftest.py):
- target = 1.05 x mean star final val NME = 1.05 x (4.0 + 4.2 + 4.4) / 3 = 4.41
- star epochs to 4.41: 4 + 0.59/1 = 4.59; 4 + 0.59/0.8 = 4.7375; 4 + 1.09/1.1 = 4.990909
- structured:          2 + 0.59/0.7 = 2.842857; 2 + 0.09/0.3 = 2.3; 1 + 1.59/2 = 1.795
- speed-up (epochs) = 14.318409 / 6.937857 = 2.063809; seconds: x 10/11 (11 s vs 10 s per epoch)
- own-end-point reading: star 4.8, 4.7375, 4.8; structured 3.683333, 4.05, 2.1 -> 1.458051
"""
import math

import pandas as pd
import pytest
from mlflow import MlflowClient

from harness.cli.main import main

T = 4.302652729749464 / math.sqrt(3)  # t_{2, 0.975} / sqrt(n) for three seeds


def _csv(report, name):
    return pd.read_csv(report["out"] / "tables" / f"{name}.csv")


def _row(frame, **where):
    sel = frame
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, where
    return sel.iloc[0]


def test_report_files(sweep_report):
    assert sweep_report["rc"] == 0
    out = sweep_report["out"]
    assert (out / "index.html").is_file() and (out / "report.md").is_file()
    for fig in ("convergence_epoch_synth-wflw", "convergence_seconds_synth-wflw", "ced_synth-wflw",
                "landmarks_synth-wflw", "subsets_synth-wflw", "optuna_importances", "optuna_intermediate"):
        assert (out / "figures" / f"{fig}.png").stat().st_size > 1000, fig
        assert (out / "figures" / f"{fig}.svg").is_file(), fig
    page = (out / "index.html").read_text()
    assert page.count('src="data:image/png;base64,') == 7 and 'src="figures/' not in page


def test_summary_means_and_t_intervals(sweep_report):
    summary = _csv(sweep_report, "summary")
    star = _row(summary, method="star", source="measured")
    assert (star["n_seeds"], star["nme"], star["fr"], star["auc"], star["best_epoch"]) == (
        3, pytest.approx(4.3), pytest.approx(3.0), pytest.approx(0.6), pytest.approx(5.0))
    assert (star["nme_ci_low"], star["nme_ci_high"]) == (pytest.approx(4.3 - T * 0.2), pytest.approx(4.3 + T * 0.2))
    ours = _row(summary, method="structured", source="measured")
    assert (ours["nme"], ours["nme_ci_high"]) == (pytest.approx(4.05), pytest.approx(4.05 + T * 0.15))
    published = _row(summary, method="STAR", nme=4.02)
    assert published["source"].startswith("published") and published["normalizer"] == "inter-ocular"
    assert "synthetic" in published["note"]


def test_paired_differences(sweep_report):
    seeds = _row(_csv(sweep_report, "paired_seeds"), method="structured")
    # 3.9-4.1, 4.05-4.3, 4.2-4.5 = -0.2, -0.25, -0.3 (see test_stats for the CI and p reasoning)
    assert (seeds["baseline"], seeds["n_pairs"], seeds["nme_diff"]) == ("star", 3, pytest.approx(-0.25))
    assert (seeds["nme_diff_ci_low"], seeds["nme_diff_ci_high"]) == (pytest.approx(-0.3), pytest.approx(-0.2))
    assert seeds["wilcoxon_p"] == pytest.approx(0.25)
    images = _row(_csv(sweep_report, "paired_images"), method="structured")
    # per image (percent): 3-4, 4.5-5, 4-6, 7.2-7 = -1, -0.5, -2, +0.2
    assert (images["n_images"], images["nme_diff"], images["wilcoxon_p"]) == (
        4, pytest.approx(-0.825), pytest.approx(0.25))
    assert -2.0 <= images["nme_diff_ci_low"] < -0.825 < images["nme_diff_ci_high"] <= 0.2


def test_convergence_to_a_fixed_target(sweep_report):
    per_seed = _csv(sweep_report, "convergence_per_seed").sort_values(["method", "seed"])
    assert per_seed["target"].tolist() == pytest.approx([4.41] * 6)
    assert per_seed["epochs_to_target"].tolist() == pytest.approx(
        [4.59, 4.7375, 4.990909, 2.842857, 2.3, 1.795], abs=1e-6)
    assert per_seed["seconds_to_target"].tolist() == pytest.approx(
        [45.9, 47.375, 49.90909, 31.27143, 25.3, 19.745], abs=1e-4)
    conv = _row(_csv(sweep_report, "convergence"), method="structured")
    star = 4.59 + 4.7375 + (4 + 1.09 / 1.1)
    ours = (2 + 0.59 / 0.7) + 2.3 + 1.795
    assert conv["epochs_to_target"] == pytest.approx(ours / 3)
    assert conv["speedup_epochs"] == pytest.approx(star / ours)  # 2.0638
    assert conv["speedup_seconds"] == pytest.approx(star / ours * 10 / 11)
    assert conv["speedup_epochs_ci_low"] < conv["speedup_epochs"] < conv["speedup_epochs_ci_high"]
    # each run against 1.05 x its own final val NME (shown only for contrast)
    own_star = (4 + 0.8 / 1) + (4 + 0.59 / 0.8) + (4 + 0.88 / 1.1)
    own_ours = (3 + 0.205 / 0.3) + (4 + 0.01 / 0.2) + (2 + 0.01 / 0.1)
    assert conv["speedup_own_5pct_misleading"] == pytest.approx(own_star / own_ours)  # 1.458
    assert "baseline" in conv["target_rule"]


def test_headline_joins_the_three_comparisons(sweep_report):
    head = _csv(sweep_report, "headline").set_index("method")
    assert list(head.index) == ["star", "structured"]
    ours = head.loc["structured"]
    assert (ours["nme"], ours["nme_diff"], ours["wilcoxon_p"]) == (
        pytest.approx(4.05), pytest.approx(-0.25), pytest.approx(0.25))
    assert ours["speedup_epochs"] == pytest.approx((4.59 + 4.7375 + 4 + 1.09 / 1.1) / (2 + 0.59 / 0.7 + 2.3 + 1.795))
    assert math.isnan(head.loc["star", "nme_diff"])  # the baseline has no difference with itself


def test_failed_runs_environment_and_optuna(sweep_report, store):
    excluded = _csv(sweep_report, "excluded_runs")
    assert sorted(excluded["why"]) == ["pruned (TrialPruned: trial 7 pruned at epoch 2)",
                                       "status FAILED (diverged: NaN loss at epoch 2)"]
    md = (sweep_report["out"] / "report.md").read_text()
    assert "WARNING: runs differ in harness.hw.cpu" in md
    assert "structured vs star, speed-up to 4.41% val NME: 2.06x in epochs (95% bootstrap CI" in md
    assert "structured - star = -0.250 NME points (95% CI -0.300 to -0.200), Wilcoxon p = 0.25" in md
    best = _csv(sweep_report, "optuna_best_trials")
    assert (best.iloc[0]["number"], best.iloc[0]["value"]) == (0, pytest.approx(7.4))  # 10 - 3 - 100 * 0.001 + 0.5
    states = _csv(sweep_report, "optuna_trial_states").set_index("state")["trials"]
    assert states.to_dict() == {"COMPLETE": 4, "PRUNED": 1}
    logged = MlflowClient(tracking_uri=store["uri"]).list_artifacts(store["parent"], "report")
    assert "report/index.html" in {a.path for a in logged}


def test_single_seed_says_no_ci(store, tmp_path):
    out = tmp_path / "single"
    rc = main(["report", "generate", "--experiment", "single", "--tracking-uri", store["uri"], "--out", str(out)])
    assert rc == 0
    summary = pd.read_csv(out / "tables" / "summary.csv")
    star = _row(summary, method="star", source="measured")
    assert star["note"] == "no CI possible (1 seed)" and math.isnan(star["nme_ci_low"])
    assert "no CI possible (1 seed)" in (out / "report.md").read_text()
    conv = _row(pd.read_csv(out / "tables" / "convergence.csv"), method="structured")
    # target 1.05 x 4.0 = 4.2: star 4 + 0.8/1 = 4.8; structured 3 + 0.1/0.3 = 3.3333
    assert conv["target_nme"] == pytest.approx(4.2)
    assert conv["speedup_epochs"] == pytest.approx(4.8 / (10 / 3), abs=1e-6)
    assert math.isnan(conv["speedup_epochs_ci_low"])


@pytest.mark.parametrize("args, message", [
    (["--experiment", "no-such-experiment"], "experiment 'no-such-experiment' does not exist"),
    (["--experiment", "nometrics"], "none of the 3 training runs has the needed metrics (no test/nme metric)"),
    (["--experiment", "single", "--target", "fast"], "--target must be an NME percent"),
    (["--experiment", "single", "--baseline", "dsnt"], "baseline 'dsnt' matches no arm/method"),
    (["--sweep", "/nonexistent/spec.yaml"], "spec.yaml"),
])
def test_bad_input_exits_2_with_one_line(store, tmp_path, capsys, args, message):
    rc = main(["report", "generate", "--tracking-uri", store["uri"], "--out", str(tmp_path / "r"), *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and "\n" not in err


def test_default_store_missing_is_reported_not_created(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc = main(["report", "generate", "--experiment", "harness"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == "harness report: no MLflow store at mlruns.db (tracking URI sqlite:///mlruns.db)"
    assert not (tmp_path / "mlruns.db").exists()


def test_help_has_a_copy_paste_example(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["report", "generate", "--help"])
    assert stop.value.code == 0 and "harness report generate --sweep sweeps/demo.yaml" in capsys.readouterr().out

