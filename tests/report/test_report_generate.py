"""End to end: real MLflow store -> `harness report generate` -> CSV numbers checked by hand.

Hand computations (inputs in conftest.py):
- target = 1.05 x mean star final val NME = 1.05 x (4.0 + 4.2 + 4.4) / 3 = 4.41
- star epochs to 4.41: 4 + 0.59/1 = 4.59; 4 + 0.59/0.8 = 4.7375; 4 + 1.09/1.1 = 4.990909
- structured:          2 + 0.59/0.7 = 2.842857; 2 + 0.09/0.3 = 2.3; 1 + 1.59/2 = 1.795
- speed-up (epochs), paired seeds: geometric mean of the per-seed ratios 4.59/2.842857,
  4.7375/2.3, 4.990909/1.795; seconds: x 10/11 (11 s vs 10 s per epoch)
- own-end-point reading: star 4.8, 4.7375, 4.8; structured 3.683333, 4.05, 2.1
- per-image differences (percent), the same under every seed: 3-4, 4.5-5, 4-6, 7.2-7 =
  -1, -0.5, -2, +0.2; mean -0.825, squared deviations sum 2.5675
"""
import math

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from harness.cli.main import main
from harness.contracts import Tag

T2 = 4.302652729749464  # Student t, 97.5th percentile, 2 df
T3 = 3.182446305284263  # 3 df
T = T2 / math.sqrt(3)  # t_{2, 0.975} / sqrt(n) for three seeds
STAR_EPOCHS = np.array([4.59, 4.7375, 4 + 1.09 / 1.1])
OURS_EPOCHS = np.array([2 + 0.59 / 0.7, 2.3, 1.795])
LOG_RATIOS = np.log(STAR_EPOCHS / OURS_EPOCHS)


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
        assert (out / "figures" / f"{fig}.pdf").read_bytes()[:5] == b"%PDF-", fig
    page = (out / "index.html").read_text()
    assert page.count('src="data:image/png;base64,') == 7 and 'src="figures/' not in page
    # the verdict comes before every section
    assert page.index('id="verdict"') < page.index("<h2>Headline</h2>")
    assert "<NA>" not in page and "nan" not in page.replace("nanc", "")


def test_latex_tables_are_booktabs(sweep_report):
    for name in ("headline", "summary"):
        tex = (sweep_report["out"] / "tables" / f"{name}.tex").read_text()
        assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex, name
        assert "%" not in tex.replace(r"\%", "").split("\n", 1)[1], name  # every percent sign escaped
    head = (sweep_report["out"] / "tables" / "headline.tex").read_text()
    assert r"structured & 3 & 4.05 (3.68 to 4.42) & $-$0.25 ($-$0.37 to $-$0.13)" in head


def test_summary_means_and_t_intervals(sweep_report):
    summary = _csv(sweep_report, "summary")
    star = _row(summary, method="star")
    assert (star["n_seeds"], star["nme"], star["fr"], star["auc"], star["best_epoch"]) == (
        3, pytest.approx(4.3), pytest.approx(3.0), pytest.approx(0.6), pytest.approx(5.0))
    assert (star["nme_ci_low"], star["nme_ci_high"]) == (pytest.approx(4.3 - T * 0.2), pytest.approx(4.3 + T * 0.2))
    ours = _row(summary, method="structured")
    assert (ours["nme"], ours["nme_ci_high"]) == (pytest.approx(4.05), pytest.approx(4.05 + T * 0.15))
    # published WFLW numbers are never put beside a synthetic set, and the report says why
    assert _csv(sweep_report, "published").empty
    md = (sweep_report["out"] / "report.md").read_text()
    assert "not shown beside synth-wflw, which is synthetic" in md


