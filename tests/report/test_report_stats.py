"""Pure statistics against values worked out by hand."""
import math

import numpy as np
import pytest

from harness.report import intervals, mixed, stats

T_975_DF2 = 4.302652729749464  # Student t, 97.5th percentile, 2 degrees of freedom


def test_mean_t_three_seeds():
    # mean 4.3, sd 0.2 -> half width 4.3027 * 0.2 / sqrt(3) = 0.49683
    ci = intervals.mean_t([4.1, 4.3, 4.5])
    assert (ci.value, ci.n, ci.df) == (pytest.approx(4.3), 3, 2)
    assert ci.low == pytest.approx(4.3 - 0.496827, abs=1e-5)
    assert ci.high == pytest.approx(4.3 + 0.496827, abs=1e-5)
    assert ci.method == "Student-t over seeds"


def test_mean_t_single_seed_has_no_interval():
    ci = intervals.mean_t([5.0, float("nan")])
    assert ci.value == 5.0 and ci.n == 1 and math.isnan(ci.low) and math.isnan(ci.high)


def test_paired_t():
    # -0.2, -0.25, -0.3: t = 0.25 / (0.05 / sqrt 3) = 8.660 on 2 df
    ci = intervals.paired_t([-0.2, -0.25, -0.3])
    assert (ci.low, ci.high) == (pytest.approx(-0.25 - T_975_DF2 * 0.05 / math.sqrt(3)),
                                 pytest.approx(-0.25 + T_975_DF2 * 0.05 / math.sqrt(3)))
    assert ci.p == pytest.approx(0.013072, abs=1e-6)
    same = intervals.paired_t([0.5, 0.5, 0.5])  # no spread: no doubt either
    assert (same.low, same.high, same.p) == (0.5, 0.5, 0.0)


def test_speedup_paired_is_the_geometric_mean_of_seed_ratios():
    same = intervals.speedup([4.0, 6.0], [2.0, 3.0], paired=True)
    assert (same.value, same.low, same.high) == (pytest.approx(2.0),) * 3
    r = intervals.speedup([8.0, 4.0], [2.0, 2.0], paired=True)  # ratios 4 and 2
    assert r.value == pytest.approx(math.sqrt(8.0)) and r.low < r.value < r.high
    assert math.isnan(intervals.speedup([4.0, 5.0], [2.0, float("nan")], paired=True).value)
    one = intervals.speedup([6.0], [3.0], paired=True)
    assert one.value == pytest.approx(2.0) and math.isnan(one.low)


def test_fieller_without_denominator_noise_is_a_t_interval_scaled():
    # den constant: (a +- t_1 * se_a) / b with a = 5, se_a = 1, b = 2, Welch df = 1
    r = intervals.speedup([4.0, 6.0], [2.0, 2.0], paired=False)
    t1 = 12.706204736174698
    assert (r.value, r.low, r.high, r.df) == (pytest.approx(2.5), pytest.approx((5 - t1) / 2),
                                             pytest.approx((5 + t1) / 2), pytest.approx(1.0))
    assert r.method.startswith("Fieller")


def test_fieller_is_unbounded_when_the_denominator_may_be_zero():
    r = intervals.fieller([10.0, 11.0, 12.0], [0.5, -0.4, 1.0])
    assert r.low == -math.inf and r.high == math.inf and not r.bounded


def test_mixed_model_by_hand():
    # seed effect only (+-1 around 0.5, images identical): MS_seed = 2 * 2 / 1 = 4, MS_image = MS_resid = 0
    # -> Var(mean) = 4 / 4 = 1, df = 4^2 / (4^2 / 1) = 1: the interval is the seed-level t on 2 seeds
    fit = mixed.crossed_mixed(np.array([[1.5, 1.5], [-0.5, -0.5]]))
    assert (fit.interval.value, fit.interval.df) == (pytest.approx(0.5), pytest.approx(1.0))
    assert fit.interval.high == pytest.approx(0.5 + 12.706204736174698)
    assert (fit.share_seed, fit.share_image, fit.share_resid) == (1.0, 0.0, 0.0)
    assert math.isnan(mixed.crossed_mixed(np.ones((1, 5))).interval.low)  # one seed: no interval


def test_wilcoxon_exact_small_samples():
    # n = 3, all the same sign: two-sided exact p = 2 * (1/8)
    assert stats.wilcoxon_p([-0.2, -0.25, -0.3]) == pytest.approx(0.25)
    # n = 4, ranks of |d| 0.2,0.5,1,2 -> 1..4; W+ = 1; P(W+ <= 1) = 2/16 -> p = 0.25
    assert stats.wilcoxon_p([-1.0, -0.5, -2.0, 0.2]) == pytest.approx(0.25)
    assert math.isnan(stats.wilcoxon_p([0.0, 0.0]))


def test_steps_to_target_interpolates_the_first_crossing():
    # between epoch 4 (5.0) and 5 (4.0): 4 + (5 - 4.41) / (5 - 4) = 4.59
    assert stats.steps_to_target([1, 2, 3, 4, 5], [10, 8, 6, 5, 4], 4.41) == pytest.approx(4.59)
    # re-crossing ignored: 1 + (6 - 5) / (6 - 4) = 1.5, although epoch 3 is above again
    assert stats.steps_to_target([1, 2, 3, 4], [6, 4, 7, 3], 5) == pytest.approx(1.5)
    assert stats.steps_to_target([1, 2], [3, 2], 5) == 1.0  # already below at the first epoch
    assert math.isnan(stats.steps_to_target([1, 2], [9, 8], 5))
    # seconds are just another x: 10 s per epoch scales the answer
    assert stats.steps_to_target([10, 20, 30], [9, 7, 3], 5) == pytest.approx(25.0)


def test_resolve_target():
    value, rule = stats.resolve_target("baseline-final-5pct", 4.2)
    assert value == pytest.approx(4.41) and "baseline" in rule
    assert stats.resolve_target("6", 4.2)[0] == 6.0
    with pytest.raises(ValueError, match="--target"):
        stats.resolve_target("fast", 4.2)


def test_auc_is_the_exact_step_integral():
    # CED of NMEs 1,2,3,4 up to 4: steps at 1,2,3 -> area 0.25 + 0.5 + 0.75 = 1.5, / 4
    assert stats.auc([1.0, 2.0, 3.0, 4.0], threshold=4.0) == pytest.approx(1.5 / 4)
    assert stats.auc([5.0, 6.0], threshold=4.0) == 0.0
