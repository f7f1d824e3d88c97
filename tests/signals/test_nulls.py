"""Null laws against scipy's distributions and brute-force permutation loops on seeded data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from signals import metrics as m
from signals.nulls import SEQUENTIAL_STOP_P, MomentNull, effective_size, nwd_null, permuted_counts, table_nulls


def test_scaled_chi2_is_exactly_scipys_chi2() -> None:
    null = MomentNull.scaled_chi2(7, 0.25, power=1, method="x")
    for v in (0.5, 2.0, 5.0):
        assert null.pvalue(v) == pytest.approx(stats.chi2.sf(v / 0.25, 7), rel=1e-9)
    assert null.quantile(0.99) == pytest.approx(0.25 * stats.chi2.ppf(0.99, 7), rel=1e-9)


def test_closed_form_jsd_and_psi_nulls_when_no_cell_is_sparse() -> None:
    ref, prod = np.array([4000, 3000, 2000, 1000]), np.array([400, 300, 200, 100])
    nulls = table_nulls(ref, prod)
    n_e = effective_size(10_000, 1_000)
    assert nulls["jensen_shannon_distance"].method == "chi2_asymptotic"
    assert nulls["jensen_shannon_distance"].quantile(0.99) == pytest.approx(
        math.sqrt(stats.chi2.ppf(0.99, 3) / (8 * math.log(2) * n_e)), rel=1e-9)
    assert nulls["population_stability_index"].pvalue(0.01) == pytest.approx(stats.chi2.sf(0.01 * n_e, 3), rel=1e-9)


@pytest.mark.parametrize(("pooled", "n_draw"), [([30, 20, 10, 5], 25), ([5000, 300, 40, 3, 1, 1], 60)])
def test_permuted_counts_have_the_hypergeometric_moments(pooled: list[int], n_draw: int) -> None:
    rows = permuted_counts(np.array(pooled), n_draw, 20_000, np.random.default_rng(0))
    total = sum(pooled)
    for i, k in enumerate(pooled):
        law = stats.hypergeom(total, k, n_draw)
        assert rows[:, i].mean() == pytest.approx(law.mean(), abs=4 * law.std() / math.sqrt(20_000) + 1e-9)
        assert rows[:, i].var() == pytest.approx(law.var(), rel=0.08, abs=1e-3)  # row draws: <= 5.3% wider


def _brute_force_permutation_pvalue(ref: np.ndarray, prod: np.ndarray, statistic, shuffles: int, seed: int) -> float:
    """Shuffle the pooled labels ``shuffles`` times; share of statistics at least the observed one."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate((np.repeat(np.arange(len(ref)), ref), np.repeat(np.arange(len(prod)), prod)))
    observed = statistic(ref, prod)
    hits = 0
    for _ in range(shuffles):
        rng.shuffle(labels)
        r = np.bincount(labels[: ref.sum()], minlength=len(ref))
        p = np.bincount(labels[ref.sum():], minlength=len(ref))
        hits += statistic(r, p) >= observed - 1e-12
    return (hits + 1) / (shuffles + 1)


def test_sparse_table_pvalue_matches_a_brute_force_permutation_loop() -> None:
    ref = np.array([120, 60, 30, 10, 5, 3, 2, 1, 1, 1])
    prod = np.array([14, 10, 6, 3, 2, 1, 1, 1, 0, 2])
    nulls = table_nulls(ref, prod, replicates=4000, seed=3)
    assert nulls["jensen_shannon_distance"].method == "permutation"

    def js(r: np.ndarray, p: np.ndarray) -> float:
        return float(distance.jensenshannon(r / r.sum(), p / p.sum(), base=2))

    brute = _brute_force_permutation_pvalue(ref, prod, js, 4000, seed=5)
    assert nulls["jensen_shannon_distance"].pvalue(js(ref, prod)) == pytest.approx(brute, abs=0.03)
    brute_psi = _brute_force_permutation_pvalue(ref, prod, m.population_stability_index, 4000, seed=6)
    assert nulls["population_stability_index"].pvalue(m.population_stability_index(ref, prod)) == pytest.approx(
        brute_psi, abs=0.03)


