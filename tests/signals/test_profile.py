"""Side-by-side feature statistics, against numpy, scipy and collections.Counter."""

from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import polars as pl
import pytest
from scipy import stats

from signals import profile
from signals.profile import Moments, categorical_profile, numerical_profile, sorted_quantiles


def test_numerical_profile_matches_numpy() -> None:
    rng = np.random.default_rng(2)
    ref = rng.lognormal(0, 1, 5000)
    prod = rng.lognormal(0.5, 1, 3000)
    profile = numerical_profile(pl.Series([*ref, None]), pl.Series(prod))
    assert profile["nulls"] == {"reference": 1, "production": 0}
    assert profile["count"] == {"reference": 5000, "production": 3000}
    assert profile["mean"]["production"] == pytest.approx(prod.mean())
    assert profile["std"]["reference"] == pytest.approx(np.std(ref, ddof=1))
    assert profile["p95"]["reference"] == pytest.approx(np.percentile(ref, 95))
    assert profile["skewness"] == pytest.approx(stats.skew(ref))
    bins = profile["quantile_bins"]
    edges = [-np.inf, *bins["inner_edges"], np.inf]
    assert bins["production"] == np.histogram(prod, bins=edges)[0].tolist()
    assert sum(bins["reference"]) == 5000
    assert max(bins["reference"]) - min(bins["reference"]) <= 2  # quantile bins: equal shares of the reference


def test_categorical_profile_matches_counter() -> None:
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20 + [None] * 3
    prod = ["a"] * 10 + ["b"] * 30 + ["new1"] * 40 + ["new2"] * 5
    profile = categorical_profile(pl.Series(ref), pl.Series(prod))
    counts = Counter(p for p in prod if p is not None)
    assert profile["nulls"] == {"reference": 3, "production": 0}
    assert [n["category"] for n in profile["new"]] == ["new1", "new2"]
    assert profile["new_total"]["production"] == counts["new1"] + counts["new2"]
    top = {t["category"]: (t["reference"], t["production"]) for t in profile["top"]}
    assert top["a"] == (50, 10)
    assert top["new1"] == (0, 40)
    assert profile["distinct"] == {"reference": 3, "production": 4}


def test_quantile_bins_of_tied_values_match_numpy_histogram_on_both_sides() -> None:
    """Discrete data put values exactly on the edges: each lands in the bin its edge starts."""
    rng = np.random.default_rng(7)
    ref, prod = rng.integers(0, 12, 4000).astype(float), rng.integers(0, 15, 2500).astype(float)
    profile = numerical_profile(pl.Series([*ref, None, float("nan")]), pl.Series([*prod, float("inf")]))
    bins = profile["quantile_bins"]
    edges = [-np.inf, *bins["inner_edges"], np.inf]
    assert bins["reference"] == np.histogram(ref, bins=edges)[0].tolist()
    assert bins["production"] == np.histogram(prod, bins=edges)[0].tolist()
    assert profile["min"] == {"reference": ref.min(), "production": prod.min()}
    assert profile["p50"]["production"] == np.median(prod)
    assert profile["mean"]["reference"] == ref.mean()


def test_profile_statistics_equal_numpy_and_scipy_to_the_bit() -> None:
    rng = np.random.default_rng(8)
    ref, prod = rng.lognormal(0, 1, 10_000), rng.normal(3, 2, 9_000)
    profile = numerical_profile(pl.Series(ref), pl.Series(prod))
    assert profile["skewness"] == float(stats.skew(ref))
    assert profile["mean"] == {"reference": ref.mean(), "production": prod.mean()}
    assert profile["std"]["production"] == prod.std(ddof=1)
    p5, p50, p95 = np.quantile(ref, [0.05, 0.5, 0.95])
    assert (profile["p5"]["reference"], profile["p50"]["reference"], profile["p95"]["reference"]) == (p5, p50, p95)
    assert profile["quantile_bins"]["inner_edges"] == np.unique(np.quantile(ref, np.linspace(0, 1, 21))[1:-1]).tolist()


@pytest.mark.parametrize("n", [1, 2, 3, 10, 997, 10_000])
def test_sorted_quantiles_are_numpy_s_to_the_bit(n: int) -> None:
    rng = np.random.default_rng(n)
    for values in (np.sort(rng.lognormal(size=n)), np.sort(np.round(rng.normal(0, 2, size=n)))):
        qs = [0.0, 0.05, 0.5, 0.95, 1.0, *np.linspace(0, 1, 21), *rng.random(50)]
        assert sorted_quantiles(values, qs).tolist() == np.quantile(values, qs).tolist()


@pytest.mark.parametrize("shape", ["normal", "lognormal", "constant", "ties", "tiny"])
def test_moments_are_numpys_mean_and_std_and_scipys_skewness_to_the_bit(shape: str) -> None:
    rng = np.random.default_rng(11)
    values = {"normal": rng.normal(3, 2, 100_003), "lognormal": rng.lognormal(0, 1.5, 20_000),
              "constant": np.full(5000, 7.25), "ties": rng.integers(0, 3, 999).astype(float),
              "tiny": np.array([1.0, 4.0, 4.5])}[shape]
    moments = Moments.of(values, skewness=True)
    assert moments.mean == float(values.mean())
    assert moments.std == float(values.std(ddof=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's warning on constant values
        expected = float(stats.skew(values))
    assert moments.skewness == expected or (math.isnan(expected) and math.isnan(moments.skewness or 0.0))
    assert Moments.of(values[:2], skewness=True).skewness is None
    assert Moments.of(values[:1]).std is None


@pytest.mark.parametrize("rows", [100, profile.FILL_NULL_ROWS])  # converted by numpy; nulls filled by polars
@pytest.mark.parametrize("nulls", [True, False])
def test_float_values_are_the_column_with_nulls_as_nan(rows: int, nulls: bool) -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(size=rows)
    values[::7] = np.inf
    values[3::11] = np.nan
    missing = np.zeros(rows, dtype=bool)
    missing[5::13] = nulls
    series = pl.Series("x", values).scatter(np.flatnonzero(missing), None)
    expected = np.where(missing, np.nan, values)
    np.testing.assert_array_equal(profile.float_values(series), expected)
    assert profile.float_values(pl.Series("i", [1, None, 3])).tolist()[::2] == [1.0, 3.0]
