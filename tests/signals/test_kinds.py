from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from signals.kinds import infer_kind, infer_kinds


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
