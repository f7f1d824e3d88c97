"""Custom signals: Python functions registered in the app by name, never loaded from a path in a YAML.

A monitor's ``component_id`` names a registered signal; only modules listed in
:data:`CUSTOM_SIGNAL_MODULES` are imported to find registrations, so code named in a monitor YAML runs only
if it was shipped with the app and registered there. A custom signal receives lazy frames of the windowed
(and segmented) production and reference data and the YAML's ``inputs``, and returns rows of
``(group, metric_name, value)``: a list of tuples or a polars frame with those three columns. Each row
becomes one metric of the group ``group``; thresholds come from the YAML's ``metric_thresholds`` list by
metric name. A metric breaches above its threshold unless its name is greater-is-better, either in the
registry (``accuracy``, p-values...) or declared by the registration::

    @register_custom_signal("category_coverage", greater_is_better={"coverage"})
    def coverage(production: pl.LazyFrame, reference: pl.LazyFrame, inputs: dict) -> list[tuple]:
        ...
"""

from __future__ import annotations

import importlib
import logging
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import polars as pl

from signals.registry import GREATER_IS_BETTER, FeatureKind
from signals.results import FeatureResult, SignalResult, judge

log = logging.getLogger(__name__)

#: Modules imported to collect registrations. Adding a module here is a code change, on purpose.
CUSTOM_SIGNAL_MODULES: tuple[str, ...] = ("monitoring.demo.custom_signals",)

