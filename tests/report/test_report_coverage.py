"""Every interval the report prints covers a known truth >= 93% of the time at 3, 5 and 10 seeds.

Each test simulates data with a known truth, computes the interval exactly as the report
does, and counts how often it contains the truth. 2,000 replicates: the Monte-Carlo standard
error of a 95% coverage is 0.5 points, so an honest interval fails the 93% bar with
probability below 1e-4, while a percentile bootstrap (75 to 91%) or a normal-quantile
interval at 3 seeds (about 80%) fails it for sure.
"""
import numpy as np
import pytest

from harness.report import design, intervals, mixed

REPLICATES = 2000
SEEDS = (3, 5, 10)
BAR = 0.93


def _covers(interval, truth: float) -> bool:
    return interval.low <= truth <= interval.high


def coverage_mean(n: int, rng) -> float:
    # test NME of one arm: 4.3% with a seed sd of 0.2 points
    draws = rng.normal(4.3, 0.2, (REPLICATES, n))
    return np.mean([_covers(intervals.mean_t(x), 4.3) for x in draws])


def coverage_paired(n: int, rng) -> float:
    # per-seed paired differences: true -0.25 points; a shared seed effect cancels in the pair
    shared = rng.normal(0, 0.5, (REPLICATES, n))
    method = 4.05 + shared + rng.normal(0, 0.1, (REPLICATES, n))
    base = 4.30 + shared + rng.normal(0, 0.1, (REPLICATES, n))
    return np.mean([_covers(intervals.paired_t(m - b), -0.25) for m, b in zip(method, base, strict=True)])


def coverage_speedup_paired(n: int, rng) -> float:
    # epochs to target, log-normal, seed effect shared; true geometric-mean speed-up 2.0
    shared = rng.normal(0, 0.2, (REPLICATES, n))
    base = np.exp(np.log(10.0) + shared + rng.normal(0, 0.15, (REPLICATES, n)))
    own = np.exp(np.log(5.0) + shared + rng.normal(0, 0.15, (REPLICATES, n)))
    return np.mean([_covers(intervals.speedup(b, m, paired=True), 2.0) for b, m in zip(base, own, strict=True)])


def coverage_speedup_unpaired(n: int, rng) -> float:
    # independent seeds: ratio of mean epochs 10 / 5 = 2.0 (coefficients of variation 20%, 30%)
    base = rng.normal(10.0, 2.0, (REPLICATES, n))
    own = rng.normal(5.0, 1.5, (REPLICATES, n))
    return np.mean([_covers(intervals.speedup(b, m, paired=False), 2.0) for b, m in zip(base, own, strict=True)])


# (seed sd, image sd, residual sd) of per-image, per-seed differences; 40 test images.
MIXED_SCENARIOS = {"seed-dominated": (1.0, 0.3, 0.5), "image-dominated": (0.1, 1.5, 1.0),
                   "residual-dominated": (0.05, 0.05, 2.0), "skewed images": (0.5, None, 1.0)}


def coverage_mixed(n: int, rng, scenario: str = "seed-dominated", images: int = 40) -> float:
    su, sv, se = MIXED_SCENARIOS[scenario]
    # per-image differences are skewed in practice (a few hard faces): centred exponential
    image = (rng.exponential(1.0, (REPLICATES, 1, images)) - 1.0 if sv is None
             else rng.normal(0, sv, (REPLICATES, 1, images)))
    d = -0.3 + rng.normal(0, su, (REPLICATES, n, 1)) + image + rng.normal(0, se, (REPLICATES, n, images))
    grand, half, _, _, _ = mixed.interval_arrays(d)
    return float(np.mean(np.abs(grand + 0.3) <= half))


KINDS = {"mean over seeds (t)": coverage_mean, "paired difference (t)": coverage_paired,
         "speed-up paired (t on log ratios)": coverage_speedup_paired,
         "speed-up unpaired (Fieller)": coverage_speedup_unpaired,
         "image level (crossed mixed model)": coverage_mixed}


@pytest.mark.parametrize("n", SEEDS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_interval_coverage(kind, n):
    rng = np.random.default_rng([n, list(KINDS).index(kind)])
    assert KINDS[kind](n, rng) >= BAR


@pytest.mark.parametrize("n", SEEDS)
@pytest.mark.parametrize("scenario", list(MIXED_SCENARIOS))
def test_mixed_model_coverage_across_variance_mixes(scenario, n):
    rng = np.random.default_rng([n, list(MIXED_SCENARIOS).index(scenario), 7])
    assert coverage_mixed(n, rng, scenario) >= BAR


def test_mixed_function_matches_the_vectorised_core():
    rng = np.random.default_rng(3)
    d = rng.normal(0, 1, (3, 40)) + rng.normal(0, 1, (3, 1))
    fit = mixed.crossed_mixed(d)
    grand, half, df, _, _ = mixed.interval_arrays(d)
    expected = tuple(map(float, (grand - half, grand + half, df)))
    assert (fit.interval.low, fit.interval.high, fit.interval.df) == pytest.approx(expected)
    assert fit.share_seed + fit.share_image + fit.share_resid == pytest.approx(1.0)


@pytest.mark.parametrize("n", SEEDS)
def test_detectable_difference_has_its_power(n):
    # a true difference equal to the detectable one is found by the paired t-test 80% of the time
    sd = 0.4
    delta = design.detectable_difference(sd, n)
    rng = np.random.default_rng(n)
    found = np.mean([intervals.paired_t(x).p < 0.05 for x in rng.normal(delta, sd, (REPLICATES, n))])
    assert found == pytest.approx(0.80, abs=0.035)


def test_exact_p_floor():
    assert [design.exact_p_floor(n) for n in (3, 5, 10)] == pytest.approx([0.25, 0.0625, 2 / 1024])
