"""Compute a signal within a memory budget: a few columns at a time, or one feature by value range.

A per-feature signal (``SignalInfo.per_feature``) whose windows' rows (parquet metadata,
``monitoring.run.batching.signal_rows``) and features do not fit the budget is computed in column groups:
each group is one ``compute_signal`` call on its features, which reads only those columns of both windows
and goes through every hook of ``monitoring.run.compute`` (missing features with "did you mean", unparsed
timestamps, unsupported columns, segments, profiles), and is released before the next. The groups merge
with ``merge_batches``, which gates the verdicts again across every feature of the signal, so grouping
never changes a verdict. The group width comes from the model of ``monitoring.run.batching`` (measured by
``bench/activity_memory.py``): the most features whose computation over those rows fits.

When even one feature of both windows does not fit, a signal whose record says ``value_ranges`` (the
drift signals) computes each numerical feature by value range (``monitoring.data.ranges``), one range at
a time, and each categorical feature from its distinct values counted by a streaming group-by
(``signals.categories.streamed_distinct_counts``: memory follows the categories, not the rows), both with
exactly the in-memory result; its other features are computed one at a time. A signal whose record has
a ``chunked`` function (data quality: every rate is a count over rows, every reference statistic merges
over chunks) computes each feature from chunks of its rows that polars streams from the files, with
exactly the in-memory result but for the feature's profile (quantiles need the whole column: left out).
Not split (read whole, one at a time): a segmented signal, quantile binning, windows that can only be
read whole (model data collector, joined outputs), and numerical sides of at most 10,000 values (the
exact KS p-value needs the samples). Rows unknown from metadata (CSV, JSONL): computed whole.
"""

from __future__ import annotations

import logging
import math
import os
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from monitoring.data.ranges import FeatureSummary, needs_split, side_stats, split_numerical_drift, summarize_all
from monitoring.errors import MonitoringError
from monitoring.run.batching import BASE_MIB, PER_MILLION_ROW_FEATURES_MIB, PER_MILLION_ROWS_MIB, signal_rows
from monitoring.run.compute import (
    WindowReader,
    compute_signal,
    merge_batches,
    missing_feature,
    one_unsupported_note,
)
from monitoring.run.plan import SignalPlan
from monitoring.settings import get_settings
from monitoring.storage.base import Store
from monitoring.text import one_line
from signals.categories import streamed_distinct_counts
from signals.drift import counted_categorical_drift
from signals.info import DEFAULT_SIGNIFICANCE, Significance
from signals.kinds import INTEGER_CATEGORICAL_RATIO, infer_kind
from signals.registry import SignalInfo, signal_info
from signals.results import FeatureResult, SignalResult

log = logging.getLogger(__name__)

#: Share of the machine's memory a local run uses when neither ``--memory-mb`` nor ``MEMORY_BUDGET_MB`` is set.
DEFAULT_SHARE = 0.4
#: Bytes per value of a value range in flight: both sides read, sorted, pooled, and the ECDF arrays of
#: ``signals.ecdf_ranges.range_contribution`` (argsort, merged, running counts, gaps). Measured by
#: ``bench/scale.py --range-memory`` (2026-12-01, polars 2.1.0): one range activity's peak RSS less its RSS
#: before is about 50 MiB (the streaming scan's buffers, within ``BASE_MIB``) plus 68-85 bytes per value of
#: both sides over ranges of 0.18-4.0 million values of 1-100 files a side; rounded up.
RANGE_BYTES = 96


def memory_budget_mb(megabytes: int | None = None) -> int:
    """The local budget in MiB: ``megabytes`` if given, else ``MEMORY_BUDGET_MB``, else 40% of the machine."""
    if megabytes is None:
        megabytes = get_settings().memory_budget_mb
    if megabytes is not None:
        return megabytes
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * DEFAULT_SHARE / 2**20)


def group_width(rows: int, budget_mb: float) -> int:
    """Features computed together over ``rows`` (both sides) within ``budget_mb``; 0 if one does not fit."""
    million = rows / 1e6
    if million == 0:
        return 1 << 30
    room = budget_mb - BASE_MIB - PER_MILLION_ROWS_MIB * million
    return max(0, math.floor(room / (PER_MILLION_ROW_FEATURES_MIB * million)))


