r"""Data quality: null, data type error and out-of-bounds rates per feature, judged against the reference.

Every rate is computed on both windows against statistics of the reference (its column type, its
[min, max] for numerical features, its set of values for categorical ones). The configured threshold is a
*delta* over the reference's own rate, as in Azure ML: a feature breaches when

.. math:: r_p > r_r + \delta

so the default :math:`\delta = 0` alerts on any increase over the reference. Unlike Azure ML we do not
round rates to five decimals, do not impute before counting, and check out-of-bounds values for every
categorical type (not only strings). All three rates share one denominator: the rows of the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from signals.categories import category_keys
from signals.gate import DEFAULT_SIGNIFICANCE, Significance, apply_gate, gated
from signals.info import GREATER_IS_BETTER, FeatureKind
from signals.rates import rate_pvalue, unique_extremes
from signals.results import FeatureResult, MetricResult, SignalResult, judge

RATES = ("null_value_rate", "data_type_error_rate", "out_of_bounds_rate")
_TRUE = ("true", "t", "yes", "1")
_FALSE = ("false", "f", "no", "0")


@dataclass(frozen=True)
class Conformed:
    """A column cast to the reference's type: its values, and which rows were null or failed the cast.

    ``values`` is null where the original was null *or* did not conform; ``null`` marks the original nulls
    (and NaN); ``type_error`` the non-null values that do not conform to the reference type.
    """

    values: pl.Series
    null: pl.Series
    type_error: pl.Series


def _family(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "integer"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_temporal():
        return "temporal"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    if dtype == pl.Null:
        return "null"
    return "other"


def conform(series: pl.Series, reference_dtype: pl.DataType) -> Conformed:
    """Cast ``series`` to the type family of the reference column and flag the values that do not fit.

    A value conforms when it already has the reference's type, or is text that parses as it (numbers,
    ``true``/``false``, ISO dates), or is an integral number in an integer column. A string reference
    accepts every scalar (each has a text form). Everything else, e.g. ``"n/a"`` in a numeric column or
    ``1.5`` in an integer column, is a data type error. NaN counts as null, never as an error.

    >>> c = conform(pl.Series(["1", "2.5", "n/a", None]), pl.Int64)
    >>> c.type_error.to_list(), c.null.to_list()
    ([False, True, True, False], [False, False, False, True])
    """
    original_null = series.is_null()
    target, source = _family(reference_dtype), _family(series.dtype)
    if target in ("integer", "float"):
        values = _to_float(series, source)
        if target == "integer":
            values = pl.select(
                pl.when(values.is_finite() & (values != values.floor())).then(None).otherwise(values)
            ).to_series()
    elif target == "boolean":
        values = _to_bool(series, source)
    elif target == "temporal":
        values = _to_temporal(series, source, reference_dtype)
    elif target in ("string", "null") and source in ("integer", "float"):
        values = category_keys(series)  # a number's text is its category key: 1.0 is "1"
    elif target in ("string", "null"):
        values = series.cast(pl.String, strict=False) if source not in ("other",) else _all_null(series, pl.String)
    else:  # nested or binary references: only the same type conforms
        values = series if series.dtype == reference_dtype else _all_null(series, reference_dtype)
    null = original_null | _nan(values) | _nan(series)
    type_error = ~original_null & values.is_null()
    return Conformed(values=values, null=null.alias("null"), type_error=type_error.alias("type_error"))


def _nan(series: pl.Series) -> pl.Series:
    """NaN rows of a float column (all False for other types): NaN counts as null, also once cast to text."""
    if not series.dtype.is_float():
        return pl.Series([False] * len(series), dtype=pl.Boolean)  # typed: an empty list would be Null
    return series.is_nan().fill_null(False)


def _all_null(series: pl.Series, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    return pl.Series(series.name, [None] * len(series), dtype=dtype)


def _to_float(series: pl.Series, source: str) -> pl.Series:
    if source in ("integer", "float"):
        return series.cast(pl.Float64)
    if source == "string":
        return series.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    return _all_null(series, pl.Float64)


def _to_bool(series: pl.Series, source: str) -> pl.Series:
    if source == "boolean":
        return series
    if source == "string":
        text = series.cast(pl.String).str.strip_chars().str.to_lowercase()
        return pl.select(
            pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False).otherwise(None)
        ).to_series().alias(series.name)
    if source == "integer":
        return pl.select(pl.when(series == 1).then(True).when(series == 0).then(False).otherwise(None)
                         ).to_series().alias(series.name)
    return _all_null(series, pl.Boolean)


def _to_temporal(series: pl.Series, source: str, dtype: pl.DataType) -> pl.Series:
    if source == "temporal":
        try:
            return series.cast(dtype, strict=False)
        except pl.exceptions.PolarsError:
            return _all_null(series, dtype)
    if source == "string":
        text = series.cast(pl.String).str.strip_chars()
        try:
            if dtype == pl.Date:
                return text.str.to_date(strict=False)
            if isinstance(dtype, pl.Datetime):
                parsed = text.str.to_datetime(strict=False, time_unit=dtype.time_unit)
                naive = isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone is None
                if dtype.time_zone is not None and naive:
                    parsed = parsed.dt.replace_time_zone(dtype.time_zone)
                return parsed.cast(dtype, strict=False)
            return text.cast(dtype, strict=False)
        except pl.exceptions.PolarsError:
            return _all_null(series, dtype)
    return _all_null(series, dtype)


@dataclass(frozen=True)
class _Counts:
    rows: int
    null: int
    type_error: int
    out_of_bounds: int | None

    def rates(self) -> dict[str, float | None]:
        if self.rows == 0:
            return dict.fromkeys(RATES)
        oob = None if self.out_of_bounds is None else self.out_of_bounds / self.rows
        return {"null_value_rate": self.null / self.rows, "data_type_error_rate": self.type_error / self.rows,
                "out_of_bounds_rate": oob}

    def to_dict(self) -> dict[str, int | None]:
        return {"rows": self.rows, "null": self.null, "type_error": self.type_error,
                "out_of_bounds": self.out_of_bounds}


@dataclass(frozen=True)
class _Reference:
    """The reference's statistics, merged over its chunks: the finite minimum and maximum of its values
    with how many values sit at each, and its count of finite values (numerical); the category keys of its
    non-null values and how many of its valid values' texts occur once (categorical)."""

    lo: float | None = None
    hi: float | None = None
    at_lo: int = 0
    at_hi: int = 0
    finite: int = 0
    keys: pl.Series | None = None
    texts: pl.DataFrame | None = None

    @property
    def bounds(self) -> tuple[float, float] | None:
        return None if self.lo is None or self.hi is None else (self.lo, self.hi)

    @property
    def categories(self) -> pl.Series | None:
        return self.keys if self.keys is not None and len(self.keys) else None

    def singletons(self) -> int:
        return 0 if self.texts is None else int((self.texts.get_column("count") == 1).sum())


