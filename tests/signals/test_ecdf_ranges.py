"""Exact KS and Wasserstein from value ranges, checked against scipy on the whole samples."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from signals.ecdf_ranges import combine, range_contribution


def _split(reference: np.ndarray, production: np.ndarray, boundaries: list[float]) -> tuple[float, float]:
    """D and W1 computed range by range, counts below each range taken from the data (phase 1)."""
    r, p = np.sort(reference), np.sort(production)
    edges: list[float | None] = [None, *boundaries, None]
    parts = []
    for lo, hi in itertools.pairwise(edges):
        low, high = (-np.inf if lo is None else lo), (np.inf if hi is None else hi)
        in_r, in_p = r[(r >= low) & (r < high)], p[(p >= low) & (p < high)]
        below = (int(np.sum(r < low)), int(np.sum(p < low)))
        parts.append(range_contribution(in_r, in_p, below=below, totals=(len(r), len(p)), bounds=(lo, hi)))
    combined = combine(parts)
    assert combined.counts == (len(r), len(p))
    return combined.ks_statistic, combined.wasserstein


CASES = {
    "normal, unequal sizes": (np.random.default_rng(1).normal(0, 1, 3000),
                              np.random.default_rng(2).normal(0.2, 1.3, 1700)),
    "integers with many ties": (np.random.default_rng(3).poisson(4, 5000).astype(float),
                                np.random.default_rng(4).poisson(5, 4000).astype(float)),
    "constant and shifted constant": (np.full(100, 2.0), np.full(80, 3.0)),
    "heavy tail": (np.random.default_rng(5).lognormal(0, 2, 2000), np.random.default_rng(6).lognormal(0.1, 2, 2500)),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("ranges", [1, 2, 7, 40])
def test_split_equals_scipy_on_the_whole_samples(case: str, ranges: int) -> None:
    reference, production = CASES[case]
    pooled = np.concatenate((reference, production))
    # boundaries at pooled quantiles: on tied data they fall on values, so ties straddle no boundary
    boundaries = sorted(set(np.quantile(pooled, np.linspace(0, 1, ranges + 1)[1:-1]).tolist()))
    d, w1 = _split(reference, production, boundaries)
    assert d == pytest.approx(stats.ks_2samp(reference, production).statistic, rel=1e-12, abs=1e-15)
    assert w1 == pytest.approx(stats.wasserstein_distance(reference, production), rel=1e-12, abs=1e-15)


def test_empty_ranges_and_boundaries_outside_the_data() -> None:
    rng = np.random.default_rng(7)
    reference, production = rng.uniform(0, 1, 500), rng.uniform(0.5, 1.5, 400)
    boundaries = [-5.0, 0.25, 0.25000001, 1.2, 1.2000001, 9.0]  # an empty range between each close pair
    d, w1 = _split(reference, production, boundaries)
    assert d == pytest.approx(stats.ks_2samp(reference, production).statistic, rel=1e-12)
    assert w1 == pytest.approx(stats.wasserstein_distance(reference, production), rel=1e-12)


def test_a_gap_inside_a_range_spanning_no_values_still_counts() -> None:
    """All the reference below 0, all production above 10: the whole integral lies in an empty range."""
    reference, production = np.array([-2.0, -1.0]), np.array([10.0, 11.0])
    d, w1 = _split(reference, production, [0.0, 10.0])
    assert d == 1.0
    assert w1 == pytest.approx(stats.wasserstein_distance(reference, production), rel=1e-12)
