"""Which features are numerical and which categorical: Azure ML's rule, decided on the reference."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from signals.registry import FeatureKind

#: An integer column whose distinct/rows ratio on the reference is below this is categorical.
INTEGER_CATEGORICAL_RATIO = 0.05


def infer_kind(reference: pl.Series, *, integer_ratio: float = INTEGER_CATEGORICAL_RATIO) -> FeatureKind | None:
    """Kind of one column from its reference values.

    Strings, booleans, dates, times and categoricals are categorical; floats and decimals numerical;
    integers categorical when ``n_unique / n < integer_ratio`` (null counts as a value), else
    numerical. Other types (lists, structs, binary) return ``None``: such columns are not monitored.

    >>> infer_kind(pl.Series([1.5, 2.5]))
    'numerical'
    >>> infer_kind(pl.Series([1] * 100))
    'categorical'
    """
    dtype = reference.dtype
    if dtype.is_float() or dtype.is_decimal():
        return "numerical"
    if dtype.is_integer():
        n = len(reference)
        if n == 0:
            return "numerical"
        return "categorical" if reference.n_unique() / n < integer_ratio else "numerical"
    if dtype in (pl.String, pl.Boolean, pl.Categorical) or isinstance(dtype, pl.Enum) or dtype.is_temporal():
        return "categorical"
    return None


def infer_kinds(reference: pl.DataFrame, columns: Iterable[str], *,
                overrides: Mapping[str, FeatureKind] | None = None) -> dict[str, FeatureKind | None]:
    """Kind of each column; an override wins over inference."""
    overrides = overrides or {}
    return {c: overrides.get(c) or infer_kind(reference.get_column(c)) for c in columns}


__all__ = ["INTEGER_CATEGORICAL_RATIO", "infer_kind", "infer_kinds"]