def _reference_part(ref: Conformed, *, kind: FeatureKind) -> _Reference:
    """One chunk's ``_Reference``."""
    valid = ref.values.filter(~ref.null & ~ref.type_error)
    if kind != "numerical":
        keys = category_keys(ref.values.filter(~ref.null)).unique()
        texts = pl.DataFrame({"text": valid.cast(pl.String)}).group_by("text").len(name="count")
        return _Reference(keys=keys, texts=texts)
    numbers = ref.values.cast(pl.Float64)
    finite = numbers.filter(numbers.is_finite()).to_numpy()
    if len(finite) == 0:
        return _Reference()
    lo, hi = float(finite.min()), float(finite.max())
    return _Reference(lo=lo, hi=hi, at_lo=int((finite == lo).sum()), at_hi=int((finite == hi).sum()),
                      finite=len(finite))


def _merged(parts: Sequence[_Reference], *, kind: FeatureKind) -> _Reference:
    """The chunks' ``_Reference`` as the whole reference's: extremes with their counts, keys united, texts summed."""
    if kind != "numerical":
        keys = pl.concat([p.keys for p in parts if p.keys is not None]).unique() if parts else None
        texts = (pl.concat([p.texts for p in parts if p.texts is not None]).group_by("text").agg(pl.col("count").sum())
                 if parts else None)
        return _Reference(keys=keys, texts=texts)
    found = [p for p in parts if p.lo is not None and p.hi is not None]
    if not found:
        return _Reference()
    lo, hi = min(p.lo for p in found if p.lo is not None), max(p.hi for p in found if p.hi is not None)
    return _Reference(lo=lo, hi=hi, at_lo=sum(p.at_lo for p in found if p.lo == lo),
                      at_hi=sum(p.at_hi for p in found if p.hi == hi), finite=sum(p.finite for p in found))


def _own_count(ref: Conformed, *, kind: FeatureKind) -> _Counts:
    """One reference chunk's counts against the whole reference's own statistics, known without them: its
    finite values lie within its own [min, max], so out of bounds are its infinite valid values; its valid
    values' keys are among its own categories, so none is out of bounds (``_summed`` makes it None when
    the bounds or categories are undefined)."""
    counts = _count(ref, kind=kind, bounds=(-math.inf, math.inf), categories=None)  # only inf is outside
    oob = counts.out_of_bounds if kind == "numerical" else 0
    return _Counts(rows=counts.rows, null=counts.null, type_error=counts.type_error, out_of_bounds=oob)


