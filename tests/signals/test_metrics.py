"""Each metric against an independent numpy/scipy computation on the same seeded data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial import distance

from signals import laws
from signals import metrics as m


def _pair(seed: int, n_ref: int, n_prod: int, shift: float = 0.0, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.sort(rng.normal(size=n_ref)), np.sort(rng.normal(shift, scale, size=n_prod))


def _reference_edges(ref: np.ndarray, prod: np.ndarray) -> np.ndarray:
    """Azure ML's rule written out independently: Sturges on the smaller sample over the shared range."""
    lo, hi = min(ref.min(), prod.min()), max(ref.max(), prod.max())
    k = int(np.ceil(np.log2(min(ref.size, prod.size)) + 1))
    return np.array([lo + i * (hi - lo) / k for i in range(k)] + [hi])


CASES = [(1, 500, 700, 0.0, 1.0), (2, 2000, 300, 0.4, 1.0), (3, 64, 64, 0.0, 2.0), (4, 5, 9, 1.0, 0.5),
         (5, 12_000, 15_000, 0.02, 1.0), (6, 30_000, 2_000, 0.1, 1.3),
         (7, 150_001, 99_999, 0.01, 1.0)]  # several of EcdfGap's blocks of 65,536 merged values


@pytest.mark.parametrize(("seed", "n_ref", "n_prod", "shift", "scale"), CASES)
def test_binning_matches_numpy_histogram(seed: int, n_ref: int, n_prod: int, shift: float, scale: float) -> None:
    ref, prod = _pair(seed, n_ref, n_prod, shift, scale)
    edges = m.sturges_edges(ref, prod)
    np.testing.assert_allclose(edges, _reference_edges(ref, prod), rtol=1e-12)
    for sample in (ref, prod):
        expected, _ = np.histogram(sample, bins=edges)
        assert m.bin_counts(sample, edges).tolist() == expected.tolist()
        assert m.bin_counts(sample, edges).sum() == sample.size


@pytest.mark.parametrize(("seed", "n_ref", "n_prod", "shift", "scale"), CASES)
def test_jensen_shannon_and_psi_match_scipy(seed: int, n_ref: int, n_prod: int, shift: float, scale: float) -> None:
    ref, prod = _pair(seed, n_ref, n_prod, shift, scale)
    edges = _reference_edges(ref, prod)
    rc, pc = np.histogram(ref, edges)[0], np.histogram(prod, edges)[0]
    got_js = m.jensen_shannon_distance(m.bin_counts(ref, edges), m.bin_counts(prod, edges))
    assert got_js == pytest.approx(distance.jensenshannon(rc / rc.sum(), pc / pc.sum(), base=2), abs=1e-12)
    k = len(rc)
    expected_psi = sum(((pc[i] + 1) / (pc.sum() + k) - (rc[i] + 1) / (rc.sum() + k))
                       * math.log(((pc[i] + 1) / (pc.sum() + k)) / ((rc[i] + 1) / (rc.sum() + k))) for i in range(k))
    assert m.population_stability_index(rc, pc) == pytest.approx(expected_psi, rel=1e-10, abs=1e-15)


@pytest.mark.parametrize(("seed", "n_ref", "n_prod", "shift", "scale"), CASES)
def test_normalized_wasserstein_matches_scipy(seed: int, n_ref: int, n_prod: int, shift: float, scale: float) -> None:
    ref, prod = _pair(seed, n_ref, n_prod, shift, scale)
    rng = np.random.default_rng(seed)
    expected = stats.wasserstein_distance(rng.permutation(ref), rng.permutation(prod)) / max(np.std(ref, ddof=1), 0.001)
    assert m.normalized_wasserstein_distance(ref, prod) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("seed", "n_ref", "n_prod", "shift", "scale"), CASES)
def test_ks_pvalue_matches_scipy_at_every_size(seed: int, n_ref: int, n_prod: int, shift: float, scale: float) -> None:
    ref, prod = _pair(seed, n_ref, n_prod, shift, scale)
    assert m.ks_two_sample_pvalue(ref, prod) == pytest.approx(stats.ks_2samp(ref, prod).pvalue, rel=1e-9, abs=1e-300)


def test_ks_beyond_ten_thousand_rows_uses_the_asymptotic_path_and_detects_shift() -> None:
    ref, prod = _pair(11, 40_000, 25_000, shift=0.05)
    p = m.ks_two_sample_pvalue(ref, prod)
    assert p == pytest.approx(stats.ks_2samp(ref, prod, method="asymp").pvalue, rel=1e-9)
    assert p < 1e-3
    same_ref, same_prod = _pair(12, 40_000, 25_000)
    assert m.ks_two_sample_pvalue(same_ref, same_prod) > 0.001


