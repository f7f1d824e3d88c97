"""The drift signal end to end on frames: per-feature nulls, inf, kinds, thresholds and histograms."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.spatial import distance

from signals.drift import OTHER, categorical_drift, compute_drift, numerical_drift


def test_numerical_feature_uses_its_own_non_null_finite_values() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=3000)
    prod = rng.normal(0.3, 1, size=2000)
    ref_col = pl.Series("x", [*ref, None, float("nan"), float("inf"), -float("inf")])
    prod_col = pl.Series("x", [*prod, None, None, float("inf")])
    result = numerical_drift(ref_col, prod_col, thresholds={"normalized_wasserstein_distance": 0.1,
                                                              "two_sample_kolmogorov_smirnov_test": 0.05})
    assert result.row_counts == {"reference": 3000, "production": 2000}
    assert result.details["null_counts"] == {"reference": 2, "production": 2}
    assert result.details["infinite_counts"] == {"reference": 2, "production": 1}
    metrics = result.metrics
    expected_nwd = stats.wasserstein_distance(ref, prod) / np.std(ref, ddof=1)
    assert metrics["normalized_wasserstein_distance"].value == pytest.approx(expected_nwd, rel=1e-9)
    assert metrics["normalized_wasserstein_distance"].breached is bool(expected_nwd > 0.1)
    assert metrics["two_sample_kolmogorov_smirnov_test"].value == pytest.approx(stats.ks_2samp(ref, prod).pvalue)
    assert metrics["two_sample_kolmogorov_smirnov_test"].breached is True
    assert metrics["jensen_shannon_distance"].threshold is None
    assert metrics["jensen_shannon_distance"].breached is None
    edges = np.asarray(result.histogram.edges)
    k = math.ceil(math.log2(2000) + 1)
    assert len(edges) == k + 1
    assert result.histogram.reference == np.histogram(ref, edges)[0].tolist()
    rc, pc = np.histogram(ref, edges)[0], np.histogram(prod, edges)[0]
    assert metrics["jensen_shannon_distance"].value == pytest.approx(
        distance.jensenshannon(rc / rc.sum(), pc / pc.sum(), base=2))


def test_categorical_feature_over_the_union_of_categories() -> None:
    ref = pl.Series("c", ["a"] * 50 + ["b"] * 30 + [None] * 5)
    prod = pl.Series("c", ["a"] * 20 + ["b"] * 20 + ["new"] * 10)
    # significance=None: Azure ML's unpooled chi-squared value and bare threshold verdict
    result = categorical_drift(ref, prod, significance=None,
                               thresholds={"jensen_shannon_distance": 0.1, "pearsons_chi_squared_test": 0.01})
    rc, pc = np.array([50, 30, 0]), np.array([20, 20, 10])
    assert result.metrics["jensen_shannon_distance"].value == pytest.approx(
        distance.jensenshannon(rc / 80, pc / 50, base=2))
    assert result.metrics["pearsons_chi_squared_test"].value == pytest.approx(
        stats.chi2_contingency(np.vstack((rc, pc)), correction=False).pvalue)
    p, q = (rc + 1) / (80 + 3), (pc + 1) / (50 + 3)
    assert result.metrics["population_stability_index"].value == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert result.details["categories"]["unseen_in_reference"] == 1
    assert result.details["null_counts"] == {"reference": 5, "production": 0}
    assert result.metrics["jensen_shannon_distance"].breached is True


def test_disjoint_categories_give_maximal_js_distance() -> None:
    result = categorical_drift(pl.Series(["x"] * 10), pl.Series(["y"] * 7), thresholds={})
    assert result.metrics["jensen_shannon_distance"].value == pytest.approx(1.0)
    assert result.metrics["pearsons_chi_squared_test"].value < 1e-3


def test_histogram_keeps_top_100_categories_and_a_real_other_count() -> None:
    ref = pl.Series([f"c{i:03d}" for i in range(150) for _ in range(1 + (i < 10))])
    prod = pl.Series([f"c{i:03d}" for i in range(150)])
    hist = categorical_drift(ref, prod, thresholds={}).histogram
    assert len(hist.categories) == 101
    assert hist.categories[-1] == OTHER
    assert sum(hist.reference) == len(ref)
    assert sum(hist.production) == len(prod)
    assert hist.production[-1] == 50


@pytest.mark.parametrize("side", ["reference", "production"])
def test_all_null_side_gives_null_metrics_with_reason(side: str) -> None:
    values = pl.Series([1.0, 2.0, 3.0])
    empty = pl.Series([None, None], dtype=pl.Float64)
    ref, prod = (empty, values) if side == "reference" else (values, empty)
    result = numerical_drift(ref, prod, thresholds={"normalized_wasserstein_distance": 0.1})
    assert all(m.value is None and m.breached is None for m in result.metrics.values())
    assert side in result.metrics["normalized_wasserstein_distance"].reason


def test_constant_column_and_single_row() -> None:
    const = numerical_drift(pl.Series([20] * 5), pl.Series([20] * 3),
                            thresholds={"normalized_wasserstein_distance": 0.1})
    assert const.histogram.edges == pytest.approx([19.9, 20.1])
    assert const.metrics["normalized_wasserstein_distance"].value == 0.0
    assert const.metrics["normalized_wasserstein_distance"].breached is False
    single = numerical_drift(pl.Series([1.0]), pl.Series([3.0]), thresholds={})
    assert single.metrics["normalized_wasserstein_distance"].value == pytest.approx(2.0 / 0.001)
    assert single.metrics["two_sample_kolmogorov_smirnov_test"].value == pytest.approx(
        stats.ks_2samp([1.0], [3.0]).pvalue)


def test_threshold_of_zero_is_honoured_and_equality_never_breaches() -> None:
    # the bare threshold rule (significance=None): three rows are never significant under the gate
    same = pl.Series([1.0, 2.0, 3.0])
    result = numerical_drift(same, same, significance=None,
                             thresholds={"normalized_wasserstein_distance": 0.0,
                                         "two_sample_kolmogorov_smirnov_test": 1.0})
    assert result.metrics["normalized_wasserstein_distance"].threshold == 0.0
    assert result.metrics["normalized_wasserstein_distance"].breached is False  # 0 > 0 is false
    assert result.metrics["two_sample_kolmogorov_smirnov_test"].breached is False  # 1 < 1 is false
    shifted = numerical_drift(same, pl.Series([1.0, 2.0, 3.5]), significance=None,
                              thresholds={"normalized_wasserstein_distance": 0.0})
    assert shifted.metrics["normalized_wasserstein_distance"].breached is True


def test_compute_drift_routes_by_kind_and_does_not_drop_rows_across_columns() -> None:
    ref = pl.DataFrame({"num": [1.0, 2.0, None, 4.0], "cat": [None, "a", "b", "a"]})
    prod = pl.DataFrame({"num": [1.0, None, 3.0, 4.0], "cat": ["a", "a", None, "b"]})
    result = compute_drift(prod, ref, signal_type="data_drift", features=["num", "cat"],
                           kinds={"num": "numerical", "cat": "categorical"},
                           thresholds={"numerical": {"normalized_wasserstein_distance": 0.1}})
    assert result.status == "completed"
    assert result.features["num"].row_counts == {"reference": 3, "production": 3}
    assert result.features["cat"].row_counts == {"reference": 3, "production": 3}
    assert result.features["cat"].metrics["jensen_shannon_distance"].threshold is None
    assert result.row_counts == {"reference": 4, "production": 4}


@pytest.mark.parametrize("dtype", [pl.Float64, pl.Float32, pl.Int64, pl.String])
def test_numeric_values_are_the_sorted_finite_values_with_null_and_infinite_counts(dtype: pl.DataType) -> None:
    from signals.drift import numeric_values

    rng = np.random.default_rng(2)
    raw: list[float | None] = [*rng.normal(size=200).round(3).tolist(), None, None, float("nan"), float("inf"),
                               float("-inf")] if dtype.is_float() else [*rng.integers(-50, 50, 200).tolist(), None]
    series = pl.Series("x", raw).cast(dtype) if dtype != pl.String else pl.Series("x", [*map(str, raw), "abc"])
    values, nulls, infinite = numeric_values(series)
    as_floats = [float(v) for v in raw if v is not None]
    finite = sorted(v for v in as_floats if math.isfinite(v))
    assert values.tolist() == pytest.approx(finite, rel=1e-6)
    assert values.dtype == np.float64
    assert infinite == sum(1 for v in as_floats if math.isinf(v))
    missing = sum(1 for v in raw if v is None or math.isnan(v))
    assert nulls == missing + (1 if dtype == pl.String else 0)  # "abc" is no number: null


def test_profiles_made_by_drift_from_its_sorted_values_equal_the_standalone_profiles_and_numpy() -> None:
    """``profile=True`` shares drift's conversion, sort and counts with the profile: every statistic is
    the one ``signals.profile`` computes on the columns (to the bit), the moments in the values' order."""
    from signals.profile import categorical_profile, numerical_profile

    rng = np.random.default_rng(11)
    ref_x = rng.lognormal(0, 1, 4000)
    prod_x = rng.lognormal(0.2, 1, 3000)
    reference = pl.DataFrame({
        "x": [*ref_x, None, float("nan"), float("inf")],
        "c": [*rng.choice(["a", "b", "c"], 4001).tolist(), None, None],
        "k": [*rng.integers(0, 4, 4002).tolist(), None],
        "f": [*rng.integers(0, 3, 4002).astype(float).tolist(), None],
    })
    production = pl.DataFrame({
        "x": [*prod_x, -float("inf")],
        "c": [*rng.choice(["a", "b", "d"], 2999).tolist(), None, None],
        "k": rng.integers(0, 5, 3001).tolist(),
        "f": rng.integers(0, 4, 3001).astype(float).tolist(),
    })
    kinds = {"x": "numerical", "c": "categorical", "k": "categorical", "f": "categorical"}
    result = compute_drift(production, reference, signal_type="data_drift", features=list(kinds), kinds=kinds,
                           thresholds={}, profile=True)
    for name, kind in kinds.items():
        make = numerical_profile if kind == "numerical" else categorical_profile
        assert result.features[name].details["profile"] == make(reference[name], production[name]), name
        assert list(result.features[name].details)[-1] == "profile"
    profile = result.features["x"].details["profile"]
    assert profile["mean"] == {"reference": ref_x.mean(), "production": prod_x.mean()}
    assert profile["skewness"] == float(stats.skew(ref_x))
    assert profile["p50"] == {"reference": np.median(ref_x), "production": np.median(prod_x)}
    assert profile["nulls"] == {"reference": 1, "production": 0}
    assert result.features["f"].details["profile"]["top"][0]["category"].endswith(".0")  # its own text keys
    plain = compute_drift(production, reference, signal_type="data_drift", features=list(kinds), kinds=kinds,
                          thresholds={})
    assert all("profile" not in r.details for r in plain.features.values())
    assert {n: r.metrics for n, r in plain.features.items()} == {n: r.metrics for n, r in result.features.items()}