def _count(column: Conformed, *, kind: FeatureKind, bounds: tuple[float, float] | None,
           categories: pl.Series | None) -> _Counts:
    """Null, type error and out-of-bounds counts of one conformed column against the reference stats."""
    rows = len(column.values)
    valid = column.values.filter(~column.null & ~column.type_error)
    if kind == "numerical":
        numbers = valid.cast(pl.Float64)
        if bounds is None:
            oob: int | None = None
        else:
            lo, hi = bounds
            oob = int(((numbers < lo) | (numbers > hi) | numbers.is_infinite()).sum())
    else:
        oob = None if categories is None else int((~category_keys(valid).is_in(categories.implode())).sum())
    return _Counts(rows=rows, null=int(column.null.sum()), type_error=int(column.type_error.sum()),
                   out_of_bounds=oob)


def _summed(counts: Iterable[_Counts], *, bounded: bool) -> _Counts:
    """The counts of a side's chunks added up; out of bounds is None when ``bounded`` is False (the
    reference's bounds or categories are undefined)."""
    rows = null = type_error = out_of_bounds = 0
    for c in counts:
        rows, null, type_error = rows + c.rows, null + c.null, type_error + c.type_error
        out_of_bounds += c.out_of_bounds or 0
    return _Counts(rows=rows, null=null, type_error=type_error, out_of_bounds=out_of_bounds if bounded else None)


def _estimated_reference_counts(stats: _Reference, counts: _Counts, *, kind: FeatureKind) -> dict[str, float | None]:
    """Reference counts as rates of new rows (``signals.rates``): leave-one-out for out of bounds."""
    oob: float | None = counts.out_of_bounds
    if oob is not None:
        oob += (unique_extremes(stats.finite, stats.at_lo, stats.at_hi) if kind == "numerical"
                else stats.singletons())
    return {"null_value_rate": counts.null, "data_type_error_rate": counts.type_error, "out_of_bounds_rate": oob}


def _gated_rates(prod_rates: Mapping[str, float | None], prod_counts: _Counts, ref_counts: _Counts,
                 estimated: Mapping[str, float | None], thresholds: Mapping[str, float],
                 reasons: Mapping[str, str | None], significance: Significance) -> dict[str, MetricResult]:
    """Threshold = estimated reference rate + delta; p-value from ``rate_pvalue``; gated as a family of one."""
    raw = {"null_value_rate": prod_counts.null, "data_type_error_rate": prod_counts.type_error,
           "out_of_bounds_rate": prod_counts.out_of_bounds}
    out: dict[str, MetricResult] = {}
    for name in RATES:
        delta, x_r, x_p = thresholds.get(name), estimated[name], raw[name]
        base = None if x_r is None or ref_counts.rows == 0 else x_r / ref_counts.rows
        effective = None if delta is None or base is None else base + delta
        result = judge(prod_rates[name], effective, greater_is_better=name in GREATER_IS_BETTER, reason=reasons[name])
        if result.value is not None and x_r is not None and x_p is not None:
            p = rate_pvalue(x_p, prod_counts.rows, x_r, ref_counts.rows, delta=delta or 0.0)
            result = gated(result.model_copy(update={"p_value": p}), p, significance)
        out[name] = result
    return out


def feature_quality(reference: pl.Series, production: pl.Series, *, kind: FeatureKind,
                    thresholds: Mapping[str, float],
                    significance: Significance | None = DEFAULT_SIGNIFICANCE) -> FeatureResult:
    r"""The three data quality rates of one feature on both windows, judged as reference rate + delta.

    .. math:: r^{null} = \frac{\#\{\text{null or NaN}\}}{n}, \quad
              r^{type} = \frac{\#\{\text{non-null, not of the reference type}\}}{n}, \quad
              r^{oob} = \frac{\#\{x < m_r \lor x > M_r \lor |x| = \infty\}}{n}

    for numerical features, where :math:`[m_r, M_r]` is the range of the reference's finite values, and
    :math:`r^{oob} = \#\{x \notin C_r\} / n` for categorical ones, :math:`C_r` the reference's values (as
    text; ``category_keys``: 1 and 1.0 are one value). :math:`n` counts every row of the window.
    ``thresholds`` maps a rate to its delta
    :math:`\delta`. With ``significance=None`` (Azure ML) the stored threshold is :math:`r_r + \delta`
    and breach is :math:`r_p > r_r + \delta`. With the gate on (default) the threshold is
    :math:`\hat r_r + \delta` with :math:`\hat r_r` the reference rate estimated as a rate of new rows
    (leave-one-out for out of bounds, ``signals.rates``) and breach also needs the one-sided test of
    ``signals.rates.rate_pvalue`` to be significant after correction across the signal's features.
    """
    return _quality([conform(reference, reference.dtype)], [conform(production, reference.dtype)], kind=kind,
                    thresholds=thresholds, significance=significance, dtypes=(reference.dtype, production.dtype))


