from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from signals.importance import ImportanceConfig, feature_importance
from signals.kinds import infer_kind, infer_kinds, infer_task
from signals.performance import compute_performance


@pytest.mark.parametrize(("values", "expected"), [
    ([1.0, 2.5, None], "numerical"),
    (["a", "b"], "categorical"),
    ([True, False], "categorical"),
    ([date(2026, 1, 1)], "categorical"),
    ([datetime(2026, 1, 1)], "categorical"),
    (list(range(100)), "numerical"),  # 100 distinct / 100 rows
    ([i % 4 for i in range(100)], "categorical"),  # 4 / 100 = 0.04 < 0.05
    ([i % 5 for i in range(100)], "numerical"),  # 5 / 100 = 0.05, not below
    ([[1], [2]], None),
])
def test_kind_rule(values: list[object], expected: str | None) -> None:
    assert infer_kind(pl.Series("c", values)) == expected


def test_null_counts_as_a_distinct_value_in_the_integer_rule() -> None:
    values = [i % 4 for i in range(99)] + [None]  # 4 values + null = 5 distinct / 100 rows
    assert infer_kind(pl.Series("c", values, dtype=pl.Int64)) == "numerical"


def test_override_wins() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert infer_kinds(frame, ["a", "b"], overrides={"a": "categorical"}) == {"a": "categorical", "b": "categorical"}


@pytest.mark.parametrize(("values", "task"), [
    ([0, 1] * 50, "classification"), (["a", "b"], "classification"), ([True, False], "classification"),
    (list(range(100)), "regression"), ([0.5, 1.5], "regression"),
    ([date(2026, 1, 1), date(2026, 1, 2)], "classification"),  # a non-numeric type is classes
    ([0.0, 1.0] * 50, "classification"),  # integral floats: the class rule, not the float rule
    ([0.0, 1.0, 1.5], "regression"),  # one fraction makes it a regression
    ([0.0, 1.0, float("inf")], "regression"),  # an infinity is no class
    ([0.0, 1.0, None, float("nan")], "classification"),  # nulls and NaN are missing, not values
    ([0, 1, 0, 1, 2, 3], "regression"),  # 4 distinct / 6 rows, more than 2 classes
    ([0, 1, 0, 1, 0, 1], "classification"),  # 2 distinct: binary whatever the sample size
    ([i % 4 for i in range(100)], "classification"),  # 4 / 100 = 0.04 < 0.05
    ([i % 5 for i in range(100)], "regression"),  # 5 / 100 = 0.05, not below
    ([float(i % 200) for i in range(200)], "regression"),  # the case where the two rules disagreed
    ([float(i % 200) for i in range(10_000)], "classification"),  # the same values, 0.02 per row
    ([], "classification"), ([None, None], "classification"),
])
def test_task_rule(values: list[object], task: str) -> None:
    assert infer_task(pl.Series("label", values)) == task


def test_a_fraction_in_the_predictions_makes_integral_labels_a_regression() -> None:
    labels = pl.Series("y", [0, 1] * 50)
    assert infer_task(labels, pl.Series("yhat", [0, 1] * 50)) == "classification"
    assert infer_task(labels, pl.Series("yhat", [0.2, 0.9] * 50)) == "regression"


def test_a_type_that_cannot_be_a_label_is_named() -> None:
    with pytest.raises(ValueError, match=r"column `y` has type List\(Int64\), which cannot be a label"):
        infer_task(pl.Series("y", [[1], [2]]))


def test_importance_and_performance_infer_the_same_task_where_they_used_to_disagree() -> None:
    """200 distinct integral floats: importance said regression (a float), performance classification
    (integral). Both now take one rule; over 200 rows it says regression, over 10,000 classification."""
    rng = np.random.default_rng(4)
    for rows, task in ((200, "regression"), (10_000, "classification")):
        label = pl.Series("y", [float(i % 200) for i in range(rows)])
        frame = pl.DataFrame({"x": rng.normal(size=rows), "id": range(rows)}).with_columns(label)
        importance = feature_importance(frame, target="y", features=["x"], kinds={"x": "numerical"},
                                        config=ImportanceConfig(n_estimators=5, explain_rows=50))
        performance = compute_performance(frame, frame, signal_type="model_performance", features=[], kinds={},
                                          thresholds={}, prediction="y", actual="y", production_id="id",
                                          ground_truth_id="id")
        assert importance.task == task
        details = performance.features[task].details
        assert details is not None
        assert details["task"] == task