@pytest.mark.parametrize("en", [20_001, 123_457, 495_000, 1_000_000])
@pytest.mark.parametrize("nd2", [2.2, 2.37, 5.0, 20.0, 100.0, 339.0])
def test_ks_asymptotic_pvalue_equals_kstwo_where_scipy_sums_term_by_term(en: int, nd2: float) -> None:
    """The band where scipy's ``kstwo.sf`` is ``2 * smirnov(N, D)`` summed one term at a time (up to 1.7 s):
    ours (``smirnov_sum``, one numpy pass) equals it to 1e-11, from p = 0.02 down to p = 1e-295."""
    d = math.sqrt(nd2 / en)
    n, k = en * 2, en * 2  # round(n k / (n + k)) = en
    assert laws.SMIRNOV_SUM_MIN_N < en <= laws.SMIRNOV_EXACT_MAX_N
    assert 2.2 <= nd2 < laws.SMIRNOV_SUM_MAX_ND2
    assert laws.smirnov_sum(en, d) == pytest.approx(special.smirnov(en, d), rel=1e-11, abs=0)
    assert m.ks_asymptotic_pvalue(d, n, k) == pytest.approx(float(stats.kstwo.sf(d, en)), rel=1e-11, abs=0)


@pytest.mark.parametrize(("en", "nd2"), [(123_457, 2.19), (123_457, 369.0), (19_999, 5.0), (1_000_001, 5.0),
                                         (1_000_001, 100.0)])
def test_ks_asymptotic_pvalue_equals_kstwo_just_outside_that_band(en: int, nd2: float) -> None:
    """Outside the band scipy's own branches (Pelz-Good, its loop, its approximation above 10**6) give the value."""
    d = math.sqrt(nd2 / en)
    assert m.ks_asymptotic_pvalue(d, en * 2, en * 2) == pytest.approx(float(stats.kstwo.sf(d, en)), rel=1e-11, abs=0)


def test_ecdf_gap_across_blocks_with_ties_matches_scipy() -> None:
    """Ties that straddle EcdfGap's blocks (one rounded value recurs thousands of times)."""
    rng = np.random.default_rng(8)
    ref = np.sort(np.round(rng.normal(size=180_000), 2))
    prod = np.sort(np.round(rng.normal(0.01, 1.0, size=120_000), 2))
    gap = m.EcdfGap.of(ref, prod)
    assert gap.ks_statistic() == pytest.approx(stats.ks_2samp(ref, prod).statistic, rel=1e-12)
    assert gap.wasserstein() == pytest.approx(stats.wasserstein_distance(ref, prod), rel=1e-12)


def test_ks_with_ties_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    ref = np.sort(rng.integers(0, 20, size=15_000).astype(float))
    prod = np.sort(rng.integers(0, 21, size=11_000).astype(float))
    assert m.ks_two_sample_pvalue(ref, prod) == pytest.approx(stats.ks_2samp(ref, prod).pvalue, rel=1e-9, abs=1e-300)
    assert m.normalized_wasserstein_distance(ref, prod) == pytest.approx(
        stats.wasserstein_distance(ref, prod) / np.std(ref, ddof=1), rel=1e-9)


