"""One key per category, so that values equal as numbers are one category whatever their column type.

pandas writes an integer column holding a NaN as float, so a reference of ``1, 2, 3`` and a production
of ``1.0, 2.0, 3.0`` are common; compared as text they would share no category at all.
"""

from __future__ import annotations

import polars as pl

#: Floats with an integral value below this magnitude convert to Int64 exactly.
_INT64_LIMIT = 2.0**63


def category_keys(series: pl.Series) -> pl.Series:
    """The text key of each value: numbers by value, everything else as its text.

    Integers, floats and decimals are keyed by their value as a float64 number: an integral value is
    written without a fraction (``1``, ``1.0`` and ``Decimal("1.00")`` are all ``"1"``), any other by its
    shortest float text (``"2.5"``), so ``1`` and ``1.0`` are one category. Integers keep every digit
    (no float rounding). Text is kept exactly as written and never parsed: ``"1"`` happens to be the
    key of the number 1 and joins it, but ``"1.0"``, ``"01"`` and ``" 1"`` stay their own categories (a
    code column's ``"01"`` is not ``"1"``). Booleans, dates and other types are keyed by their text.
    Nulls stay null; NaN should be made null before.

    >>> category_keys(pl.Series([1.0, 2.5, None])).to_list()
    ['1', '2.5', None]
    """
    dtype = series.dtype
    if dtype.is_integer():
        return series.cast(pl.String)
    if not (dtype.is_float() or dtype.is_decimal()):
        return series.cast(pl.String)
    values = series.cast(pl.Float64)
    integral = values.is_finite() & (values == values.floor()) & (values.abs() < _INT64_LIMIT)
    return pl.select(
        pl.when(integral).then(values.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(values.cast(pl.String))
    ).to_series().alias(series.name)


__all__ = ["category_keys"]
