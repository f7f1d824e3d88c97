"""Which features are numerical and which categorical (Azure ML's rule, decided on the reference), and
which task a label implies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import polars as pl

from signals.info import FeatureKind

Task = Literal["classification", "regression"]

#: An integer column whose distinct/rows ratio on the reference is below this is categorical.
INTEGER_CATEGORICAL_RATIO = 0.05
#: A label with at most this many distinct values is a classification label whatever the row count.
BINARY_CLASSES = 2


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


def _non_integral(series: pl.Series) -> bool:
    """Whether a numeric column holds a value that is not an integer: a fraction or an infinity (nulls and
    NaN are missing values, not numbers)."""
    if not (series.dtype.is_float() or series.dtype.is_decimal()):
        return False
    values = series.cast(pl.Float64).drop_nulls().to_numpy()
    values = values[~np.isnan(values)]
    return bool(np.any(~np.isfinite(values) | (values != np.floor(values))))


def infer_task(label: pl.Series, *predictions: pl.Series) -> Task:
    """The task a label implies, when neither the signal's ``model_type`` nor the target's ``ml_task`` says.

    The one rule of feature importance's surrogate model and of model performance:

    1. A label of a non-numeric type (string, boolean, categorical, enum, date or time) is
       **classification**; other non-numeric types (lists, structs, binary) cannot be a label:
       ``ValueError`` naming the column.
    2. A value that is not an integer (a fraction or an infinity), in the label or in any of the ``predictions`` (model
       performance passes the predicted column, so a regressor scored against integral labels stays a
       regression), makes it **regression**.
    3. Otherwise the values are integral, of an integer or a float type alike (a 0/1 label written as
       floats is still a class): **classification** when the label has at most 2 distinct values, or
       when ``n_distinct / n_rows < 0.05`` (``INTEGER_CATEGORICAL_RATIO``); else **regression**.
       Nulls and NaN are left out of both counts (a label without values is classification).

    Why 0.05: it is the cut-off of the kind rule (:func:`infer_kind`), Azure ML's, under which an
    integer *feature* is categorical; a label and a feature with the same values get the same answer,
    and a classification label then has on average at least 20 rows per class. Counts, amounts and
    ids, whose values are mostly distinct, are regression. The binary exception keeps a 0/1 label of a
    small sample (2 values in fewer than 40 rows) a classification. Before this rule, importance said
    regression for any float label and performance said classification for any integral one, so 200
    distinct integral floats in 200 rows were both; they are now regression (ratio 1), and the same
    values over 10,000 rows classification (ratio 0.02).

    >>> infer_task(pl.Series([0, 1] * 50))
    'classification'
    >>> infer_task(pl.Series([0.5, 1.7, 2.2]))
    'regression'
    >>> infer_task(pl.Series([float(v) for v in range(200)]))
    'regression'
    """
    dtype = label.dtype
    if not dtype.is_numeric() and dtype != pl.Null:
        if infer_kind(label) is None:
            raise ValueError(f"column `{label.name}` has type {dtype}, which cannot be a label")
        return "classification"
    if any(_non_integral(s) for s in (label, *predictions)):
        return "regression"
    values = label.fill_nan(None).drop_nulls() if dtype.is_float() else label.drop_nulls()
    distinct = values.n_unique()
    if distinct <= BINARY_CLASSES or distinct / len(values) < INTEGER_CATEGORICAL_RATIO:
        return "classification"
    return "regression"


__all__ = ["BINARY_CLASSES", "INTEGER_CATEGORICAL_RATIO", "Task", "infer_kind", "infer_kinds", "infer_task"]
