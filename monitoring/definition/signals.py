"""``monitoring_signals``: one model per signal type, discriminated by ``type``."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitoring.definition.generative import GenerationSafetyQualitySignal, GenerationTokenStatisticsSignal
from monitoring.definition.inputs import DataSegment, Features, MonitoringInput, split_production_list
from monitoring.definition.strict import Strict, _rekeyed
from monitoring.definition.thresholds import (
    AttributionThresholds,
    CustomThreshold,
    DriftThresholds,
    PerformanceThresholds,
    QualityThresholds,
    _check_preview_metrics,
    _default,
    _filled,
    _thresholds_union,
)
from signals.registry import (
    DEFAULT_THRESHOLDS,
    METRIC_ALIASES,
    METRICS_BY_SIGNAL,
    FeatureKind,
)

SignalType = Literal[
    "data_drift",
    "prediction_drift",
    "data_quality",
    "feature_attribution_drift",
    "model_performance",
    "custom",
    "generation_safety_quality",
    "generation_token_statistics",
]


# --------------------------------------------------------------------------------------------------
# Signals


class _SignalBase(Strict):
    production_data: MonitoringInput | None = None
    reference_data: MonitoringInput | None = None
    features: Features | None = None
    feature_type_override: dict[str, FeatureKind] | None = None
    data_segment: DataSegment | None = None
    alert_enabled: bool = True
    properties: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _preview_datasets(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        renames = {"target_dataset": "production_data", "baseline_dataset": "reference_data"}
        if not any(k in data for k in renames):
            return data
        return _rekeyed((renames.get(k, k), v, (data, k)) for k, v in data.items())

    @field_validator("metric_thresholds", mode="after", check_fields=False)
    @classmethod
    def _preview_metric_names(cls, value: Any, info: ValidationInfo) -> Any:
        """List-form thresholds name their metric in a string: check it applies to this signal type."""
        if "type" in info.data:
            _check_preview_metrics(info.data["type"], value)
        return value

    def configured_thresholds(self) -> dict[str, dict[str, float]]:
        """Thresholds per group (feature kind, task or ``model``), defaults filled in where none given."""
        signal_type: str = self.type  # type: ignore[attr-defined]
        raw = getattr(self, "metric_thresholds", None)
        groups = METRICS_BY_SIGNAL[signal_type]
        configured: dict[str, dict[str, float]] = {}
        if isinstance(raw, list):
            for item in raw:
                name = METRIC_ALIASES.get(item.metric_name, item.metric_name)
                targets = [item.applicable_feature_type] if item.applicable_feature_type else [
                    g for g, metrics in groups.items() if name in metrics
                ]
                for group in targets:
                    value = item.threshold if item.threshold is not None else _default(signal_type, group, name)
                    configured.setdefault(group, {})[name] = value
        elif isinstance(raw, BaseModel):
            if signal_type == "feature_attribution_drift":
                configured["model"] = _filled(signal_type, "model", raw)
            else:
                for group in groups:
                    sub = getattr(raw, group, None)
                    if sub is not None:
                        configured[group] = _filled(signal_type, group, sub)
        for group in groups:
            if group not in configured:
                configured[group] = dict(DEFAULT_THRESHOLDS.get((signal_type, group), {}))
        return configured


class DataDriftSignal(_SignalBase):
    type: Literal["data_drift"]
    metric_thresholds: _thresholds_union(DriftThresholds) | None = None  # type: ignore[valid-type]



class PredictionDriftSignal(_SignalBase):
    type: Literal["prediction_drift"]
    metric_thresholds: _thresholds_union(DriftThresholds) | None = None  # type: ignore[valid-type]



class DataQualitySignal(_SignalBase):
    type: Literal["data_quality"]
    metric_thresholds: _thresholds_union(QualityThresholds) | None = None  # type: ignore[valid-type]



class FeatureAttributionDriftSignal(_SignalBase):
    type: Literal["feature_attribution_drift"]
    model_type: Literal["classification", "regression"] | None = None
    #: GA form: ``production_data`` is a list of model inputs and outputs; the outputs land here.
    production_outputs: MonitoringInput | None = None

    @model_validator(mode="before")
    @classmethod
    def _production_list(cls, data: Any) -> Any:
        return split_production_list(data)
    metric_thresholds: _thresholds_union(AttributionThresholds) | None = None  # type: ignore[valid-type]



class ModelPerformanceSignal(_SignalBase):
    type: Literal["model_performance"]
    model_type: Literal["classification", "regression"] | None = None
    minimum_join_coverage: float = Field(0.1, ge=0, le=1)
    metric_thresholds: PerformanceThresholds | None = None  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _tabular_names(cls, data: Any) -> Any:
        """The how-to YAML writes ``tabular_classification``; the SDK schema says ``classification``."""
        if isinstance(data, dict) and isinstance(data.get("metric_thresholds"), dict):
            mt = data["metric_thresholds"]
            if any(isinstance(k, str) and k.startswith("tabular_") for k in mt):
                renamed = _rekeyed((k.removeprefix("tabular_"), v, (mt, k)) for k, v in mt.items())
                return _rekeyed((k, renamed if k == "metric_thresholds" else v, (data, k)) for k, v in data.items())
        return data


class CustomSignal(_SignalBase):
    type: Literal["custom"]
    component_id: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    input_data: dict[str, MonitoringInput] | None = None
    metric_thresholds: list[CustomThreshold] = Field(default_factory=list)

    @model_validator(mode="after")
    def _inputs(self) -> CustomSignal:
        """GA custom signals put their datasets under ``input_data``; map the usual names."""
        if self.input_data:
            updates: dict[str, Any] = {}
            if self.production_data is None and "production_data" in self.input_data:
                updates["production_data"] = self.input_data["production_data"]
            if self.reference_data is None and "reference_data" in self.input_data:
                updates["reference_data"] = self.input_data["reference_data"]
            for key, value in updates.items():
                object.__setattr__(self, key, value)
        return self

    def configured_thresholds(self) -> dict[str, dict[str, float]]:
        return {"custom": {t.metric_name: t.threshold for t in self.metric_thresholds if t.threshold is not None}}


Signal = Annotated[
    Union[
        DataDriftSignal,
        PredictionDriftSignal,
        DataQualitySignal,
        FeatureAttributionDriftSignal,
        ModelPerformanceSignal,
        CustomSignal,
        GenerationSafetyQualitySignal,
        GenerationTokenStatisticsSignal,
    ],
    Field(discriminator="type"),
]
