"""``metric_thresholds``: the GA per-kind mappings and the preview list form, resolved against the registry's
defaults so that every signal carries the full set of thresholds it is judged by.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Union

from pydantic import (
    BaseModel,
    Discriminator,
    NonNegativeFloat,
    Tag,
    create_model,
)
from pydantic_core import PydanticCustomError

from monitoring.definition.strict import Strict
from signals.registry import (
    DEFAULT_THRESHOLDS,
    METRIC_ALIASES,
    METRICS_BY_SIGNAL,
    FeatureKind,
)

# --------------------------------------------------------------------------------------------------
# Thresholds


class PreviewThreshold(Strict):
    """One item of the preview's list-form ``metric_thresholds``."""

    metric_name: str
    threshold: NonNegativeFloat | None = None
    applicable_feature_type: FeatureKind | None = None


def _threshold_map(kind: str, metrics: tuple[str, ...]) -> type[BaseModel]:
    """A model with one optional float per metric name, so a typo'd metric name gets a suggestion."""
    fields: dict[str, Any] = {m: (NonNegativeFloat | None, None) for m in metrics}
    return create_model(f"{kind}Thresholds", __base__=Strict, **fields)  # type: ignore[call-overload]


def _thresholds_union(maps: type[BaseModel]) -> Any:
    return Annotated[
        Union[Annotated[maps, Tag("<map>")], Annotated[list[PreviewThreshold], Tag("<list>")]],
        Discriminator(lambda v: "<list>" if isinstance(v, list) else "<map>"),
    ]


def _kind_maps(signal: str) -> type[BaseModel]:
    numerical = _threshold_map(f"{signal.title()}Numerical", METRICS_BY_SIGNAL[signal]["numerical"])
    categorical = _threshold_map(f"{signal.title()}Categorical", METRICS_BY_SIGNAL[signal]["categorical"])
    return create_model(  # type: ignore[call-overload]
        f"{signal.title().replace('_', '')}Thresholds", __base__=Strict,
        numerical=(numerical | None, None), categorical=(categorical | None, None),
    )


DriftThresholds = _kind_maps("data_drift")
QualityThresholds = _kind_maps("data_quality")
AttributionThresholds = _threshold_map("Attribution", METRICS_BY_SIGNAL["feature_attribution_drift"]["model"])
PerformanceThresholds = create_model(
    "PerformanceThresholds", __base__=Strict,
    classification=(
        _threshold_map("Classification", METRICS_BY_SIGNAL["model_performance"]["classification"]) | None, None
    ),
    regression=(_threshold_map("Regression", METRICS_BY_SIGNAL["model_performance"]["regression"]) | None, None),
)


class CustomThreshold(Strict):
    metric_name: str
    threshold: float | None = None


def _default(signal: str, group: str, metric: str) -> float:
    return DEFAULT_THRESHOLDS.get((signal, group), {}).get(metric, 0.0 if signal == "data_quality" else None)  # type: ignore[return-value]


def _filled(signal: str, group: str, model: BaseModel) -> dict[str, float]:
    """Metrics named in a map; a metric named with no value takes its default."""
    out: dict[str, float] = {}
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
        name = METRIC_ALIASES.get(item.metric_name, item.metric_name)
        kinds = [item.applicable_feature_type] if item.applicable_feature_type else list(groups)
        if not any(name in groups.get(k, ()) for k in kinds):
            close = difflib.get_close_matches(item.metric_name, valid, n=1, cutoff=0.6)
            hint = f"; did you mean `{close[0]}`?" if close else f"; valid metrics: {', '.join(valid)}"
            raise PydanticCustomError(
                "metric_name", "metric `{name}` does not apply to {signal} {kinds}{hint}",
                {"name": item.metric_name, "signal": signal, "kinds": "/".join(kinds), "hint": hint},
            )