def chunked_feature_quality(reference: Iterable[pl.Series], production: Iterable[pl.Series], *,
                            kind: FeatureKind, thresholds: Mapping[str, float], dtypes: tuple[pl.DataType, pl.DataType],
                            significance: Significance | None = DEFAULT_SIGNIFICANCE) -> FeatureResult:
    """``feature_quality`` of a feature read in chunks of rows, with exactly its result: every count is a sum
    over rows and every reference statistic merges over chunks (``_Reference``). Each side's chunks are
    read once. ``dtypes``: the reference's and production's column types."""
    ref_dtype = dtypes[0]
    return _quality((conform(c, ref_dtype) for c in reference), (conform(c, ref_dtype) for c in production),
                    kind=kind, thresholds=thresholds, significance=significance, dtypes=dtypes)


def _quality(reference: Iterable[Conformed], production: Iterable[Conformed], *, kind: FeatureKind,
             thresholds: Mapping[str, float], dtypes: tuple[pl.DataType, pl.DataType],
             significance: Significance | None) -> FeatureResult:
    """The feature's result from its conformed chunks (the whole column is one chunk)."""
    parts, own = [], []
    for chunk in reference:
        parts.append(_reference_part(chunk, kind=kind))
        own.append(_own_count(chunk, kind=kind))
    stats = _merged(parts, kind=kind)
    bounds = stats.bounds if kind == "numerical" else None
    categories = stats.categories if kind == "categorical" else None
    bounded = (bounds if kind == "numerical" else categories) is not None
    ref_counts = _summed(own, bounded=bounded)
    prod_counts = _summed((_count(c, kind=kind, bounds=bounds, categories=categories) for c in production),
                          bounded=bounded)
    ref_rates, prod_rates = ref_counts.rates(), prod_counts.rates()
    undefined_oob = ("reference has no finite values: its bounds are undefined" if kind == "numerical"
                     else "reference has no non-null values: its categories are undefined")
    reasons: dict[str, str | None] = {
        name: "no production rows" if prod_counts.rows == 0
        else undefined_oob if name == "out_of_bounds_rate" and prod_rates[name] is None else None
        for name in RATES
    }
    metrics: dict[str, MetricResult] = {}
    details: dict[str, object] = {}
    if significance is None:
        for name in RATES:
            delta, base = thresholds.get(name), ref_rates[name]
            effective = None if delta is None or base is None else base + delta
            metrics[name] = judge(prod_rates[name], effective, greater_is_better=name in GREATER_IS_BETTER,
                                  reason=reasons[name])
    else:
        estimated = _estimated_reference_counts(stats, ref_counts, kind=kind)
        metrics = _gated_rates(prod_rates, prod_counts, ref_counts, estimated, thresholds, reasons, significance)
        details["estimated_reference_rates"] = {
            name: None if x is None or ref_counts.rows == 0 else x / ref_counts.rows for name, x in estimated.items()
        }
    details |= {
        "reference_rates": ref_rates,
        "threshold_deltas": {name: thresholds.get(name) for name in RATES},
        "counts": {"reference": ref_counts.to_dict(), "production": prod_counts.to_dict()},
        "dtypes": {"reference": str(dtypes[0]), "production": str(dtypes[1])},
    }
    if bounds is not None:
        details["bounds"] = {"min": bounds[0], "max": bounds[1]}
    if categories is not None:
        details["reference_categories"] = len(categories)
    return FeatureResult(kind=kind, row_counts={"reference": ref_counts.rows, "production": prod_counts.rows},
                         metrics=metrics, details=details)


def compute_quality(production: pl.DataFrame, reference: pl.DataFrame, *, signal_type: str,
                    features: Sequence[str], kinds: Mapping[str, FeatureKind],
                    thresholds: Mapping[str, Mapping[str, float]],
                    on_feature: Callable[[str], None] | None = None,
                    significance: Significance | None = DEFAULT_SIGNIFICANCE) -> SignalResult:
    """Data quality of every feature; ``thresholds`` maps a feature kind to ``{rate: delta}``.

    ``significance`` (default alpha 0.01, Holm across the features per rate) gates each verdict; ``None``
    gives Azure ML's bare ``r_p > r_r + delta`` verdicts.
    """
    results: dict[str, FeatureResult] = {}
    for feature in features:
        kind = kinds[feature]
        results[feature] = feature_quality(reference.get_column(feature), production.get_column(feature),
                                           kind=kind, thresholds=thresholds.get(kind, {}), significance=significance)
        if on_feature is not None:
            on_feature(feature)
    if significance is not None:
        results = apply_gate(results, significance)
    return SignalResult(type=signal_type, status="completed", features=results, significance=significance,
                        row_counts={"reference": reference.height, "production": production.height})


__all__ = ["RATES", "Conformed", "chunked_feature_quality", "compute_quality", "conform", "feature_quality"]
