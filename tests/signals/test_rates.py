"""Quality tests against the hypergeometric and binomial laws written out, and the gate on quality rates."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from signals.quality import RATES, compute_quality, feature_quality
from signals.rates import rate_pvalue

ALL_ZERO = dict.fromkeys(RATES, 0.0)


@pytest.mark.parametrize(("x_p", "n_p", "x_r", "n_r"), [(1, 1_930_000, 2, 2_000_000), (9, 1000, 2, 1000),
                                                         (0, 50, 0, 80), (30, 400, 10, 900)])
def test_zero_delta_is_fishers_one_sided_test_as_a_hypergeometric_tail(x_p: int, n_p: int, x_r: int,
                                                                        n_r: int) -> None:
    # P(X >= x_p) for X the production count among the x_p + x_r flagged rows, given the margins
    expected = stats.hypergeom(n_p + n_r, x_p + x_r, n_p).sf(x_p - 1)
    assert rate_pvalue(x_p, n_p, x_r, n_r, delta=0.0) == pytest.approx(expected, rel=1e-9)


def test_positive_delta_is_a_binomial_tail_at_reference_rate_plus_delta() -> None:
    assert rate_pvalue(40, 500, 20, 1000, delta=0.03) == pytest.approx(stats.binom.sf(39, 500, 0.05), rel=1e-9)
    assert rate_pvalue(5, 5, 990, 1000, delta=0.5) == 1.0  # p0 capped at 1: nothing can exceed it


def test_one_out_of_bounds_row_in_two_million_is_not_an_alert_with_the_gate() -> None:
    rng = np.random.default_rng(0)
    ref = pl.Series("x", rng.normal(size=200_000))
    prod_values = rng.normal(size=190_000)
    prod_values[0] = 10.0  # one row outside the reference's range
    prod = pl.Series("x", prod_values)
    bare = feature_quality(ref, prod, kind="numerical", thresholds=ALL_ZERO, significance=None)
    gated = feature_quality(ref, prod, kind="numerical", thresholds=ALL_ZERO)
    assert bare.metrics["out_of_bounds_rate"].breached is True
    oob = gated.metrics["out_of_bounds_rate"]
    assert oob.value == bare.metrics["out_of_bounds_rate"].value
    # leave-one-out reference rate: the unique minimum and maximum, 2 of 200k (~ 2 / (n + 1))
    assert gated.details["estimated_reference_rates"]["out_of_bounds_rate"] == pytest.approx(2 / 200_000)
    assert oob.threshold == pytest.approx(2 / 200_000)
    assert oob.breached is False
    assert oob.p_value == pytest.approx(stats.hypergeom(390_000, 3, 190_000).sf(0))


def test_categorical_reference_rate_of_unseen_values_is_the_share_of_singletons() -> None:
    ref = pl.Series("c", ["a"] * 500 + ["b"] * 300 + [f"s{i}" for i in range(20)])  # 20 categories seen once
    prod = pl.Series("c", ["a"] * 500 + ["b"] * 290 + [f"new{i}" for i in range(40)])
    result = feature_quality(ref, prod, kind="categorical", thresholds=ALL_ZERO)
    assert result.details["estimated_reference_rates"]["out_of_bounds_rate"] == pytest.approx(20 / 820)
    oob = result.metrics["out_of_bounds_rate"]
    assert oob.p_value == pytest.approx(stats.hypergeom(1650, 60, 830).sf(39))
    assert oob.breached is True  # 40 new of 830 against 20 singletons of 820


def test_gate_on_quality_corrects_across_features_and_clear_breaches_still_breach() -> None:
    rng = np.random.default_rng(1)
    ref = pl.DataFrame({f"x{i}": rng.normal(size=5000) for i in range(5)})
    prod = pl.DataFrame({f"x{i}": np.where(rng.random(3000) < (0.2 if i == 0 else 0.0), np.nan, rng.normal(size=3000))
                         for i in range(5)})
    result = compute_quality(prod, ref, signal_type="data_quality", features=ref.columns,
                             kinds=dict.fromkeys(ref.columns, "numerical"),  # type: ignore[arg-type]
                             thresholds={"numerical": ALL_ZERO})
    assert result.features["x0"].metrics["null_value_rate"].breached is True
    assert not any(result.features[f"x{i}"].breached for i in range(1, 5))