def _chi2_by_hand(a: np.ndarray, b: np.ndarray) -> float:
    table = np.vstack((a, b)).astype(float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = ((table - expected) ** 2 / expected).sum()
    return float(stats.chi2.sf(statistic, df=table.shape[1] - 1))


@pytest.mark.parametrize(("ref", "prod"), [
    ([100, 200, 300], [110, 190, 310]),
    ([100, 200, 300, 0], [100, 200, 300, 5]),  # a category unseen in the reference
    ([50, 0], [0, 50]),  # disjoint categories
    ([5, 7, 9, 11, 13], [13, 11, 9, 7, 5]),
])
def test_chi_squared_homogeneity_matches_hand_computation(ref: list[int], prod: list[int]) -> None:
    a, b = np.array(ref), np.array(prod)
    assert m.chi_squared_pvalue(a, b) == pytest.approx(_chi2_by_hand(a, b), rel=1e-10, abs=1e-300)


def test_unseen_category_does_not_force_zero_p_value_unlike_goodness_of_fit() -> None:
    ref, prod = np.array([1000, 1000, 0]), np.array([1000, 1000, 1])
    assert m.chi_squared_pvalue(ref, prod) > 0.1
    with np.errstate(divide="ignore", invalid="ignore"):
        azure_style = stats.chisquare(prod, f_exp=ref / ref.sum() * prod.sum()).pvalue
    assert not azure_style > 0  # Azure ML's goodness-of-fit variant: p = 0 (or NaN) for one unseen value


def test_single_category_gives_p_one() -> None:
    assert m.chi_squared_pvalue(np.array([10]), np.array([3])) == 1.0


def test_constant_range_gets_one_bin_around_the_value() -> None:
    for v, delta in ((0.0, 0.005), (200.0, 1.0), (-4.0, 0.02)):
        edges = m.sturges_edges(np.array([v, v]), np.array([v]))
        np.testing.assert_allclose(edges, [v - delta, v + delta])
        assert m.bin_counts(np.array([v, v]), edges).tolist() == [2]


def test_identical_samples_give_zero_distance_and_p_one() -> None:
    ref, _ = _pair(9, 800, 1)
    edges = m.sturges_edges(ref, ref)
    counts = m.bin_counts(ref, edges)
    assert m.jensen_shannon_distance(counts, counts) == 0.0
    assert m.population_stability_index(counts, counts) == 0.0
    assert m.normalized_wasserstein_distance(ref, ref) == 0.0
    assert m.ks_two_sample_pvalue(ref, ref) == 1.0


def test_single_value_reference_uses_the_std_floor() -> None:
    ref, prod = np.array([1.0]), np.array([1.5, 2.5])
    assert m.normalized_wasserstein_distance(ref, prod) == pytest.approx(stats.wasserstein_distance(ref, prod) / 0.001)


def test_pooled_chi_squared_equals_scipy_on_the_table_pooled_by_hand() -> None:
    ref = np.array([500, 300, 100, 20, 6, 3, 2, 1])
    prod = np.array([50, 28, 12, 1, 1, 0, 1, 1])
    # smaller sample n = 94 of N = 1025: cells 3..7 (pooled 21, 7, 3, 3, 2) have E = 94 * pooled / N < 5,
    # and together E = 94 * 36 / 1025 = 3.3 < 5: one group, merged into the smallest kept cell (cell 2)
    expected = 94 * (ref + prod) / 1025
    assert (expected[3:] < 5).all()
    assert (expected[:3] >= 5).all()
    by_hand = np.array([[500, 300, 100 + 20 + 6 + 3 + 2 + 1], [50, 28, 12 + 1 + 1 + 0 + 1 + 1]])
    assert m.chi_squared_pvalue(ref, prod, min_expected=5) == pytest.approx(
        stats.chi2_contingency(by_hand, correction=False).pvalue, rel=1e-12)
    assert m.chi_squared_pvalue(ref, prod) == pytest.approx(
        stats.chi2_contingency(np.vstack((ref, prod)), correction=False).pvalue, rel=1e-12)


def test_pooling_groups_sparse_cells_until_each_group_is_expected_five() -> None:
    ref, prod = np.array([100] * 4 + [1] * 40), np.array([100] * 4 + [1] * 40)
    pooled_ref, pooled_prod = m.pool_sparse(ref, prod)
    # n = 440, E of a one-row cell pair = 440 * 2 / 880 = 1: groups of 5 such cells
    assert pooled_ref.tolist() == [100] * 4 + [5] * 8
    assert pooled_prod.sum() == prod.sum()


def test_quantile_edges_are_the_reference_quantiles_with_open_ends() -> None:
    rng = np.random.default_rng(2)
    ref, prod = np.sort(rng.lognormal(size=5000)), np.sort(rng.lognormal(0.2, 1, size=700))
    edges = m.quantile_edges(ref, prod)
    k = math.ceil(math.log2(700) + 1)
    np.testing.assert_allclose(edges[1:-1], np.quantile(ref, np.arange(1, k) / k))
    assert edges[0] == min(ref[0], prod[0])
    assert edges[-1] == max(ref[-1], prod[-1])
    counts = m.bin_counts(ref, edges)
    assert counts.sum() == 5000
    assert counts.max() - counts.min() <= 2  # equal-mass bins
    assert np.histogram(ref, edges)[0].tolist() == counts.tolist()


@pytest.mark.parametrize(("n_ref", "n_prod"), [(10_000, 10_000), (9_999, 10_000), (10_000, 10_001), (10_001, 10_001),
                                               (3_000, 2_000), (64, 64), (7, 5)])
def test_ks_pvalue_equals_ks_2samp_exactly_for_many_features_sharing_a_lattice_statistic(n_ref: int,
                                                                                      n_prod: int) -> None:
    """The exact p-value is reused per (n, m, D * lcm); every reuse must still be scipy's value to the bit,
    on both sides of the exact/asymptotic boundary (10,000), with ties, and with and without drift."""
    rng = np.random.default_rng(n_ref + n_prod)
    for i in range(24):
        ref, prod = rng.normal(size=n_ref), rng.normal((0.0, 0.02, 0.3)[i % 3], 1.0, size=n_prod)
        if i % 4 == 3:
            ref, prod = np.round(ref, 1), np.round(prod, 1)
        ref, prod = np.sort(ref), np.sort(prod)
        assert m.ks_two_sample_pvalue(ref, prod) == stats.ks_2samp(ref, prod).pvalue
    samples = [np.sort(rng.normal(size=n)) for n in (n_ref, n_prod)]
    assert m.ks_two_sample_pvalue(*samples) == stats.ks_2samp(*samples).pvalue  # again, from the cache


def test_ks_lattice_statistic_is_scipys_rounded_d_times_lcm() -> None:
    rng = np.random.default_rng(4)
    for n, k in ((10_000, 10_000), (9_000, 10_000), (37, 101)):
        ref, prod = np.sort(rng.normal(size=n)), np.sort(rng.normal(0.1, 1.0, size=k))
        d = stats.ks_2samp(ref, prod).statistic
        assert m.EcdfGap.of(ref, prod).ks_lattice_statistic(n, k) == round(d * n * k / math.gcd(n, k))
