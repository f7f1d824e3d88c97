"""Data quality rates against independent numpy counts; thresholds as reference rate + delta."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
import pytest

from signals.gate import DEFAULT_SIGNIFICANCE as DEFAULT
from signals.quality import RATES, compute_quality, conform, feature_quality

ALL_ZERO = dict.fromkeys(RATES, 0.0)


def _numpy_rates(ref: np.ndarray, prod: np.ndarray) -> dict[str, float]:
    finite = ref[np.isfinite(ref)]
    lo, hi = finite.min(), finite.max()
    valid = prod[~np.isnan(prod)]
    return {"null_value_rate": np.isnan(prod).sum() / len(prod), "data_type_error_rate": 0.0,
            "out_of_bounds_rate": ((valid < lo) | (valid > hi)).sum() / len(prod)}  # inf is < lo or > hi


def test_numerical_rates_equal_numpy_counts_on_seeded_data() -> None:
    rng = np.random.default_rng(3)
    ref = rng.normal(size=5000)
    ref[rng.random(5000) < 0.03] = np.nan
    ref[:3] = [np.inf, -np.inf, np.inf]
    prod = rng.normal(0.5, 1.3, size=4000)
    prod[rng.random(4000) < 0.06] = np.nan
    prod[:2] = [np.inf, -np.inf]
    ref_col = pl.Series("x", ref).fill_nan(None).extend(pl.Series("x", [float("nan")]))  # null and NaN both
    ref_np = np.append(ref, np.nan)
    result = feature_quality(ref_col, pl.Series("x", prod), kind="numerical", thresholds=ALL_ZERO)
    expected = _numpy_rates(ref_np, prod)
    for name in RATES:
        assert result.metrics[name].value == pytest.approx(expected[name], abs=1e-15)
    ref_expected = _numpy_rates(ref_np, ref_np)
    assert result.details["reference_rates"] == pytest.approx(ref_expected, abs=1e-15)
    assert ref_expected["out_of_bounds_rate"] == pytest.approx(3 / 5001)  # the reference's own inf
    finite = ref[np.isfinite(ref)]
    assert result.details["bounds"] == {"min": finite.min(), "max": finite.max()}
    assert result.row_counts == {"reference": 5001, "production": 4000}
    assert result.metrics["null_value_rate"].threshold == pytest.approx(ref_expected["null_value_rate"])
    assert result.metrics["null_value_rate"].breached is True
    assert result.metrics["out_of_bounds_rate"].breached is True
    assert result.metrics["data_type_error_rate"].breached is False


def test_threshold_is_reference_rate_plus_delta_and_equality_never_breaches() -> None:
    ref = pl.Series("x", [None] + [1.0] * 9)  # null rate 0.1
    at = pl.Series("x", [None, None] + [1.0] * 8)  # 0.2 == 0.1 + 0.1
    above = pl.Series("x", [None, None, None] + [1.0] * 7)
    deltas = {"null_value_rate": 0.1, "out_of_bounds_rate": 0.0}
    # Azure ML's bare rule (significance=None): 10 rows are never significant under the gate
    equal = feature_quality(ref, at, kind="numerical", thresholds=deltas, significance=None)
    assert equal.metrics["null_value_rate"].value == pytest.approx(0.2)
    assert equal.metrics["null_value_rate"].threshold == pytest.approx(0.2)
    assert equal.metrics["null_value_rate"].breached is False
    assert equal.details["reference_rates"]["null_value_rate"] == pytest.approx(0.1)
    assert equal.details["threshold_deltas"] == {"null_value_rate": 0.1, "data_type_error_rate": None,
                                                 "out_of_bounds_rate": 0.0}
    assert equal.metrics["data_type_error_rate"].threshold is None
    assert equal.metrics["data_type_error_rate"].breached is None
    assert feature_quality(ref, above, kind="numerical", thresholds=deltas,
                           significance=None).metrics["null_value_rate"].breached


def test_zero_delta_alerts_on_any_increase_only() -> None:
    ref = pl.Series("c", ["a", "b", None, "a"])
    same = feature_quality(ref, pl.Series("c", ["b", None, "a", "a"]), kind="categorical", thresholds=ALL_ZERO,
                           significance=None)  # Azure ML's bare rule
    assert not same.breached
    worse = feature_quality(ref, pl.Series("c", ["b", None, None, "a"]), kind="categorical", thresholds=ALL_ZERO,
                            significance=None)
    assert worse.metrics["null_value_rate"].breached is True
    assert worse.metrics["null_value_rate"].threshold == pytest.approx(0.25)


def test_numeric_reference_counts_text_that_does_not_parse_as_type_errors() -> None:
    ref = pl.Series("n", [1.0, 2.0, 10.0])
    prod = pl.Series("n", ["1", "2.5", "abc", None, "", " 3 ", "11", "nan"])
    result = feature_quality(ref, prod, kind="numerical", thresholds=ALL_ZERO, significance=None)  # 8 rows
    texts = prod.to_list()
    parsed = []
    for t in texts:
        try:
            parsed.append(float(t.strip()))
        except (AttributeError, ValueError):
            parsed.append(None)
    errors = sum(t is not None and p is None for t, p in zip(texts, parsed, strict=True))
    nulls = sum(t is None for t in texts) + sum(p is not None and np.isnan(p) for p in parsed)
    oob = sum(p is not None and not np.isnan(p) and not 1.0 <= p <= 10.0 for p in parsed)
    n = len(texts)
    assert (errors, nulls, oob) == (2, 2, 1)
    assert result.metrics["data_type_error_rate"].value == pytest.approx(errors / n)
    assert result.metrics["null_value_rate"].value == pytest.approx(nulls / n)
    assert result.metrics["out_of_bounds_rate"].value == pytest.approx(oob / n)
    assert result.details["dtypes"] == {"reference": "Float64", "production": "String"}
    assert result.metrics["data_type_error_rate"].breached is True


def test_integer_reference_rejects_fractions_but_accepts_integral_floats() -> None:
    ref = pl.Series("k", [1, 2, 3] * 40)
    prod = pl.Series("k", [1.0, 2.0, 2.5, 3.0, None, 7.0])
    result = feature_quality(ref, prod, kind="categorical", thresholds=ALL_ZERO)
    assert result.metrics["data_type_error_rate"].value == pytest.approx(1 / 6)  # 2.5
    assert result.metrics["out_of_bounds_rate"].value == pytest.approx(1 / 6)  # 7 is an unseen category
    assert result.metrics["null_value_rate"].value == pytest.approx(1 / 6)


def test_categorical_out_of_bounds_is_the_share_of_unseen_values() -> None:
    rng = np.random.default_rng(5)
    ref = rng.choice(["a", "b", "c"], size=1000)
    prod = rng.choice(["a", "b", "c", "d", "e"], size=800, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    result = feature_quality(pl.Series(ref), pl.Series(prod), kind="categorical", thresholds=ALL_ZERO)
    assert result.metrics["out_of_bounds_rate"].value == pytest.approx(np.isin(prod, ref, invert=True).mean())
    assert result.details["reference_categories"] == 3
    assert result.details["reference_rates"]["out_of_bounds_rate"] == 0.0


@pytest.mark.parametrize(("values", "errors", "nulls"), [
    (["true", "False", " TRUE ", "maybe", None], [False, False, False, True, False], [False] * 4 + [True]),
    ([1, 0, 2, None], [False, False, True, False], [False, False, False, True]),
])
def test_boolean_reference_accepts_true_false_text_and_zero_one(values: list[object], errors: list[bool],
                                                                 nulls: list[bool]) -> None:
    conformed = conform(pl.Series(values), pl.Boolean)
    assert conformed.type_error.to_list() == errors
    assert conformed.null.to_list() == nulls


def test_datetime_reference_parses_iso_text() -> None:
    dtype = pl.Datetime("us", "UTC")
    conformed = conform(pl.Series(["2024-01-02T03:04:05", "yesterday", None]), dtype)
    assert conformed.type_error.to_list() == [False, True, False]
    assert conformed.values[0] == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_string_reference_accepts_every_scalar_and_nested_values_are_errors() -> None:
    assert conform(pl.Series([1, 2, None]), pl.String).type_error.to_list() == [False, False, False]
    assert conform(pl.Series([[1], [2]]), pl.Float64).type_error.to_list() == [True, True]


def test_undefined_bounds_give_null_with_reason_and_never_nan() -> None:
    ref = pl.Series("x", [None, None], dtype=pl.Float64)
    result = feature_quality(ref, pl.Series("x", [1.0, None]), kind="numerical", thresholds=ALL_ZERO)
    oob = result.metrics["out_of_bounds_rate"]
    assert oob.value is None
    assert "bounds are undefined" in oob.reason
    assert result.metrics["null_value_rate"].value == pytest.approx(0.5)
    assert result.details["reference_rates"]["null_value_rate"] == 1.0
    assert result.metrics["null_value_rate"].breached is False


def test_compute_quality_uses_each_kinds_thresholds_and_reports_progress() -> None:
    ref = pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    prod = pl.DataFrame({"x": [1.0, 9.0, 2.0, 3.0], "c": ["a", "z", "a", "b"]})
    seen: list[str] = []
    result = compute_quality(prod, ref, signal_type="data_quality", features=["x", "c"],
                             kinds={"x": "numerical", "c": "categorical"},
                             thresholds={"numerical": {"out_of_bounds_rate": 0.3},
                                         "categorical": {"out_of_bounds_rate": 0.2}},
                             on_feature=seen.append, significance=None)  # 4 rows: Azure ML's bare rule
    assert seen == ["x", "c"]
    assert result.features["x"].metrics["out_of_bounds_rate"].breached is False  # 0.25 <= 0.3
    assert result.features["c"].metrics["out_of_bounds_rate"].breached is True  # 0.25 > 0.2
    assert result.features["x"].metrics["null_value_rate"].threshold is None
    assert result.row_counts == {"reference": 4, "production": 4}


def _pieces(series: pl.Series, rng: np.random.Generator) -> list[pl.Series]:
    """The series cut at random places into chunks of rows, an empty chunk among them."""
    cuts = sorted({0, len(series), *rng.integers(0, len(series), 6).tolist()})
    return [series.slice(a, b - a) for a, b in itertools.pairwise(cuts)] + [series.slice(0, 0)]


@pytest.mark.parametrize(("kind", "reference", "production"), [
    ("numerical", [1.0, 5.0, None, float("nan"), 5.0, 2.0, 1.0, 3.0] * 40 + [9.0],
     ["3", "n/a", "7.5", None, "-1", "inf", "2", " 4 "] * 30),
    ("numerical", [*list(range(300)), 299], [1.5, 2.0, None, 400.0, -3.0] * 50),
    ("categorical", ["a", "b", None, "c", "a", "d"] * 50 + ["once", "twice", "twice"],
     ["a", "z", None, "b", "once"] * 40),
    ("categorical", [1, 2, 2, 3, None] * 60 + [7], [1.0, 2.0, 2.5, None, float("nan"), 8.0] * 40),
    ("categorical", [True, False, None] * 90, ["true", "no", "maybe", None, "1"] * 40),
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chunked_feature_quality_is_feature_quality(kind: str, reference: list[Any], production: list[Any],
                                                    seed: int) -> None:
    """Counts summed and reference statistics merged over chunks cut anywhere (extremes and singletons
    split across chunks, an empty chunk) give exactly the whole columns' result, gate on and off."""
    from signals.quality import chunked_feature_quality

    ref, prod = pl.Series("f", reference, strict=False), pl.Series("f", production, strict=False)
    rng = np.random.default_rng(seed)
    thresholds = {"null_value_rate": 0.01, "data_type_error_rate": 0.0, "out_of_bounds_rate": 0.0}
    for significance in (None, DEFAULT):
        whole = feature_quality(ref, prod, kind=kind, thresholds=thresholds, significance=significance)
        chunked = chunked_feature_quality(_pieces(ref, rng), _pieces(prod, rng), kind=kind,
                                          thresholds=thresholds, dtypes=(ref.dtype, prod.dtype),
                                          significance=significance)
        assert chunked.model_dump(mode="json") == whole.model_dump(mode="json")


@pytest.mark.parametrize("dtype", [pl.Int64, pl.String, pl.Boolean, pl.Float64])
def test_an_empty_production_window_gives_no_rates_whatever_the_type(dtype: Any) -> None:
    """An empty window of a non-float column once failed in ``conform`` (an untyped empty mask)."""
    ref = pl.Series("f", [1, 2, 3]).cast(dtype)
    result = feature_quality(ref, pl.Series("f", [], dtype=dtype), kind="categorical", thresholds={})
    assert {m.reason for m in result.metrics.values()} == {"no production rows"}
    assert result.row_counts == {"reference": 3, "production": 0}
