"""Categories by value: an integer reference and a float production of the same values share categories."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.spatial import distance

from signals import categories
from signals.categories import category_keys
from signals.drift import categorical_drift, category_counts
from signals.quality import feature_quality


def _data() -> tuple[list[int], list[float]]:
    rng = np.random.default_rng(7)
    ref = rng.choice([1, 2, 3, 4, 7], size=4000, p=[0.4, 0.3, 0.15, 0.1, 0.05]).tolist()
    prod = rng.choice([1, 2, 3, 4, 9], size=3000, p=[0.35, 0.3, 0.2, 0.1, 0.05]).astype(float).tolist()
    prod[::50] = [float("nan")] * len(prod[::50])  # pandas' int column with a NaN, written as float
    return ref, prod


def _brute(values: list[int] | list[float]) -> Counter[float]:
    return Counter(float(v) for v in values if v == v)


def test_int_reference_and_float_production_count_the_same_categories() -> None:
    ref, prod = _data()
    ref_counts, _ = category_counts(pl.Series("x", ref))
    prod_counts, prod_nulls = category_counts(pl.Series("x", prod))
    assert Counter({float(k): v for k, v in ref_counts.items()}) == _brute(ref)
    assert Counter({float(k): v for k, v in prod_counts.items()}) == _brute(prod)
    assert prod_nulls == len(prod[::50])
    assert set(ref_counts) & set(prod_counts) == {"1", "2", "3", "4"}


def test_chi_squared_and_jsd_of_int_vs_float_match_scipy_on_value_counts() -> None:
    ref, prod = _data()
    result = categorical_drift(pl.Series("x", ref), pl.Series("x", prod),
                               thresholds={"jensen_shannon_distance": 0.1, "pearsons_chi_squared_test": 0.01})
    r, p = _brute(ref), _brute(prod)
    union = sorted(r.keys() | p.keys())
    table = np.array([[r[c] for c in union], [p[c] for c in union]])
    assert result.metrics["pearsons_chi_squared_test"].value == pytest.approx(
        stats.chi2_contingency(table, correction=False).pvalue)
    assert result.metrics["jensen_shannon_distance"].value == pytest.approx(
        distance.jensenshannon(table[0] / table[0].sum(), table[1] / table[1].sum(), base=2))
    assert result.details["categories"]["unseen_in_reference"] == 1  # 9 only


def test_quality_counts_only_values_the_reference_never_held_as_out_of_bounds() -> None:
    ref, prod = _data()
    seen = {float(v) for v in ref}
    expected = sum(1 for v in prod if v == v and v not in seen)
    for ref_series, prod_series in ((pl.Series("x", ref), pl.Series("x", prod)),
                                    (pl.Series("x", [float(v) for v in ref]), pl.Series("x", prod)),
                                    (pl.Series("x", [str(v) for v in ref]), pl.Series("x", prod))):
        result = feature_quality(ref_series, prod_series, kind="categorical", thresholds={})
        assert result.details["counts"]["production"]["out_of_bounds"] == expected, ref_series.dtype


def test_keys_join_numbers_by_value_and_keep_text_as_written() -> None:
    assert category_keys(pl.Series([1, 2**62 + 1])).to_list() == ["1", str(2**62 + 1)]
    assert category_keys(pl.Series([1.0, -0.0, 2.5, float("inf"), None])).to_list() == ["1", "0", "2.5", "inf", None]
    assert category_keys(pl.Series([Decimal("1.00"), Decimal("2.50")])).to_list() == ["1", "2.5"]
    assert category_keys(pl.Series(["1", "1.0", "01"])).to_list() == ["1", "1.0", "01"]
    assert category_keys(pl.Series([True, False])).to_list() == ["true", "false"]


@pytest.mark.parametrize("group_by_rows", [0, 10**9])  # every column by group-by; every one by value_counts
@pytest.mark.parametrize("values", [["b", None, "a", "b", "é", None, "b"], [1.5, float("nan"), None, 1.5, -0.0, 0.0]])
def test_distinct_counts_are_the_counts_of_each_value_by_either_method(
        values: list[object], group_by_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(categories, "GROUP_BY_ROWS", group_by_rows)
    distinct, counts = categories.distinct_counts(pl.Series("x", values))
    got: Counter[object] = Counter()
    for value, count in zip(distinct.to_list(), counts.tolist(), strict=True):
        got["nan" if value != value else value] += count  # NaN is one value to polars, never to Python
    expected = Counter("nan" if v != v else v for v in values)  # -0.0 == 0.0 in Python, one group in polars
    assert got == expected
    assert sum(counts) == len(values)
    assert distinct.name == "x"