def test_paired_differences(sweep_report):
    seeds = _row(_csv(sweep_report, "paired_seeds"), method="structured")
    # 3.9-4.1, 4.05-4.3, 4.2-4.5 = -0.2, -0.25, -0.3: mean -0.25, sd 0.05
    assert (seeds["baseline"], seeds["n_pairs"], seeds["nme_diff"]) == ("star", 3, pytest.approx(-0.25))
    assert (seeds["nme_diff_ci_low"], seeds["nme_diff_ci_high"]) == (
        pytest.approx(-0.25 - T * 0.05), pytest.approx(-0.25 + T * 0.05))
    # t = 0.25 / (0.05 / sqrt 3) = 8.66 on 2 df; exact Wilcoxon: all signs alike = its floor 2/8
    assert seeds["t_p"] == pytest.approx(0.013072, abs=1e-6)
    assert seeds["wilcoxon_p"] == pytest.approx(0.25) and seeds["exact_p_floor"] == pytest.approx(0.25)
    # 80% power with 3 pairs needs a true effect of 3.264 sd (noncentral t): 3.264 x 0.05
    assert seeds["detectable_diff"] == pytest.approx(0.1632, abs=1e-4)
    images = _row(_csv(sweep_report, "paired_images"), method="structured")
    # Identical under every seed: MS_seed = MS_resid = 0, MS_image = 3 x 2.5675 / 3 = 2.5675,
    # Var(mean) = 2.5675 / 12, df = I - 1 = 3; all the variance comes from the images.
    half = T3 * math.sqrt(2.5675 / 12)
    assert (images["n_seeds"], images["n_images"], images["nme_diff"], images["df"]) == (
        3, 4, pytest.approx(-0.825), pytest.approx(3.0))
    assert (images["nme_diff_ci_low"], images["nme_diff_ci_high"]) == (
        pytest.approx(-0.825 - half), pytest.approx(-0.825 + half))
    assert [images["share_seed"], images["share_image"], images["share_resid"]] == pytest.approx([0, 1, 0])
    assert "crossed seeds × images mixed model" in images["ci_method"]


def test_convergence_to_a_fixed_target(sweep_report):
    per_seed = _csv(sweep_report, "convergence_per_seed").sort_values(["method", "seed"])
    assert per_seed["target"].tolist() == pytest.approx([4.41] * 6)
    assert per_seed["epochs_to_target"].tolist() == pytest.approx(
        [4.59, 4.7375, 4.990909, 2.842857, 2.3, 1.795], abs=1e-6)
    assert per_seed["seconds_to_target"].tolist() == pytest.approx(
        [45.9, 47.375, 49.90909, 31.27143, 25.3, 19.745], abs=1e-4)
    conv = _row(_csv(sweep_report, "convergence"), method="structured")
    assert conv["epochs_to_target"] == pytest.approx(OURS_EPOCHS.mean())
    # paired seeds: geometric mean of the per-seed ratios, t interval on their logs
    half = T * LOG_RATIOS.std(ddof=1)
    assert conv["speedup_epochs"] == pytest.approx(math.exp(LOG_RATIOS.mean()))  # 2.0989
    assert (conv["speedup_epochs_ci_low"], conv["speedup_epochs_ci_high"]) == (
        pytest.approx(math.exp(LOG_RATIOS.mean() - half)), pytest.approx(math.exp(LOG_RATIOS.mean() + half)))
    assert conv["speedup_seconds"] == pytest.approx(math.exp(LOG_RATIOS.mean()) * 10 / 11)
    assert conv["speedup_epochs_method"] == "Student-t on per-seed log ratios, geometric mean"
    # each run against 1.05 x its own final val NME (shown only for contrast)
    own_star = np.array([4 + 0.8 / 1, 4 + 0.59 / 0.8, 4 + 0.88 / 1.1])
    own_ours = np.array([3 + 0.205 / 0.3, 4 + 0.01 / 0.2, 2 + 0.01 / 0.1])
    assert conv["speedup_own_5pct_misleading"] == pytest.approx(math.exp(np.log(own_star / own_ours).mean()))
    base = _row(_csv(sweep_report, "convergence"), method="star")
    assert bool(base["is_baseline"]) and math.isnan(base["speedup_epochs"])  # no ratio with itself
    assert "baseline" in conv["target_rule"]


def test_headline_joins_the_three_comparisons(sweep_report):
    head = _csv(sweep_report, "headline").set_index("method")
    assert list(head.index) == ["star", "structured"]
    ours = head.loc["structured"]
    assert (ours["nme"], ours["nme_diff"], ours["t_p"]) == (
        pytest.approx(4.05), pytest.approx(-0.25), pytest.approx(0.013072, abs=1e-6))
    assert ours["speedup_epochs"] == pytest.approx(math.exp(LOG_RATIOS.mean()))
    assert math.isnan(head.loc["star", "nme_diff"])  # the baseline has no difference with itself


