"""Custom signals: Python functions registered in the app by name, never loaded from a path in a YAML.

A monitor's ``component_id`` names a registered signal. ``@register_custom_signal`` marks a function; the
app registers the marked functions of the modules its ``CUSTOM_SIGNAL_MODULES`` setting lists
(``monitoring`` reads the setting and calls :func:`load_modules`), so code named in a monitor YAML runs
only if it was shipped with the app and listed there. This package names no module itself: the deployed
app loads none by default, the local demo loads ``examples.custom_signals``.

A custom signal receives lazy frames of the windowed (and segmented) production and reference data and
the YAML's ``inputs``, and returns rows of ``(group, metric_name, value)``: a list of tuples or a polars
frame with those three columns. Each row becomes one metric of the group ``group``; thresholds come from
the YAML's ``metric_thresholds`` list by metric name. A metric breaches above its threshold unless its
name is greater-is-better, either in the registry (``accuracy``, p-values...) or declared by the
registration::

    @register_custom_signal("category_coverage", greater_is_better={"coverage"})
    def coverage(production: pl.LazyFrame, reference: pl.LazyFrame, inputs: dict) -> list[tuple]:
        ...

The registry is a :class:`CustomRegistry`; :func:`isolated_registry` swaps in a copy for a block (tests
register inside it, and leave the app's registry as they found it).
"""

from __future__ import annotations

import importlib
import logging
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import polars as pl

from signals.info import GREATER_IS_BETTER, FeatureKind
from signals.results import FeatureResult, SignalResult, judge

log = logging.getLogger(__name__)

CustomFunction = Callable[[pl.LazyFrame, pl.LazyFrame, Mapping[str, Any]], Any]
#: Attribute that ``@register_custom_signal`` sets on the function it marks.
MARK = "__custom_signal__"


@dataclass(frozen=True)
class CustomSignalInfo:
    """A registered custom signal: its name, function and the metric names that are greater-is-better."""

    name: str
    function: CustomFunction
    greater_is_better: frozenset[str] = frozenset()
    description: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


@dataclass
class CustomRegistry:
    """Registered custom signals by name, and the listed modules that were not installed."""

    signals: dict[str, CustomSignalInfo] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def add(self, function: CustomFunction) -> CustomFunction:
        """Register a function marked by ``@register_custom_signal``; a name taken by another is an error.

        Two modules must not silently compete for one monitor's signal.
        """
        info = getattr(function, MARK, None)
        if not isinstance(info, CustomSignalInfo):
            raise ValueError(f"{function!r} is not marked with @register_custom_signal")
        existing = self.signals.get(info.name)
        if existing is not None and existing.qualified != info.qualified:
            raise ValueError(f"custom signal {info.name!r} is already registered by {existing.qualified}")
        self.signals[info.name] = info
        return function

    def load(self, modules: Sequence[str]) -> list[str]:
        """Import ``modules`` and register their marked functions; return those not installed."""
        missing: list[str] = []
        for name in modules:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name is None or not name.startswith(exc.name):
                    raise  # the module exists but one of its own imports is missing: a bug to surface
                log.warning("custom signal module %s (setting CUSTOM_SIGNAL_MODULES) is not installed", name)
                missing.append(name)
                continue
            for value in list(vars(module).values()):
                marked = getattr(value, MARK, None)
                if isinstance(marked, CustomSignalInfo) and marked.function is value:
                    self.add(value)
        self.missing = sorted(set(self.missing) | set(missing))
        return missing

    def copy(self) -> CustomRegistry:
        return CustomRegistry(dict(self.signals), list(self.missing))


_active = CustomRegistry()


def active_registry() -> CustomRegistry:
    """The registry lookups use: the app's, or the copy of an enclosing :func:`isolated_registry`."""
    return _active


@contextmanager
def isolated_registry() -> Iterator[CustomRegistry]:
    """A copy of the active registry for the block; the previous one is restored on exit."""
    global _active
    previous = _active
    _active = previous.copy()
    try:
        yield _active
    finally:
        _active = previous


def register_custom_signal(name: str, *, greater_is_better: Iterable[str] = (),
                           description: str | None = None) -> Callable[[CustomFunction], CustomFunction]:
    """Mark ``function`` as the custom signal ``name`` (the YAML's ``component_id``).

    Loading its module (:func:`load_modules`) registers it; ``active_registry().add(function)`` registers
    it directly.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ValueError(f"custom signal name {name!r} must be letters, digits, `_`, `-` or `.`")

    def decorate(function: CustomFunction) -> CustomFunction:
        info = CustomSignalInfo(name=name, function=function, greater_is_better=frozenset(greater_is_better),
                                description=description or (function.__doc__ or "").strip().split("\n")[0])
        setattr(function, MARK, info)
        return function

    return decorate


def load_modules(modules: Sequence[str]) -> list[str]:
    """Register the marked functions of ``modules`` in the active registry; return those not installed."""
    return _active.load(modules)


def registered_signals(modules: Sequence[str] = ()) -> MappingProxyType[str, CustomSignalInfo]:
    """Every registered custom signal, after loading ``modules`` (none by default)."""
    _active.load(modules)
    return MappingProxyType(dict(_active.signals))


def signal_name(component_id: str) -> str:
    """The registered name a ``component_id`` refers to: ``azureml:`` and a ``:<version>`` suffix removed.

    >>> signal_name("azureml:category_coverage:1.0.0")
    'category_coverage'
    >>> signal_name("category_coverage")
    'category_coverage'
    """
    return component_id.strip().removeprefix("azureml:").split(":", 1)[0]


def lookup(component_id: str, *, modules: Sequence[str] = ()) -> CustomSignalInfo:
    """The registered signal a ``component_id`` names (after loading ``modules``); an unknown name lists
    the registered ones."""
    _active.load(modules)
    name = signal_name(component_id)
    try:
        return _active.signals[name]
    except KeyError:
        known = ", ".join(sorted(_active.signals)) or "none"
        absent = f" (modules not installed: {', '.join(_active.missing)})" if _active.missing else ""
        raise LookupError(
            f"custom signal `{component_id}` is not registered in this app; registered custom signals: {known}"
            f"{absent}. Register a function with @register_custom_signal in a module listed in the "
            "CUSTOM_SIGNAL_MODULES setting"
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
                   modules: Sequence[str] = ()) -> SignalResult:
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


def custom_columns(features: Sequence[str], options: Mapping[str, Any],
                   segment: str | None) -> tuple[None, None]:
    """A custom signal reads every column of both sides: only its function knows which it uses."""
    return None, None


__all__ = [
    "MARK", "CustomFunction", "CustomRegistry", "CustomSignalInfo", "active_registry", "compute_custom",
    "custom_columns", "isolated_registry", "load_modules", "lookup", "register_custom_signal", "registered_signals",
    "signal_name",
]
