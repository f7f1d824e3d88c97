"""Data drift and prediction drift: every drift metric for every feature, nulls handled per feature.

Unlike Azure ML, which drops every row with a null in *any* selected column before computing drift, each
feature here uses its own non-null values: a null in one column never hides drift in another. NaN counts
as null; +/-inf is left out of the distributions and counted in the feature's details.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import polars as pl

from signals import metrics as m
from signals.categories import distinct_counts, keyed_counts, text_counts
from signals.gate import AUTO, DEFAULT_SIGNIFICANCE, Significance, apply_gate, check_thresholds, gated
from signals.info import GREATER_IS_BETTER, FeatureKind
from signals.nulls import MIN_EXPECTED, MomentNull, nwd_null, table_nulls
from signals.profile import Moments, counted_profile, float_values, sorted_profile
from signals.results import FeatureResult, Histogram, MetricResult, SignalResult, judge

Binning = Literal["equal_width", "quantile"]
Threshold = float | Literal["auto"]

#: Categories kept by name in a stored histogram; the rest are summed into one "other" bucket.
TOP_CATEGORIES = 100
OTHER = "__other__"
#: Features computed at once; each holds its two sorted samples in memory while it runs.
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)


def numeric_values(series: pl.Series, *, moments: list[Moments] | None = None,
                   skewness: bool = True) -> tuple[np.ndarray, int, int]:
    """Sorted finite values of a column as float64, with its null (or NaN) and infinite counts.

    Sorted by numpy (about 10x faster than polars' sort on 10,000 floats); nulls become NaN on the way.
    ``moments``: a list that gets the values' ``signals.profile.Moments`` (with the ``skewness``), taken
    before the sort, in place, so the profile shares this conversion and sort without another copy.
    """
    values = float_values(series, strict=False)
    finite = values[np.isfinite(values)]
    nulls = int(np.count_nonzero(np.isnan(values)))
    if moments is not None:
        moments.append(Moments.of(finite, skewness=skewness))
    finite.sort()
    return finite, nulls, len(values) - nulls - len(finite)


def _with_profile(details: dict[str, object], profile: dict[str, object] | None) -> dict[str, object]:
    """``details`` with the profile last, where ``signals.profile.attach_profiles`` puts it."""
    return details if profile is None else {**details, "profile": profile}


def category_counts(series: pl.Series) -> tuple[dict[str, int], int]:
    """Counts of each category (keyed by ``category_keys``: 1 and 1.0 are one) and the null count.

    NaN in a float column counts as null.
    """
    return keyed_counts(*distinct_counts(series))


def _metric_results(values: Mapping[str, float | None], thresholds: Mapping[str, Threshold],
                    reason: str | None = None) -> dict[str, MetricResult]:
    """Null values: judged with a null verdict; an ``auto`` threshold has no null to come from."""
    return {
        name: judge(value, _number(thresholds.get(name)), greater_is_better=name in GREATER_IS_BETTER, reason=reason)
        for name, value in values.items()
    }


def _number(threshold: Threshold | None) -> float | None:
    return None if threshold is None or threshold == AUTO else float(threshold)


def judged_metrics(values: Mapping[str, float], thresholds: Mapping[str, Threshold],
              nulls: Mapping[str, MomentNull], significance: Significance | None) -> dict[str, MetricResult]:
    """Each metric judged against its threshold, then (gate on) its p-value and null quantile stored and
    the verdict gated as a family of one; ``compute_drift`` re-gates across features.

    P-value metrics (KS, chi-squared) are their own p-value; under no change they are uniform, so their
    ``auto`` threshold, the alpha quantile, is alpha itself.
    """
    if significance is None:
        return _metric_results(values, thresholds)
    alpha = significance.alpha
    out: dict[str, MetricResult] = {}
    for name, value in values.items():
        greater = name in GREATER_IS_BETTER
        null = nulls.get(name)
        if greater:
            p, quantile = value, alpha
        elif null is not None:
            p, quantile = null.pvalue(value), null.quantile(1 - alpha)
        else:
            p, quantile = None, None
        threshold = thresholds.get(name)
        effective = quantile if threshold == AUTO else _number(threshold)
        result = judge(value, effective, greater_is_better=greater)
        if result.value is not None and p is not None:
            result = result.model_copy(update={"p_value": float(min(max(p, 0.0), 1.0)), "null_quantile": quantile})
        out[name] = gated(result, result.p_value, significance)
    return out


def numerical_drift(reference: pl.Series, production: pl.Series, *, thresholds: Mapping[str, Threshold],
                    significance: Significance | None = DEFAULT_SIGNIFICANCE,
                    binning: Binning = "equal_width", profile: bool = False) -> FeatureResult:
    """JS distance, PSI and NWD over Sturges bins and raw values, and the KS p-value, for one feature.

    ``binning``: {'equal_width', 'quantile'}; ``m.sturges_edges`` (Azure ML's) or ``m.quantile_edges``
    (reference quantiles, open ends) for JS, PSI and the stored histogram. ``significance``: the gate's
    settings (``signals.gate``); ``None`` gives Azure ML's bare threshold verdicts. The nulls are
    ``signals.nulls``: closed form or permutation for JS and PSI, the Brownian-bridge limit for NWD.
    ``profile``: ``details["profile"]`` is ``signals.profile.numerical_profile`` of both sides, from the
    values converted and sorted here (no second conversion and sort of each side).
    """
    moments: list[Moments] | None = [] if profile else None
    ref, ref_nulls, ref_inf = numeric_values(reference, moments=moments)
    prod, prod_nulls, prod_inf = numeric_values(production, moments=moments, skewness=False)
    names = ("jensen_shannon_distance", "normalized_wasserstein_distance", "population_stability_index",
             "two_sample_kolmogorov_smirnov_test")
    counts = {"reference": len(ref), "production": len(prod)}
    details: dict[str, object] = {"null_counts": {"reference": ref_nulls, "production": prod_nulls},
                                  "infinite_counts": {"reference": ref_inf, "production": prod_inf}}
    profiled = (None if moments is None else sorted_profile(
        (moments[0], ref), (moments[1], prod), nulls=(reference.null_count(), production.null_count())))
    if len(ref) == 0 or len(prod) == 0:
        empty = "reference" if len(ref) == 0 else "production"
        return FeatureResult(kind="numerical", row_counts=counts, details=_with_profile(details, profiled),
                             metrics=_metric_results(dict.fromkeys(names), thresholds,
                                                     reason=f"no finite values in {empty}"))
    edges = m.quantile_edges(ref, prod) if binning == "quantile" else m.sturges_edges(ref, prod)
    ref_counts, prod_counts = m.bin_counts(ref, edges), m.bin_counts(prod, edges)
    gap = m.EcdfGap.of(ref, prod)
    std = m.reference_std(ref)
    values = {
        "jensen_shannon_distance": m.jensen_shannon_distance(ref_counts, prod_counts),
        "normalized_wasserstein_distance": m.normalized_wasserstein_distance(ref, prod, gap=gap, std=std),
        "population_stability_index": m.population_stability_index(ref_counts, prod_counts),
        "two_sample_kolmogorov_smirnov_test": m.ks_two_sample_pvalue(ref, prod, gap=gap),
    }
    nulls: dict[str, MomentNull] = {}
    if significance is not None:
        nulls = table_nulls(ref_counts, prod_counts, replicates=significance.replicates, seed=significance.seed)
        nulls["normalized_wasserstein_distance"] = nwd_null(gap.merged, len(ref), len(prod), scale=m.nwd_scale(std),
                                                            replicates=significance.replicates, seed=significance.seed)
        details["nulls"] = {name: null.method for name, null in nulls.items()}
    details["binning"] = binning
    histogram = Histogram(kind="numerical", edges=edges.tolist(), reference=ref_counts.tolist(),
                          production=prod_counts.tolist())
    return FeatureResult(kind="numerical", row_counts=counts,
                         metrics=judged_metrics(values, thresholds, nulls, significance), histogram=histogram,
                         details=_with_profile(details, profiled))


def categorical_drift(reference: pl.Series, production: pl.Series, *, thresholds: Mapping[str, Threshold],
                      top_categories: int = TOP_CATEGORIES, significance: Significance | None = DEFAULT_SIGNIFICANCE,
                      pool_sparse: bool | None = None, profile: bool = False) -> FeatureResult:
    """JS distance, PSI and the chi-squared p-value over the union of categories, for one feature.

    ``pool_sparse``: pool the categories with expected count below 5 before the chi-squared test
    (``m.pool_sparse``); ``None`` (default) pools exactly when the gate is on, so ``significance=None``
    keeps the unpooled, Azure-ML-compatible p-value. JS and PSI are always on the full table.
    ``profile``: ``details["profile"]`` is ``signals.profile.categorical_profile`` of both sides, from the
    distinct values counted here (``signals.categories.distinct_counts``: each side is counted once).
    """
    return counted_categorical_drift(distinct_counts(reference), distinct_counts(production), thresholds=thresholds,
                                     top_categories=top_categories, significance=significance,
                                     pool_sparse=pool_sparse, profile=profile)


def counted_categorical_drift(reference: tuple[pl.Series, np.ndarray], production: tuple[pl.Series, np.ndarray], *,
                              thresholds: Mapping[str, Threshold], top_categories: int = TOP_CATEGORIES,
                              significance: Significance | None = DEFAULT_SIGNIFICANCE, pool_sparse: bool | None = None,
                              profile: bool = False) -> FeatureResult:
    """``categorical_drift`` from each side's distinct values and their counts (``distinct_counts``, or a
    streaming group-by of a column that is not in memory): the same result, from the counts alone."""
    ref, ref_nulls = keyed_counts(*reference)
    prod, prod_nulls = keyed_counts(*production)
    profiled = _categorical_profile(reference, production) if profile else None
    names = ("jensen_shannon_distance", "population_stability_index", "pearsons_chi_squared_test")
    n_ref, n_prod = sum(ref.values()), sum(prod.values())
    counts = {"reference": n_ref, "production": n_prod}
    details: dict[str, object] = {"null_counts": {"reference": ref_nulls, "production": prod_nulls},
                                  "categories": {"reference": len(ref), "production": len(prod),
                                                 "unseen_in_reference": len(prod.keys() - ref.keys())}}
    if n_ref == 0 or n_prod == 0:
        empty = "reference" if n_ref == 0 else "production"
        return FeatureResult(kind="categorical", row_counts=counts, details=_with_profile(details, profiled),
                             metrics=_metric_results(dict.fromkeys(names), thresholds,
                                                     reason=f"no non-null values in {empty}"))
    union = sorted(ref.keys() | prod.keys(), key=lambda c: (-(ref.get(c, 0) + prod.get(c, 0)), c))
    ref_counts = np.array([ref.get(c, 0) for c in union], dtype=np.int64)
    prod_counts = np.array([prod.get(c, 0) for c in union], dtype=np.int64)
    pool = significance is not None if pool_sparse is None else pool_sparse
    values = {
        "jensen_shannon_distance": m.jensen_shannon_distance(ref_counts, prod_counts),
        "population_stability_index": m.population_stability_index(ref_counts, prod_counts),
        "pearsons_chi_squared_test": m.chi_squared_pvalue(ref_counts, prod_counts,
                                                          min_expected=MIN_EXPECTED if pool else 0.0),
    }
    details["chi_squared_pooled"] = pool
    nulls: dict[str, MomentNull] = {}
    if significance is not None:
        nulls = table_nulls(ref_counts, prod_counts, replicates=significance.replicates, seed=significance.seed)
        details["nulls"] = {name: null.method for name, null in nulls.items()}
    keep = union[:top_categories]
    ref_hist, prod_hist = ref_counts[:top_categories].tolist(), prod_counts[:top_categories].tolist()
    if len(union) > top_categories:
        keep = [*keep, OTHER]
        ref_hist.append(int(ref_counts[top_categories:].sum()))
        prod_hist.append(int(prod_counts[top_categories:].sum()))
    histogram = Histogram(kind="categorical", categories=keep, reference=ref_hist, production=prod_hist)
    return FeatureResult(kind="categorical", row_counts=counts,
                         metrics=judged_metrics(values, thresholds, nulls, significance), histogram=histogram,
                         details=_with_profile(details, profiled))


def _categorical_profile(reference: tuple[pl.Series, np.ndarray], production: tuple[pl.Series, np.ndarray]
                         ) -> dict[str, object] | None:
    """``signals.profile.categorical_profile`` (values keyed by their text, nulls without NaN) from the
    distinct values' counts; None when it cannot be made (a profile is an extra, as in ``attach_profiles``)."""
    try:
        (r, r_nulls), (p, p_nulls) = text_counts(*reference), text_counts(*production)
    except (pl.exceptions.PolarsError, ValueError, TypeError):
        return None
    return counted_profile(r, p, nulls=(r_nulls, p_nulls))


def compute_drift(production: pl.DataFrame, reference: pl.DataFrame, *, signal_type: str,
                  features: Sequence[str], kinds: Mapping[str, FeatureKind],
                  thresholds: Mapping[str, Mapping[str, Threshold]],
                  on_feature: Callable[[str], None] | None = None, workers: int = DEFAULT_WORKERS,
                  significance: Significance | None = DEFAULT_SIGNIFICANCE, binning: Binning = "equal_width",
                  pool_sparse: bool | None = None, profile: bool = False) -> SignalResult:
    """Drift of every feature between two windows; ``kinds`` says how each feature is compared.

    ``thresholds`` maps a feature kind to ``{metric: threshold}``, a number or ``'auto'`` (the
    (1 - alpha) quantile of the metric's null at the current sizes); metrics without one are still
    computed and stored, with a null threshold and verdict. ``workers`` features are computed at once.
    ``significance`` (default ``Significance()``: alpha 0.01, Holm) gates every verdict, corrected across
    the features per metric; ``None`` reproduces Azure ML's verdicts and values exactly. ``binning`` and
    ``pool_sparse``: see ``numerical_drift`` and ``categorical_drift``. ``profile``: every feature's
    ``details["profile"]`` (``signals.profile``), made in the feature's own computation from its values
    already converted, sorted and counted.
    """
    check_thresholds(thresholds, significance)
    if binning not in ("equal_width", "quantile"):
        raise ValueError(f"binning is {binning!r}; valid: equal_width, quantile")

    def one(feature: str) -> FeatureResult:
        ref, prod = reference.get_column(feature), production.get_column(feature)
        if kinds[feature] == "numerical":
            result = numerical_drift(ref, prod, thresholds=thresholds.get("numerical", {}),
                                     significance=significance, binning=binning, profile=profile)
        else:
            result = categorical_drift(ref, prod, thresholds=thresholds.get("categorical", {}),
                                       significance=significance, pool_sparse=pool_sparse, profile=profile)
        if on_feature is not None:
            on_feature(feature)
        return result

    # numpy's sorts and merges release the GIL: features overlap on a multi-core instance.
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(features)))) as pool:
        results = dict(zip(features, pool.map(one, features), strict=True))
    if significance is not None:
        results = apply_gate(results, significance)
    return SignalResult(type=signal_type, status="completed", features=results, significance=significance,
                        row_counts={"reference": reference.height, "production": production.height})


__all__ = ["OTHER", "TOP_CATEGORIES", "Binning", "Threshold", "categorical_drift", "compute_drift",
           "counted_categorical_drift", "judged_metrics", "numerical_drift"]
