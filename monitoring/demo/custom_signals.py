r"""Example custom signals, registered by name so a monitor YAML can use them as ``component_id``.

This module is listed in ``signals.custom.CUSTOM_SIGNAL_MODULES``; a new signal is one decorated function
here (or in another listed module). Each receives lazy frames of the windowed production and reference
data and the YAML's ``inputs``, and returns ``(group, metric_name, value)`` rows::

    monitoring_signals:
      amount-mean-shift:
        type: custom
        component_id: mean_shift
        inputs:
          columns: [amount, credit_limit]
        metric_thresholds:
          - metric_name: standardized_mean_difference
            threshold: 0.2
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from signals.custom import register_custom_signal


def _columns(inputs: Mapping[str, Any], key: str = "columns") -> list[str]:
    value = inputs.get(key)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        raise ValueError(f"inputs.{key} must be a column name or a non-empty list of column names; got {value!r}")
    return value


@register_custom_signal("mean_shift")
def mean_shift(production: pl.LazyFrame, reference: pl.LazyFrame,
               inputs: Mapping[str, Any]) -> list[tuple[str, str, float | None]]:
    r"""Shift of each column's mean in units of the reference's standard deviation.

    .. math:: SMD = \frac{|\bar x_p - \bar x_r|}{s_r}

    with :math:`s_r` the sample standard deviation (ddof = 1) of the reference; nulls and NaN are left
    out. ``inputs.columns`` lists the numerical columns. A constant reference gives a null value.
    """
    rows: list[tuple[str, str, float | None]] = []
    columns = _columns(inputs)
    stats = [pl.col(c).cast(pl.Float64).fill_nan(None) for c in columns]
    prod = production.select([s.mean().alias(c) for s, c in zip(stats, columns, strict=True)]).collect()
    ref = reference.select(
        [s.mean().alias(f"{c}_mean") for s, c in zip(stats, columns, strict=True)]
        + [s.std(ddof=1).alias(f"{c}_std") for s, c in zip(stats, columns, strict=True)]
    ).collect()
    for c in columns:
        mean_p, mean_r, std_r = prod[c][0], ref[f"{c}_mean"][0], ref[f"{c}_std"][0]
        value = None if mean_p is None or mean_r is None or not std_r else abs(mean_p - mean_r) / std_r
        rows.append((c, "standardized_mean_difference", value))
    return rows


@register_custom_signal("category_coverage", greater_is_better={"coverage"})
def category_coverage(production: pl.LazyFrame, reference: pl.LazyFrame, inputs: Mapping[str, Any]) -> pl.DataFrame:
    r"""Share of production's non-null values of each column that also occur in the reference.

    .. math:: coverage = \frac{\#\{x_p \in C_r\}}{\#\{x_p \neq null\}}

    with :math:`C_r` the set of the reference's values (compared as text). Greater is better: an alert
    fires when coverage falls *below* its threshold. ``inputs.columns`` lists the columns.
    """
    frames = []
    for c in _columns(inputs):
        known = reference.select(pl.col(c).cast(pl.String).drop_nulls().unique()).collect().get_column(c)
        values = production.select(pl.col(c).cast(pl.String).drop_nulls()).collect().get_column(c)
        coverage = float(values.is_in(known.implode()).mean()) if len(values) else None  # type: ignore[arg-type]
        frames.append({"group": c, "metric_name": "coverage", "value": coverage})
    return pl.DataFrame(frames, schema={"group": pl.String, "metric_name": pl.String, "value": pl.Float64})


__all__ = ["category_coverage", "mean_shift"]
