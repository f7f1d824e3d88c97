"""``metric_thresholds``: the GA per-kind mappings and the preview list form, resolved against the registry's
defaults so that every signal carries the full set of thresholds it is judged by.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    Discriminator,
    NonNegativeFloat,
    Tag,
    create_model,
)
from pydantic_core import PydanticCustomError

from monitoring.definition.strict import Strict
from signals.info import FeatureKind
from signals.registry import DEFAULT_THRESHOLDS, METRIC_ALIASES, METRICS_BY_SIGNAL

# --------------------------------------------------------------------------------------------------
# Thresholds


#: Our extension ``threshold: auto`` (drift signals only): the (1 - alpha) quantile of the metric's null
#: at the current sample sizes, so the metric breaches when the change is statistically real.
AUTO = "auto"
#: Signal types whose thresholds may be ``auto``: those with a null for every metric.
AUTO_SIGNALS = ("data_drift", "prediction_drift")
Threshold = float | str
#: A number, or ``auto``: the discriminator picks one branch, so an error names only the rule that applies.
NumberOrAuto = Annotated[
    Union[Annotated[NonNegativeFloat, Tag("<number>")], Annotated[Literal["auto"], Tag("<auto>")]],
    Discriminator(lambda v: "<auto>" if isinstance(v, str) else "<number>"),
]


class PreviewThreshold(Strict):
    """One item of the preview's list-form ``metric_thresholds``."""

    metric_name: str
    threshold: NumberOrAuto | None = None
    applicable_feature_type: FeatureKind | None = None


def _threshold_map(kind: str, metrics: tuple[str, ...], *, auto: bool = False) -> type[BaseModel]:
    """A model with one optional float (or ``auto``) per metric name, so a typo'd metric name gets a
    suggestion."""
    value: Any = NumberOrAuto | None if auto else NonNegativeFloat | None
    fields: dict[str, Any] = {m: (value, None) for m in metrics}
    return create_model(f"{kind}Thresholds", __base__=Strict, **fields)


def _thresholds_union(maps: type[BaseModel]) -> Any:
    return Annotated[
        Union[Annotated[maps, Tag("<map>")], Annotated[list[PreviewThreshold], Tag("<list>")]],
        Discriminator(lambda v: "<list>" if isinstance(v, list) else "<map>"),
    ]


def _optional_maps(name: str, maps: dict[str, type[BaseModel]]) -> type[BaseModel]:
    """A model with one optional sub-mapping per group (feature kind or task)."""
    fields: dict[str, Any] = {group: (model | None, None) for group, model in maps.items()}
    return create_model(name, __base__=Strict, **fields)


def _kind_maps(signal: str) -> type[BaseModel]:
    return _optional_maps(f"{signal.title().replace('_', '')}Thresholds", {
        kind: _threshold_map(f"{signal.title()}{kind.title()}", METRICS_BY_SIGNAL[signal][kind],
                             auto=signal in AUTO_SIGNALS)
        for kind in ("numerical", "categorical")
    })


DriftThresholds = _kind_maps("data_drift")
QualityThresholds = _kind_maps("data_quality")
AttributionThresholds = _threshold_map("Attribution", METRICS_BY_SIGNAL["feature_attribution_drift"]["model"])
PerformanceThresholds = _optional_maps("PerformanceThresholds", {
    task: _threshold_map(task.title(), METRICS_BY_SIGNAL["model_performance"][task])
    for task in ("classification", "regression")
})


class CustomThreshold(Strict):
    metric_name: str
    threshold: float | None = None


def _default(signal: str, group: str, metric: str) -> float | None:
    """The registry's default threshold of a metric in a group; None when it has none (never judged)."""
    return DEFAULT_THRESHOLDS.get((signal, group), {}).get(metric)


def _filled(signal: str, group: str, model: BaseModel) -> dict[str, Threshold]:
    """Metrics named in a map; a metric named with no value takes its default."""
    out: dict[str, Threshold | None] = {}
    for name in model.model_fields_set:
        value = getattr(model, name)
        out[name] = value if value is not None else _default(signal, group, name)
    return {k: v for k, v in out.items() if v is not None}


def _check_preview_metrics(signal: str, items: object) -> None:
    if not isinstance(items, list) or not all(isinstance(i, PreviewThreshold) for i in items):
        return
    groups = METRICS_BY_SIGNAL[signal]
    valid = sorted({m for metrics in groups.values() for m in metrics} | set(METRIC_ALIASES))
    for item in items:
        if item.threshold == AUTO and signal not in AUTO_SIGNALS:
            raise PydanticCustomError(
                "threshold_auto", "threshold `auto` of `{name}`: only {signals} thresholds may be auto",
                {"name": item.metric_name, "signals": " and ".join(AUTO_SIGNALS)})
        name = METRIC_ALIASES.get(item.metric_name, item.metric_name)
        kinds = [item.applicable_feature_type] if item.applicable_feature_type else list(groups)
        if not any(name in groups.get(k, ()) for k in kinds):
            close = difflib.get_close_matches(item.metric_name, valid, n=1, cutoff=0.6)
            hint = f"; did you mean `{close[0]}`?" if close else f"; valid metrics: {', '.join(valid)}"
            raise PydanticCustomError(
                "metric_name", "metric `{name}` does not apply to {signal} {kinds}{hint}",
                {"name": item.metric_name, "signal": signal, "kinds": "/".join(kinds), "hint": hint},
            )


def _listed_thresholds(signal_type: str, groups: dict[str, tuple[str, ...]],
                       items: list[PreviewThreshold]) -> dict[str, dict[str, Threshold]]:
    """The preview list form: each item for its feature type, or for every group the metric is in.

    As in the mapping form, a metric named without a value takes its default, and is left out when it
    has none (it is computed but not judged).
    """
    configured: dict[str, dict[str, Threshold]] = {}
    for item in items:
        name = METRIC_ALIASES.get(item.metric_name, item.metric_name)
        targets = [item.applicable_feature_type] if item.applicable_feature_type else [
            g for g, metrics in groups.items() if name in metrics
        ]
        for group in targets:
            value = item.threshold if item.threshold is not None else _default(signal_type, group, name)
            group_thresholds = configured.setdefault(group, {})
            if value is not None:
                group_thresholds[name] = value
    return configured