def range_budget_rows(budget_mb: float) -> int:
    """Values of both sides per value range: a range is read, sorted and compared alone."""
    return max(1000, int(max(budget_mb - BASE_MIB, 1.0) * 2**20 // RANGE_BYTES))


def compute_bounded(plan: SignalPlan, *, budget_mb: float, features: list[str] | None = None,
                    on_feature: Callable[[str], None] | None = None, store: Store | None = None,
                    reraise: tuple[type[BaseException], ...] = (), windows: WindowReader | None = None
                    ) -> SignalResult:
    """``compute_signal`` within ``budget_mb`` (see the module); as there, failures are results, except
    ``reraise``. ``windows``: as ``compute_signal``'s (the run's shared windows)."""
    if plan.error or plan.unsupported:
        return compute_signal(plan, features=features, on_feature=on_feature, store=store, reraise=reraise)
    info = signal_info(plan.type)
    chosen = list(plan.features if features is None else features)

    def group(batch: list[str]) -> SignalResult:
        return compute_signal(plan, features=batch, on_feature=on_feature, store=store, reraise=reraise,
                              windows=windows)

    if not info.per_feature or plan.production is None or plan.reference is None:
        return compute_signal(plan, features=features, on_feature=on_feature, store=store, reraise=reraise,
                              windows=windows)
    try:
        rows = signal_rows(plan.production, plan.reference)
        width = len(chosen) if rows is None else group_width(rows, budget_mb)
        if width >= len(chosen):
            return group(chosen)
        return _bounded(plan, info, chosen, width, budget_mb, group, on_feature)
    except reraise:
        raise
    except MonitoringError as exc:
        return SignalResult(type=plan.type, status="failed", error=one_line(str(exc)), notes=plan.notes)
    except Exception as exc:  # noqa: BLE001 - as compute_signal: recorded with its type; the others go on
        log.error("signal %s failed:\n%s", plan.name, traceback.format_exc())
        return SignalResult(type=plan.type, status="failed", error=one_line(f"{type(exc).__name__}: {exc}"),
                            notes=plan.notes)


def _bounded(plan: SignalPlan, info: SignalInfo, chosen: list[str], width: int, budget_mb: float,
             group: Callable[[list[str]], SignalResult], on_feature: Callable[[str], None] | None) -> SignalResult:
    assert plan.production is not None
    assert plan.reference is not None
    sides = (set(plan.production.columns()), set(plan.reference.columns()))
    present = [f for f in chosen if all(f in side for side in sides)]
    absent = [f for f in chosen if f not in present] if info.selects_features else []
    if not present:  # compute_signal names the missing features, or fails the signal as it does
        return group(chosen)
    ranged: list[SignalResult] = []
    rest = present
    if width == 0 and splittable(plan, info):
        ranged, rest = _by_range(plan, info, present, range_budget_rows(budget_mb), on_feature)
    elif width == 0 and info.chunked is not None and not plan.segment:
        ranged, rest = _by_chunks(plan, info, present, range_budget_rows(budget_mb), on_feature)
    step = max(1, width)
    groups = [rest[i:i + step] for i in range(0, len(rest), step)]
    parts = [*(group(g + (absent if i == 0 else [])) for i, g in enumerate(groups)), *ranged]
    if absent and not groups:  # after a part with the row counts: the merge keeps the first part's
        parts.append(_missing_part(plan, absent))
    return _ordered(merge_batches(plan.type, parts), chosen)


def splittable(plan: SignalPlan, info: SignalInfo) -> bool:
    """Whether the signal's numerical features may be split by value range (see the module)."""
    binning = plan.options.get("binning", "equal_width")
    return info.value_ranges and not plan.segment and binning == "equal_width"


def significance_of(options: Mapping[str, Any]) -> Significance | None:
    """The gate's settings of a drift signal's options (the default when the options name none)."""
    value = options.get("significance", DEFAULT_SIGNIFICANCE)
    return Significance(**value) if isinstance(value, dict) else value


def lazy_kind(plan: SignalPlan, feature: str, reference: pl.LazyFrame) -> str | None:
    """The kind of ``feature`` by the rules of ``signals.kinds`` (override, then type) without reading the
    column: an integer column counts its distinct values in one streaming pass; None: not monitored."""
    override = plan.feature_overrides.get(feature)
    if override is not None:
        return override
    dtype = reference.collect_schema()[feature]
    if not dtype.is_integer():
        return infer_kind(pl.Series(feature, [], dtype=dtype))  # decided by the type alone
    n, distinct = reference.select(pl.len(), pl.col(feature).n_unique()).collect(engine="streaming").row(0)
    return "numerical" if n == 0 or distinct / n >= INTEGER_CATEGORICAL_RATIO else "categorical"


def is_numerical(plan: SignalPlan, feature: str, reference: pl.LazyFrame) -> bool:
    """Whether ``feature`` is numerical (``lazy_kind``)."""
    return lazy_kind(plan, feature, reference) == "numerical"


@dataclass(frozen=True)
class _Scans:
    """Both windows scanned (nothing read), their unparsed-timestamp counts and each feature's kind."""

    reference: pl.LazyFrame
    production: pl.LazyFrame
    unparsed: dict[str, int]
    kinds: dict[str, str | None]


def _scans(plan: SignalPlan, present: list[str]) -> _Scans | None:
    """The windows of ``present`` as scans; None when a window can only be read whole."""
    assert plan.production is not None
    assert plan.reference is not None
    ref_scan, prod_scan = plan.reference.scan(present), plan.production.scan(present)
    if ref_scan is None or prod_scan is None:
        return None
    (reference, ref_unparsed), (production, prod_unparsed) = ref_scan, prod_scan
    unparsed = {side: n for side, n in (("production", prod_unparsed), ("reference", ref_unparsed)) if n}
    return _Scans(reference, production, unparsed, {f: lazy_kind(plan, f, reference) for f in present})


def _by_range(plan: SignalPlan, info: SignalInfo, present: list[str], budget_rows: int,
              on_feature: Callable[[str], None] | None) -> tuple[list[SignalResult], list[str]]:
    """The results of the features split by value range (one each) and the features left to compute whole."""
    scans = _scans(plan, present)
    if scans is None:
        return [], present
    reference, production, unparsed = scans.reference, scans.production, scans.unparsed
    numerical = [f for f in present if scans.kinds[f] == "numerical"]
    counted = [f for f in present if scans.kinds[f] == "categorical"]
    # one pass of every feature's counts; the samples have passes of their own (taken in this pass through
    # pl.collect_all, polars would cache the frame of all these columns to share its scan)
    ref_stats, prod_stats = side_stats(reference, numerical), side_stats(production, numerical)
    split = [f for f in numerical if needs_split(ref_stats[f], prod_stats[f])]
    # phase 1 of every split feature at once: each round's counts below in one pass per side
    summaries = summarize_all(reference, production, {f: (ref_stats[f], prod_stats[f]) for f in split},
                              budget_rows=budget_rows)
    results = []
    for f in split:
        results.append(_one(plan, info, (reference.select(f), production.select(f)), summaries[f], unparsed))
        if on_feature is not None:
            on_feature(f)
    for f in counted:
        results.append(_counted(plan, info, f, (reference, production), unparsed))
        if on_feature is not None:
            on_feature(f)
    return results, [f for f in present if f not in split and f not in counted]


#: Rows of a chunk per value of a range's budget: a chunk is conformed into a few columns of its length.
CHUNK_SHARE = 0.25


def _by_chunks(plan: SignalPlan, info: SignalInfo, present: list[str], budget_rows: int,
               on_feature: Callable[[str], None] | None) -> tuple[list[SignalResult], list[str]]:
    """The results of the features computed from chunks of their rows (``SignalInfo.chunked``: one each,
    each side streamed by polars in chunks), and the features left to compute whole (not monitored)."""
    assert info.chunked is not None
    scans = _scans(plan, present)
    if scans is None:
        return [], present
    reference, production, unparsed, kinds = scans.reference, scans.production, scans.unparsed, scans.kinds
    schemas = reference.collect_schema(), production.collect_schema()
    rows = max(10_000, int(budget_rows * CHUNK_SHARE))

    def chunks(frame: pl.LazyFrame, feature: str) -> Iterator[pl.Series]:
        return (batch.to_series() for batch in frame.select(feature).collect_batches(chunk_size=rows))

    results = []
    for f, kind in kinds.items():
        if kind is None:
            continue
        result = info.chunked(chunks(reference, f), chunks(production, f), kind=kind,
                              thresholds=plan.thresholds.get(kind, {}), dtypes=(schemas[0][f], schemas[1][f]),
                              significance=significance_of(plan.options))
        results.append(one_feature_result(plan, f, result, rows=(result.row_counts["reference"],
                                                                 result.row_counts["production"]), unparsed=unparsed))
        if on_feature is not None:
            on_feature(f)
    return results, [f for f, kind in kinds.items() if kind is None]


def _counted(plan: SignalPlan, info: SignalInfo, feature: str, frames: tuple[pl.LazyFrame, pl.LazyFrame],
             unparsed: Mapping[str, int]) -> SignalResult:
    """A categorical feature from each side's distinct values counted by a streaming group-by (category
    counts are sums: exactly the in-memory result, in memory that follows the categories, not the rows)."""
    ref, prod = (streamed_distinct_counts(frame, feature) for frame in frames)
    result = counted_categorical_drift(ref, prod, thresholds=plan.thresholds.get("categorical", {}),
                                       significance=significance_of(plan.options), profile=info.profiled,
                                       pool_sparse=plan.options.get("pool_sparse"))
    return one_feature_result(plan, feature, result, rows=(int(ref[1].sum()), int(prod[1].sum())),
                              unparsed=unparsed)


def _one(plan: SignalPlan, info: SignalInfo, frames: tuple[pl.LazyFrame, pl.LazyFrame], summary: FeatureSummary,
         unparsed: Mapping[str, int]) -> SignalResult:
    result = split_numerical_drift(*frames, summary, thresholds=plan.thresholds.get("numerical", {}),
                                   significance=significance_of(plan.options), profiled=info.profiled)
    return one_feature_result(plan, summary.feature, result, rows=(summary.reference.rows, summary.production.rows),
                              unparsed=unparsed)


def one_feature_result(plan: SignalPlan, feature: str, result: FeatureResult, *, rows: tuple[int, int],
                       unparsed: Mapping[str, int]) -> SignalResult:
    """A value-range feature as a batch result, with the row counts and unparsed-timestamp notes that
    ``compute_signal`` gives its batches."""
    notes = [*plan.notes, *(f"{n} rows of {side} had unparsable timestamps and were left out"
                            for side, n in unparsed.items())]
    counts = {"reference": rows[0], "production": rows[1],
              **{f"unparsed_timestamps_{side}": n for side, n in unparsed.items()}}
    return SignalResult(type=plan.type, status="completed", features={feature: result}, notes=notes,
                        significance=significance_of(plan.options), row_counts=counts)


def _missing_part(plan: SignalPlan, absent: list[str]) -> SignalResult:
    """Listed features missing on a side when every present one was split: compute_signal's results."""
    assert plan.production is not None
    assert plan.reference is not None
    sides = (("production", plan.production.columns()), ("reference", plan.reference.columns()))
    features = {f: missing_feature(f, next(s for s, cols in sides if f not in cols),
                                    next(cols for _, cols in sides if f not in cols)) for f in absent}
    return SignalResult(type=plan.type, status="completed", features=features, notes=plan.notes,
                        significance=significance_of(plan.options))


def _ordered(result: SignalResult, chosen: list[str]) -> SignalResult:
    """The merged result with the features in the listed order (missing ones last, as ``compute_signal``)
    and one note listing every unsupported column in that order."""
    if result.status != "completed":
        return result
    order = {f: i for i, f in enumerate(chosen)}
    missing = {f for f, r in result.features.items() if r.kind == "unknown"}
    features = dict(sorted(result.features.items(), key=lambda kv: (kv[0] in missing, order.get(kv[0], 0))))
    return one_unsupported_note(result.model_copy(update={"features": features}), order)


def budget_per_signal(budget_mb: float, parallel: int) -> float:
    """Each of ``parallel`` signals computed at once gets an equal share of the budget."""
    return budget_mb / max(1, parallel)


__all__ = ["DEFAULT_SHARE", "RANGE_BYTES", "budget_per_signal", "compute_bounded", "group_width", "is_numerical",
           "lazy_kind", "memory_budget_mb", "one_feature_result", "range_budget_rows", "significance_of", "splittable"]
