"""The one registry of metrics and signal types: plain data, lookups built from it.

A new metric is one ``MetricInfo``; a new signal type is one ``SignalInfo``. The monitor definition
builds its threshold schemas, and error messages their "valid names", from these records, so they cannot
drift apart. Signal compute functions are resolved lazily (``module:function``) so that importing the
registry, as the definition schema does, stays cheap and free of cycles.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

FeatureKind = Literal["numerical", "categorical"]


@dataclass(frozen=True)
class MetricInfo:
    """A metric: its YAML name, older names, the groups it applies to and its breach direction."""

    name: str
    groups: tuple[str, ...]
    greater_is_better: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignalInfo:
    """A signal type: the function computing it, its metric groups and default thresholds."""

    type: str
    compute: str | None
    metrics: tuple[MetricInfo, ...]
    defaults: dict[str, dict[str, float]]
    per_feature: bool = True
    reason_unsupported: str | None = None

    def compute_function(self) -> Callable[..., Any]:
        if self.compute is None:
            raise LookupError(f"signal type {self.type!r} has no implementation: {self.reason_unsupported}")
        module, _, name = self.compute.partition(":")
        return getattr(importlib.import_module(module), name)


_DRIFT = (
    MetricInfo("jensen_shannon_distance", ("numerical", "categorical")),
    MetricInfo("normalized_wasserstein_distance", ("numerical",)),
    MetricInfo("population_stability_index", ("numerical", "categorical")),
    MetricInfo("two_sample_kolmogorov_smirnov_test", ("numerical",), greater_is_better=True),
    MetricInfo("pearsons_chi_squared_test", ("categorical",), greater_is_better=True,
               aliases=("chi_squared_test",)),
)
_DRIFT_DEFAULTS = {"numerical": {"normalized_wasserstein_distance": 0.1},
                   "categorical": {"jensen_shannon_distance": 0.1}}
_QUALITY = tuple(
    MetricInfo(name, ("numerical", "categorical"), aliases=aliases)
    for name, aliases in (("null_value_rate", ()), ("data_type_error_rate", ()),
                          ("out_of_bounds_rate", ("out_of_bound_rate",)))
)
_QUALITY_DEFAULTS = {g: {m.name: 0.0 for m in _QUALITY} for g in ("numerical", "categorical")}
_PERFORMANCE = (
    MetricInfo("accuracy", ("classification",), greater_is_better=True),
    MetricInfo("precision", ("classification",), greater_is_better=True),
    MetricInfo("recall", ("classification",), greater_is_better=True),
    MetricInfo("f1_score", ("classification",), greater_is_better=True, aliases=("f1",)),
    MetricInfo("mae", ("regression",), aliases=("mean_absolute_error",)),
    MetricInfo("mse", ("regression",), aliases=("mean_squared_error",)),
    MetricInfo("rmse", ("regression",), aliases=("root_mean_squared_error",)),
)

SIGNALS: tuple[SignalInfo, ...] = (
    SignalInfo("data_drift", "signals.drift:compute_drift", _DRIFT, _DRIFT_DEFAULTS),
    SignalInfo("prediction_drift", "signals.drift:compute_drift", _DRIFT, _DRIFT_DEFAULTS),
    SignalInfo("data_quality", "signals.quality:compute_quality", _QUALITY, _QUALITY_DEFAULTS),
    SignalInfo(
        "feature_attribution_drift", "signals.attribution:compute_attribution",
        (MetricInfo("normalized_discounted_cumulative_gain", ("model",), greater_is_better=True),),
        {"model": {"normalized_discounted_cumulative_gain": 0.9}}, per_feature=False,
    ),
    SignalInfo("model_performance", "signals.performance:compute_performance", _PERFORMANCE, {},
               per_feature=False),
    SignalInfo("custom", "signals.custom:compute_custom", (), {}, per_feature=False),
)

BY_TYPE: MappingProxyType[str, SignalInfo] = MappingProxyType({s.type: s for s in SIGNALS})

METRICS_BY_SIGNAL: MappingProxyType[str, dict[str, tuple[str, ...]]] = MappingProxyType({
    s.type: {
        group: tuple(m.name for m in s.metrics if group in m.groups)
        for group in dict.fromkeys(g for m in s.metrics for g in m.groups)
    }
    for s in SIGNALS
})
DEFAULT_THRESHOLDS: MappingProxyType[tuple[str, str], dict[str, float]] = MappingProxyType({
    (s.type, group): dict(values) for s in SIGNALS for group, values in s.defaults.items()
})
METRIC_ALIASES: MappingProxyType[str, str] = MappingProxyType({
    alias: m.name for s in SIGNALS for m in s.metrics for alias in m.aliases
})
GREATER_IS_BETTER: frozenset[str] = frozenset(m.name for s in SIGNALS for m in s.metrics if m.greater_is_better)


def signal_info(signal_type: str) -> SignalInfo:
    """The record of a signal type; an unknown type lists the registered ones."""
    try:
        return BY_TYPE[signal_type]
    except KeyError:
        raise LookupError(
            f"unknown signal type {signal_type!r}; registered types: {', '.join(BY_TYPE)}"
        ) from None


__all__ = [
    "BY_TYPE", "DEFAULT_THRESHOLDS", "GREATER_IS_BETTER", "METRICS_BY_SIGNAL", "METRIC_ALIASES",
    "FeatureKind", "MetricInfo", "SIGNALS", "SignalInfo", "signal_info",
]
