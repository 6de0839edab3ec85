"""Pure statistics against values worked out by hand."""
import math

import numpy as np
import pytest

from harness.report import stats

T_975_DF2 = 4.302652729749464  # Student t, 97.5th percentile, 2 degrees of freedom


def test_mean_ci_three_seeds():
    # mean 4.3, sd 0.2 -> half width 4.3027 * 0.2 / sqrt(3) = 0.49683
    ci = stats.mean_ci([4.1, 4.3, 4.5])
    assert (ci.value, ci.n) == (pytest.approx(4.3), 3)
    assert ci.low == pytest.approx(4.3 - 0.496827, abs=1e-5)
    assert ci.high == pytest.approx(4.3 + 0.496827, abs=1e-5)
    assert ci.high - ci.value == pytest.approx(T_975_DF2 * 0.2 / math.sqrt(3))


def test_mean_ci_single_seed_has_no_interval():
    ci = stats.mean_ci([5.0, float("nan")])
    assert ci.value == 5.0 and ci.n == 1 and math.isnan(ci.low) and math.isnan(ci.high)


def test_bootstrap_ci_small_samples_hit_the_extremes():
    # Drawing all three values equal to the minimum has probability 1/27 = 3.7% > 2.5%, so the
    # 2.5% quantile of the resampled means is the minimum itself (and likewise the maximum).
    ci = stats.bootstrap_ci([-0.2, -0.25, -0.3])
    assert ci.value == pytest.approx(-0.25)
    assert (ci.low, ci.high) == (pytest.approx(-0.3), pytest.approx(-0.2))
    two = stats.bootstrap_ci([1.0, 3.0])  # P(both = 1) = 1/4
    assert (two.low, two.high) == (1.0, 3.0)
    assert math.isnan(stats.bootstrap_ci([1.0]).low)


def test_bootstrap_ci_is_reproducible():
    values = np.arange(20.0) ** 1.5
    assert stats.bootstrap_ci(values) == stats.bootstrap_ci(values)


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


def test_ratio_ci():
    same = stats.ratio_ci([4.0, 4.0], [2.0, 2.0], paired=True)
    assert (same.value, same.low, same.high) == (2.0, 2.0, 2.0)
    r = stats.ratio_ci([4.59, 4.7375, 4.990909], [2.842857, 2.3, 1.795], paired=True)
    assert r.value == pytest.approx(14.318409 / 6.937857, rel=1e-6)
    assert r.low < r.value < r.high
    assert math.isnan(stats.ratio_ci([4.0, 5.0], [2.0, float("nan")], paired=True).value)
    one = stats.ratio_ci([6.0], [3.0], paired=True)
    assert one.value == 2.0 and math.isnan(one.low)


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