def test_nwd_null_quantiles_match_a_brute_force_permutation_distribution() -> None:
    rng = np.random.default_rng(8)
    ref, prod = np.sort(rng.lognormal(size=1500)), np.sort(rng.lognormal(size=500))
    both = np.concatenate((ref, prod))
    scale = float(np.std(ref, ddof=1))
    perms = []
    for _ in range(3000):
        rng.shuffle(both)
        r, p = both[:1500], both[1500:]
        perms.append(stats.wasserstein_distance(r, p) / np.std(r, ddof=1))
    null = nwd_null(np.sort(both), 1500, 500, scale=scale, replicates=4000, seed=1)
    for q in (0.5, 0.9, 0.99):
        assert null.quantile(q) == pytest.approx(np.quantile(perms, q), rel=0.12)


def test_nwd_null_is_deterministic_for_a_seed_and_a_point_mass_for_constant_data() -> None:
    merged = np.sort(np.random.default_rng(1).normal(size=5000))
    assert nwd_null(merged, 4000, 1000, scale=1.0, seed=4) == nwd_null(merged, 4000, 1000, scale=1.0, seed=4)
    constant = nwd_null(np.full(10, 3.0), 5, 5, scale=0.001)
    assert constant.pvalue(0.0) == 1.0
    assert constant.quantile(0.99) == 0.0


def test_nwd_null_of_small_discrete_windows_matches_brute_force_permutations_on_average() -> None:
    """Poisson(3) pooled samples of 100,050 values split 100,000 / 50 (the bench's worst cell): over 30
    independent pooled samples, the null's 90th and 99th percentiles average those of 4,000 exact
    permutations (numpy's multivariate hypergeometric on the distinct values, W1 from cumulative counts).
    A null whose Monte Carlo draws are the same for every pooled sample (one fixed seed) carries one
    frozen error into all of them: it averaged 0.961 at the 99th percentile here."""
    rng, brute_rng = np.random.default_rng(21), np.random.default_rng(22)
    ratios = []
    for _ in range(30):
        pooled_values = np.sort(rng.poisson(3, 100_050).astype(float))
        values, pooled = np.unique(pooled_values, return_counts=True)
        prod = brute_rng.multivariate_hypergeometric(pooled, 50, size=4000)
        cdf_gap = np.cumsum(pooled - prod, axis=1)[:, :-1] / 100_000 - np.cumsum(prod, axis=1)[:, :-1] / 50
        w1 = np.abs(cdf_gap) @ np.diff(values)
        null = nwd_null(pooled_values, 100_000, 50, scale=1.0)
        ratios.append([null.quantile(q) / np.quantile(w1, q) for q in (0.9, 0.99)])
    assert np.mean(ratios, axis=0) == pytest.approx([1.0, 1.0], abs=0.02)


def test_fitted_moments_are_numpys_mean_and_std_and_scipys_skewness() -> None:
    values = np.random.default_rng(3).gamma(2.0, size=3000)
    null = MomentNull.fit(values, power=2, method="x")
    assert null.mean == pytest.approx(np.mean(values**2), rel=1e-12)
    assert null.sd == pytest.approx(np.std(values**2, ddof=1), rel=1e-12)
    assert null.skew == pytest.approx(stats.skew(values**2), rel=1e-10)
    beyond = 1.1 * float(np.max(values**2))  # past every replicate: the fitted tail alone, doubled
    assert null.pvalue(math.sqrt(beyond)) == pytest.approx(
        2 * stats.pearson3(null.skew, null.mean, null.sd).sf(beyond), rel=1e-12)
    inside = float(np.sort(values**2)[-3])  # three replicates reach it: the Monte Carlo floor 4/3001
    assert null.pvalue(math.sqrt(inside)) == pytest.approx(
        max(4 / 3001, stats.pearson3(null.skew, null.mean, null.sd).sf(inside)), rel=1e-12)
    assert null.quantile(0.9) == pytest.approx(math.sqrt(stats.pearson3(null.skew, null.mean, null.sd).ppf(0.9)),
                                               rel=1e-12)


@pytest.mark.parametrize("skew", [1.3, 0.2, 1e-6, -0.4, -2.5])
def test_pearson3_tail_and_quantile_are_scipys(skew: float) -> None:
    law = stats.pearson3(skew, loc=2.0, scale=0.5)
    null = MomentNull("x", 2.0, 0.5, skew)
    for v in (0.5, 1.8, 2.0, 2.7, 4.0):
        assert null.pvalue(v) == pytest.approx(law.sf(v), rel=1e-9, abs=1e-15)
    for q in (0.01, 0.5, 0.99, 0.9999):
        assert null.quantile(q) == pytest.approx(max(law.ppf(q), 0.0), rel=1e-9)


