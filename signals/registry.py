"""The one registry of signal types: plain records, and the lookups built from them.

A ``SignalInfo`` says everything the runner needs to know about a signal type: the function computing
it, its metrics and default thresholds, which columns each side reads, whether it is computed per
feature, which collection of the model data collector its production side reads by default, whether
its features are selected from the data or fixed by its options, whether its segment must be on the
reference too, whether it needs feature importances, and how the results of its feature batches merge.
The runner asks the record and never compares a signal type; how options are built from the YAML is
the definition's job (``monitoring.definition.signals``). The monitor definition builds its threshold
schemas, and error messages their "valid names", from these records, so they cannot drift apart.

The signal modules import :mod:`signals.info`, never this module, so the registry imports them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from signals.attribution import attribution_columns, compute_attribution
from signals.custom import compute_custom, custom_columns
from signals.drift import compute_drift
from signals.gate import apply_gate
from signals.info import (
    ATTRIBUTION_METRICS,
    DRIFT_METRICS,
    PERFORMANCE_METRICS,
    QUALITY_METRICS,
    MetricInfo,
)
from signals.performance import compute_performance, performance_columns
from signals.quality import chunked_feature_quality, compute_quality
from signals.results import FeatureResult, SignalResult

#: ``compute(production, reference, *, signal_type, features, kinds, thresholds, on_feature, **options)``.
ComputeFunction = Callable[..., SignalResult]
#: ``columns(features, options, segment column)``: the columns production and reference read (None: all).
ColumnsFunction = Callable[[Sequence[str], Mapping[str, Any], "str | None"],
                           "tuple[list[str] | None, list[str] | None]"]
#: ``merge(signal_type, batch results)``: one result from the results of the feature batches.
MergeFunction = Callable[[str, "list[SignalResult]"], SignalResult]
#: ``chunked(reference_chunks, production_chunks, *, kind, thresholds, dtypes, significance)``: one feature
#: from chunks of its rows, each side's read once (``signals.quality.chunked_feature_quality``).
ChunkedFunction = Callable[..., FeatureResult]


def feature_columns(features: Sequence[str], options: Mapping[str, Any],
                    segment: str | None) -> tuple[list[str], list[str]]:
    """Both sides read the features and the segment column: what drift and quality compare."""
    wanted = list(dict.fromkeys([*features, *([segment] if segment else [])]))
    return wanted, wanted


def merge_feature_batches(signal_type: str, batches: list[SignalResult]) -> SignalResult:
    """One signal result from the results of its feature batches: the union of their features and notes
    (in batch order), the first batch's row counts; a batch that did not complete wins (the first one).

    Each batch gated its verdicts across its own features only; the merged result is gated again across
    all of them (``signals.gate.apply_gate`` corrects from the raw p-values), so splitting a signal into
    batches never changes a verdict.
    """
    failed = next((b for b in batches if b.status != "completed"), None)
    if failed is not None:
        return failed
    features: dict[str, FeatureResult] = {}
    notes: list[str] = []
    for b in batches:
        features.update(b.features)
        notes += [n for n in b.notes if n not in notes]
    significance = batches[0].significance if batches else None
    if significance is not None:
        features = apply_gate(features, significance)
    return SignalResult(type=signal_type, status="completed", features=features, notes=notes,
                        significance=significance, row_counts=batches[0].row_counts if batches else {})


@dataclass(frozen=True)
class SignalInfo:
    """A signal type and what the runner needs to plan, compute and merge it.

    ``per_feature``: computed feature by feature, so its features can be split into batches (one
    activity each) and a feature missing on one side is a result of its own; otherwise it computes as
    a whole and a missing feature is a note. ``selects_features``: its features come from the data
    (the YAML's list, ``all_features``, top N by importance or the definition's default); otherwise the
    definition fixes them from the options (the prediction column, a custom signal's list) and the
    signal reports missing columns itself. ``production_data``: the collector's collection read when
    the YAML names no production data. ``segment_on_reference``: a reference without the segment
    column is an error (else it is used unsegmented, as ground truth is). ``needs_importance``: the
    runner passes ``reference_importance`` and ``production_importance`` (through the cache), computed
    for the options ``reference_target`` and ``production_target`` with the option ``task``.
    ``profiled``: each feature's summary statistics on both sides go into its ``details`` for the report;
    ``profiles_itself``: its compute function takes ``profile=True`` and makes them from the values it
    converts and sorts anyway (``signals.drift``), else the runner attaches them afterwards.
    ``gated``: its verdicts go through the significance gate (``signals.gate``); the runner passes the
    option ``significance`` (a ``Significance``, or None for Azure ML's bare threshold verdicts).
    """

    type: str
    compute: ComputeFunction | None
    metrics: tuple[MetricInfo, ...]
    defaults: Mapping[str, Mapping[str, float]]
    per_feature: bool = True
    selects_features: bool = True
    columns: ColumnsFunction = feature_columns
    production_data: Literal["model_inputs", "model_outputs"] = "model_inputs"
    segment_on_reference: bool = True
    needs_importance: bool = False
    profiled: bool = False
    profiles_itself: bool = False
    merge: MergeFunction = merge_feature_batches
    reason_unsupported: str | None = None
    gated: bool = False
    #: Numerical features may be computed by value range when one column does not fit in memory: the
    #: signal's numerical results are ``signals.drift.numerical_drift``'s (see ``monitoring.data.ranges``).
    value_ranges: bool = False
    #: A feature whose column does not fit in memory is computed from chunks of its rows, exactly: every
    #: result of the signal is a sum over rows or merges over chunks (its profile, an extra, is left out).
    chunked: ChunkedFunction | None = None

    def compute_function(self) -> ComputeFunction:
        if self.compute is None:
            raise LookupError(f"signal type {self.type!r} has no implementation: {self.reason_unsupported}")
        return self.compute


_DRIFT_DEFAULTS = {"numerical": {"normalized_wasserstein_distance": 0.1},
                   "categorical": {"jensen_shannon_distance": 0.1}}
_QUALITY_DEFAULTS = {g: {m.name: 0.0 for m in QUALITY_METRICS} for g in ("numerical", "categorical")}

SIGNALS: tuple[SignalInfo, ...] = (
    SignalInfo("data_drift", compute_drift, DRIFT_METRICS, _DRIFT_DEFAULTS, profiled=True, profiles_itself=True,
               gated=True, value_ranges=True),
    SignalInfo("prediction_drift", compute_drift, DRIFT_METRICS, _DRIFT_DEFAULTS, production_data="model_outputs",
               profiled=True, profiles_itself=True, gated=True, value_ranges=True),
    SignalInfo("data_quality", compute_quality, QUALITY_METRICS, _QUALITY_DEFAULTS, profiled=True, gated=True,
               chunked=chunked_feature_quality),
    SignalInfo("feature_attribution_drift", compute_attribution, ATTRIBUTION_METRICS,
               {"model": {"normalized_discounted_cumulative_gain": 0.9}}, per_feature=False,
               columns=attribution_columns, needs_importance=True),
    SignalInfo("model_performance", compute_performance, PERFORMANCE_METRICS, {}, per_feature=False,
               selects_features=False, columns=performance_columns, production_data="model_outputs",
               segment_on_reference=False),
    SignalInfo("custom", compute_custom, (), {}, per_feature=False, selects_features=False, columns=custom_columns),
)

_BY_TYPE: dict[str, SignalInfo] = {}
_METRICS_BY_SIGNAL: dict[str, dict[str, tuple[str, ...]]] = {}
_DEFAULT_THRESHOLDS: dict[tuple[str, str], dict[str, float]] = {}
_METRIC_ALIASES: dict[str, str] = {}

BY_TYPE: MappingProxyType[str, SignalInfo] = MappingProxyType(_BY_TYPE)
#: Metric names of each signal type by group (feature kind, task or ``model``).
METRICS_BY_SIGNAL: MappingProxyType[str, dict[str, tuple[str, ...]]] = MappingProxyType(_METRICS_BY_SIGNAL)
DEFAULT_THRESHOLDS: MappingProxyType[tuple[str, str], dict[str, float]] = MappingProxyType(_DEFAULT_THRESHOLDS)
METRIC_ALIASES: MappingProxyType[str, str] = MappingProxyType(_METRIC_ALIASES)


def _index(info: SignalInfo) -> None:
    _BY_TYPE[info.type] = info
    _METRICS_BY_SIGNAL[info.type] = {
        group: tuple(m.name for m in info.metrics if group in m.groups)
        for group in dict.fromkeys(g for m in info.metrics for g in m.groups)
    }
    _DEFAULT_THRESHOLDS.update({(info.type, group): dict(values) for group, values in info.defaults.items()})
    _METRIC_ALIASES.update({alias: m.name for m in info.metrics for alias in m.aliases})


for _info in SIGNALS:
    _index(_info)


@contextmanager
def registered(*infos: SignalInfo) -> Iterator[None]:
    """Register signal types for the duration of a ``with`` block, then restore the registry as it was.

    A type already registered is replaced inside the block. Used by tests, so that a throwaway signal
    type never leaks into the next test.
    """
    tables: tuple[dict[Any, Any], ...] = (_BY_TYPE, _METRICS_BY_SIGNAL, _DEFAULT_THRESHOLDS, _METRIC_ALIASES)
    saved = [dict(t) for t in tables]
    try:
        for info in infos:
            _index(info)
        yield
    finally:
        for table, before in zip(tables, saved, strict=True):
            table.clear()
            table.update(before)


def signal_info(signal_type: str) -> SignalInfo:
    """The record of a signal type; an unknown type lists the registered ones."""
    try:
        return BY_TYPE[signal_type]
    except KeyError:
        raise LookupError(
            f"unknown signal type {signal_type!r}; registered types: {', '.join(BY_TYPE)}"
        ) from None


__all__ = [
    "BY_TYPE", "ColumnsFunction", "ComputeFunction", "DEFAULT_THRESHOLDS", "METRICS_BY_SIGNAL",
    "METRIC_ALIASES", "MergeFunction", "SIGNALS", "SignalInfo", "feature_columns", "merge_feature_batches",
    "registered", "signal_info",
]