CustomFunction = Callable[[pl.LazyFrame, pl.LazyFrame, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class CustomSignalInfo:
    """A registered custom signal: its name, function and the metric names that are greater-is-better."""

    name: str
    function: CustomFunction
    greater_is_better: frozenset[str] = frozenset()
    description: str | None = None


_REGISTRY: dict[str, CustomSignalInfo] = {}


def register_custom_signal(name: str, *, greater_is_better: Iterable[str] = (),
                           description: str | None = None) -> Callable[[CustomFunction], CustomFunction]:
    """Register ``function`` as the custom signal ``name`` (the YAML's ``component_id``).

    Registering a second, different function under a name already taken is an error: two modules must
    not silently compete for one monitor's signal.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ValueError(f"custom signal name {name!r} must be letters, digits, `_`, `-` or `.`")

    def decorate(function: CustomFunction) -> CustomFunction:
        existing = _REGISTRY.get(name)
        qualified = f"{function.__module__}.{function.__qualname__}"
        if existing is not None and f"{existing.function.__module__}.{existing.function.__qualname__}" != qualified:
            raise ValueError(f"custom signal {name!r} is already registered by "
                             f"{existing.function.__module__}.{existing.function.__qualname__}")
        _REGISTRY[name] = CustomSignalInfo(name=name, function=function,
                                           greater_is_better=frozenset(greater_is_better),
                                           description=description or (function.__doc__ or "").strip().split("\n")[0])
        return function

    return decorate


def _import(modules: Sequence[str]) -> list[str]:
    """Import the registration modules; return those that are not installed (e.g. not deployed)."""
    missing: list[str] = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise  # the module exists but one of its own imports is missing: a bug to surface
            log.warning("custom signal module %s (signals.custom.CUSTOM_SIGNAL_MODULES) is not installed", module)
            missing.append(module)
    return missing


def registered_signals(modules: Sequence[str] = CUSTOM_SIGNAL_MODULES) -> MappingProxyType[str, CustomSignalInfo]:
    """Every registered custom signal, after importing the registration ``modules`` that are installed."""
    _import(modules)
    return MappingProxyType(dict(_REGISTRY))


def signal_name(component_id: str) -> str:
    """The registered name a ``component_id`` refers to: ``azureml:`` and a ``:<version>`` suffix removed.

    >>> signal_name("azureml:category_coverage:1.0.0")
    'category_coverage'
    >>> signal_name("category_coverage")
    'category_coverage'
    """
    return component_id.strip().removeprefix("azureml:").split(":", 1)[0]


def lookup(component_id: str, *, modules: Sequence[str] = CUSTOM_SIGNAL_MODULES) -> CustomSignalInfo:
    """The registered signal a ``component_id`` names; an unknown name lists the registered ones."""
    missing = _import(modules)
    registry = MappingProxyType(dict(_REGISTRY))
    name = signal_name(component_id)
    try:
        return registry[name]
    except KeyError:
        known = ", ".join(sorted(registry)) or "none"
        absent = f" (modules not installed: {', '.join(missing)})" if missing else ""
        raise LookupError(
            f"custom signal `{component_id}` is not registered in this app; registered custom signals: {known}"
            f"{absent}. Register a function with @register_custom_signal in a module listed in "
            "signals.custom.CUSTOM_SIGNAL_MODULES"
        ) from None


def _rows(output: Any, name: str) -> list[tuple[str, str, Any]]:
    """The (group, metric_name, value) rows of a custom signal's return value, validated."""
    if isinstance(output, pl.LazyFrame):
        output = output.collect()
    if isinstance(output, pl.DataFrame):
        expected = ["group", "metric_name", "value"]
        if not set(expected) <= set(output.columns):
            raise TypeError(f"custom signal `{name}` returned a frame with columns {output.columns}; "
                            "expected group, metric_name, value")
        output = output.select(expected).rows()
    if not isinstance(output, list | tuple):
        raise TypeError(f"custom signal `{name}` returned {type(output).__name__}; expected a list of "
                        "(group, metric_name, value) tuples or a polars frame")
    rows: list[tuple[str, str, Any]] = []
    for i, row in enumerate(output):
        if not isinstance(row, list | tuple) or len(row) != 3:
            raise TypeError(f"custom signal `{name}` row {i} is {row!r}; expected (group, metric_name, value)")
        group, metric, value = row
        if value is not None and not isinstance(value, numbers.Real):
            raise TypeError(f"custom signal `{name}` row {i}: value {value!r} of metric `{metric}` is not a number")
        rows.append((str(group), str(metric), value))
    return rows


def compute_custom(production: pl.DataFrame, reference: pl.DataFrame, *, signal_type: str,
                   features: Sequence[str], kinds: Mapping[str, FeatureKind],
                   thresholds: Mapping[str, Mapping[str, float]],
                   on_feature: Callable[[str], None] | None = None,
                   component_id: str, inputs: Mapping[str, Any] | None = None,
                   modules: Sequence[str] = CUSTOM_SIGNAL_MODULES) -> SignalResult:
    """Run the registered custom signal ``component_id``; one result per group it returns.

    ``thresholds["custom"]`` maps a metric name to its threshold (from the YAML's list); a metric without
    one is stored with a null threshold and verdict. A value that is None or not finite is stored as null.
    """
    info = lookup(component_id, modules=modules)
    output = info.function(production.lazy(), reference.lazy(), dict(inputs or {}))
    rows = _rows(output, info.name)
    limits = thresholds.get("custom", {})
    grouped: dict[str, dict[str, Any]] = {}
    for group, metric, value in rows:
        if metric in grouped.setdefault(group, {}):
            raise ValueError(f"custom signal `{info.name}` returned metric `{metric}` twice for group `{group}`")
        better = metric in GREATER_IS_BETTER or metric in info.greater_is_better
        number = None if value is None else float(value)
        reason = None
        if number is None:
            reason = "the custom signal returned no value"
        elif not math.isfinite(number):
            reason = f"the custom signal returned {number}"
        grouped[group][metric] = judge(number, limits.get(metric), greater_is_better=better, reason=reason)
    unused = sorted(set(limits) - {m for metrics in grouped.values() for m in metrics})
    notes = [f"thresholds for metrics the signal did not return: {', '.join(unused)}"] if unused else []
    features_out = {
        group: FeatureResult(kind="custom", row_counts={"reference": reference.height, "production": production.height},
                             metrics=metrics)
        for group, metrics in grouped.items()
    }
    if on_feature is not None:
        on_feature(info.name)
    return SignalResult(type=signal_type, status="completed", features=features_out, notes=notes,
                        row_counts={"reference": reference.height, "production": production.height})


__all__ = [
    "CUSTOM_SIGNAL_MODULES", "CustomFunction", "CustomSignalInfo", "compute_custom", "lookup",
    "register_custom_signal", "registered_signals", "signal_name",
]