def test_the_two_zeros_of_a_pooled_sample_give_one_null() -> None:
    """numpy's sorts put ``-0.0`` or ``0.0`` last among equal zeros by chance; the draws must not care."""
    values = np.round(np.random.default_rng(4).normal(0.0, 3.0, 4000))  # integers, with -0.0 among them
    assert np.signbit(values[values == 0]).any()
    plus = np.sort(np.where(values == 0, 0.0, values))
    minus = np.sort(np.where(values == 0, -0.0, values))
    a = nwd_null(plus, 3000, 1000, scale=3.0)
    b = nwd_null(minus, 3000, 1000, scale=3.0)
    assert (a.mean, a.sd, a.skew) == (b.mean, b.sd, b.skew)


def _sparse_pooled() -> np.ndarray:
    return np.array([4, 12, 60, 300, 900, 1500, 1800, 1500, 900, 300, 60, 12, 4])  # tails below 5 expected


def test_sequential_nulls_stop_after_a_tenth_without_change_and_draw_all_with_it() -> None:
    pooled = _sparse_pooled()
    rng = np.random.default_rng(21)
    quiet = rng.multivariate_hypergeometric(pooled, pooled.sum() // 2)
    nulls = table_nulls(pooled - quiet, quiet, replicates=1000, seed=1)
    js = nulls["jensen_shannon_distance"]
    assert js.method == "permutation"
    assert len(js.replicates) == 100
    assert js.pvalue(m.jensen_shannon_distance(pooled - quiet, quiet)) > SEQUENTIAL_STOP_P
    full = table_nulls(pooled - quiet, quiet, replicates=1000, seed=1, sequential=False)
    assert len(full["jensen_shannon_distance"].replicates) == 1000
    moved = quiet.copy()
    moved[5], moved[7] = moved[5] + 60, moved[7] - 60  # 60 of ~3,700 rows move from one bin to another
    drifted = table_nulls(pooled - moved, moved, replicates=1000, seed=1)
    assert len(drifted["jensen_shannon_distance"].replicates) == 1000
    assert drifted["jensen_shannon_distance"].pvalue(m.jensen_shannon_distance(pooled - moved, moved)) < 0.01


def test_sequential_permutation_pvalues_are_valid_under_no_change() -> None:
    """Splits of one pooled table drawn by numpy's hypergeometric law (the permutation law): the share of
    p-values at most a never exceeds a by more than 3 binomial standard errors, stop or no stop."""
    pooled = _sparse_pooled()
    rng = np.random.default_rng(5)
    runs = 1500
    pvalues = {"jensen_shannon_distance": np.empty(runs), "population_stability_index": np.empty(runs)}
    stopped = 0
    for i in range(runs):
        prod = rng.multivariate_hypergeometric(pooled, 2000)
        ref = pooled - prod
        nulls = table_nulls(ref, prod, replicates=1000, seed=i)
        stopped += len(nulls["jensen_shannon_distance"].replicates) == 100
        pvalues["jensen_shannon_distance"][i] = nulls["jensen_shannon_distance"].pvalue(
            m.jensen_shannon_distance(ref, prod))
        pvalues["population_stability_index"][i] = nulls["population_stability_index"].pvalue(
            m.population_stability_index(ref, prod))
    assert 0.75 * runs < stopped < 0.95 * runs  # most stop after the first tenth; those near 0.1 do not
    for p in pvalues.values():
        for level in (0.01, 0.05, 0.1, 0.2, 0.5):
            assert np.mean(p <= level) <= level + 3 * math.sqrt(level * (1 - level) / runs)


def test_a_value_no_replicate_reached_is_never_impossible_when_all_replicates_were_equal() -> None:
    """One production row in the one category that 100,000 reference rows never had: every permuted table
    puts it among the reference's category (the same distance), yet the exact permutation p-value is
    1/100,001, not 0; the Monte Carlo floor 1/(R + 1) bounds it from above."""
    ref, prod = np.array([100_000, 0]), np.array([0, 1])
    nulls = table_nulls(ref, prod, replicates=1000, seed=0)
    js = nulls["jensen_shannon_distance"]
    assert js.sd == 0
    assert js.pvalue(m.jensen_shannon_distance(ref, prod)) == pytest.approx(1 / 1001)
    assert js.pvalue(0.0) == 1.0
    single = table_nulls(np.array([5]), np.array([3]))["jensen_shannon_distance"]
    assert single.pvalue(0.0) == 1.0