def test_failed_runs_environment_and_optuna(sweep_report, store):
    excluded = _csv(sweep_report, "excluded_runs")
    assert sorted(excluded["why"]) == ["pruned (TrialPruned: trial 7 pruned at epoch 2)",
                                       "status FAILED (diverged: NaN loss at epoch 2)"]
    md = (sweep_report["out"] / "report.md").read_text()
    # hardware comes from the provenance/hardware.json artifacts (seed 2 ran on another CPU)
    assert "WARNING: runs differ in hardware cpu" in md
    best = _csv(sweep_report, "optuna_best_trials")
    assert (best.iloc[0]["number"], best.iloc[0]["value"]) == (0, pytest.approx(7.4))  # 10 - 3 - 100 * 0.001 + 0.5
    states = _csv(sweep_report, "optuna_trial_states").set_index("state")["trials"]
    assert states.to_dict() == {"COMPLETE": 4, "PRUNED": 1}
    logged = MlflowClient(tracking_uri=store["uri"]).list_artifacts(store["parent"], "report")
    assert "report/index.html" in {a.path for a in logged}


def test_verdict_sentence(sweep_report):
    verdict = (sweep_report["out"] / "verdict.txt").read_text()
    assert verdict.startswith("structured vs star on synth-wflw (test NME in % of the inter-ocular distance, "
                              "argmax decoder, 3 seeds each): lower error by 0.25 points, 4.05% vs 4.30% "
                              "(difference −0.25, 95% CI −0.37 to −0.13, Student-t on 3 paired seeds; "
                              "paired t-test p = 0.013); reaches 4.41% val NME 2.10× as fast in epochs (95% CI ")
    assert "an exact Wilcoxon or sign-flip test of 3 pairs cannot go below p = 0.25" in verdict
    assert "a true difference under 0.16 points" in verdict
    assert "- **structured vs star on synth-wflw" in (sweep_report["out"] / "report.md").read_text()
    # the last lines say where to look in MLflow: the runs table, and the parent run with the result
    assert verdict.splitlines()[-2].startswith("MLflow runs table: http://127.0.0.1:5000/#/experiments/")
    assert verdict.splitlines()[-1].endswith(f"/runs/{sweep_report['parent']}?workflowType=machine_learning")


def test_parent_run_tells_the_result(sweep_report, store):
    parent = MlflowClient(tracking_uri=store["uri"]).get_run(store["parent"])
    metrics = parent.data.metrics
    assert (metrics["structured test NME mean"], metrics["structured seeds"]) == (pytest.approx(4.05), 3)
    assert (metrics["star test NME low95"], metrics["star test NME high95"]) == (
        round(4.3 - T * 0.2, 3), round(4.3 + T * 0.2, 3))
    note = parent.data.tags[Tag.NOTE]
    assert note.startswith("**Verdict**") and "structured vs star on synth-wflw" in note


def test_single_seed_says_no_ci(store, tmp_path):
    out = tmp_path / "single"
    rc = main(["report", "generate", "--experiment", "single", "--tracking-uri", store["uri"], "--out", str(out)])
    assert rc == 0
    summary = pd.read_csv(out / "tables" / "summary.csv")
    star = _row(summary, method="star")
    assert star["note"] == "no CI possible (1 seed)" and math.isnan(star["nme_ci_low"])
    assert "no CI possible (1 seed)" in (out / "report.md").read_text()
    conv = _row(pd.read_csv(out / "tables" / "convergence.csv"), method="structured")
    # target 1.05 x 4.0 = 4.2: star 4 + 0.8/1 = 4.8; structured 3 + 0.1/0.3 = 3.3333
    assert conv["target_nme"] == pytest.approx(4.2)
    assert conv["speedup_epochs"] == pytest.approx(4.8 / (10 / 3), abs=1e-6)
    assert math.isnan(conv["speedup_epochs_ci_low"])
    verdict = (out / "verdict.txt").read_text()
    assert "from 1 paired seed: no interval, no test" in verdict and "no interval with 1 seed" in verdict


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

