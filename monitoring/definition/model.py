"""Monitor definitions: Azure ML's ``az ml schedule`` monitor YAML as pydantic models.

The GA shape is the model; the preview names of the source document (``target_dataset``,
``baseline_dataset``, list-form ``metric_thresholds``, ``chi_squared_test``...) are normalised to it in
``before`` validators, so everything after this module sees one shape. Every model forbids unknown keys
and names the closest valid one, with the YAML line, because a typo in a threshold silently ignored is a
monitor that never alerts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from ruamel.yaml.comments import CommentedMap

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
]
DataContext = Literal["model_inputs", "model_outputs", "training", "test", "validation", "ground_truth"]

_AZUREML_ASSET = re.compile(r"^azureml:(?P<name>[^:/]+)(?::(?P<version>[^:/]+))?$")
_ISO_DURATION = re.compile(r"^P(?!$)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


class Strict(BaseModel):
    """A model that rejects unknown keys and suggests the closest valid one, with its YAML line."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        valid: list[str] = []
        for name, field in cls.model_fields.items():
            valid.append(field.alias or name)
            if field.alias and name != field.alias:
                valid.append(name)
        unknown = [k for k in data if isinstance(k, str) and k not in valid]
        if not unknown:
            return data
        found = [UnknownKey(key=k, hint=_hint(k, valid), line=_key_line(data, k)) for k in unknown]
        collector = _UNKNOWN_KEYS.get()
        if collector is not None:  # the loader reports them with every other problem of the file
            collector.extend(found)
            return {k: v for k, v in data.items() if k not in unknown}
        first = found[0]
        raise PydanticCustomError(
            "unknown_field",
            "unknown field `{key}`{hint}",
            {"key": first.key, "hint": first.hint, "line": first.line, "others": unknown[1:]},
        )


@dataclass(frozen=True)
class UnknownKey:
    """A key no model accepts: the key, the closest valid one (as a hint), and its YAML line."""

    key: str
    hint: str
    line: int | None


_UNKNOWN_KEYS: ContextVar[list[UnknownKey] | None] = ContextVar("unknown_keys", default=None)


@contextmanager
def collecting_unknown_keys() -> Iterator[list[UnknownKey]]:
    """Within this block, unknown keys are collected (and dropped) instead of failing their model, so one
    validation reports every problem of a file, not only the first of each mapping."""
    found: list[UnknownKey] = []
    token = _UNKNOWN_KEYS.set(found)
    try:
        yield found
    finally:
        _UNKNOWN_KEYS.reset(token)


def _hint(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else f"; valid fields: {', '.join(sorted(valid))}"


def _key_line(data: Any, key: str) -> int | None:
    """1-based line of ``key`` in a ruamel mapping, when the mapping came from a YAML file."""
    lc = getattr(data, "lc", None)
    if lc is None:
        return None
    try:
        return int(lc.key(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return None


Origin = tuple[Any, Any]  # (mapping the key came from, its key there)


def _rekeyed(pairs: Iterable[tuple[str, Any, Origin]]) -> dict[str, Any]:
    """A mapping rebuilt by a normaliser, each key keeping the YAML position of the key it came from.

    Preview names and aliases are renamed before validation; without this, an error in a renamed mapping
    (an unknown key, a bad value) could no longer say which line it is on.
    """
    out = CommentedMap()
    for key, value, (node, original) in pairs:
        out[key] = value
        lc = getattr(node, "lc", None)
        if lc is not None and lc.data and original in lc.data:
            out.lc.add_kv_line_col(key, lc.data[original])
    return out


# --------------------------------------------------------------------------------------------------
# Trigger


WeekDay = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class RecurrencePattern(Strict):
    """``schedule`` of a recurrence trigger: the local times (and days) at which it fires."""

    hours: list[Annotated[int, Field(ge=0, le=23)]] | None = None
    minutes: list[Annotated[int, Field(ge=0, le=59)]] | None = None
    week_days: list[WeekDay] | None = None
    month_days: list[Annotated[int, Field(ge=1, le=31)]] | None = None

    @field_validator("hours", "minutes", "month_days", "week_days", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None or isinstance(value, list):
            return value
        if isinstance(value, str):
            return [value.lower()]
        return [value]

    @field_validator("week_days", mode="before")
    @classmethod
    def _lower_days(cls, value: Any) -> Any:
        return [v.lower() if isinstance(v, str) else v for v in value] if isinstance(value, list) else value


class _TriggerBase(Strict):
    time_zone: str = Field("UTC", alias="time_zone")
    start_time: datetime | None = None
    end_time: datetime | None = None
    max_catch_up: int = Field(
        1, ge=0, le=1000,
        description="Our extension: how many missed fire times the scheduler starts after downtime.",
    )

    @model_validator(mode="before")
    @classmethod
    def _timezone_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "timezone" in data and "time_zone" not in data:
            return _rekeyed(("time_zone" if k == "timezone" else k, v, (data, k)) for k, v in data.items())
        return data

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "time_zone", "unknown time zone `{value}`; use an IANA name such as `Europe/Berlin` or `UTC`",
                {"value": value},
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class RecurrenceTrigger(_TriggerBase):
    """Fires every ``interval`` ``frequency`` units, at the ``schedule``'s local times."""

    type: Literal["recurrence"]
    frequency: Literal["minute", "hour", "day", "week", "month"]
    interval: int = Field(1, ge=1)
    schedule: RecurrencePattern | None = None

    @model_validator(mode="before")
    @classmethod
    def _pattern_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "pattern" in data and "schedule" not in data:
            return _rekeyed(("schedule" if k == "pattern" else k, v, (data, k)) for k, v in data.items())
        return data


class CronTrigger(_TriggerBase):
    """Fires at the times of a five-field cron ``expression`` in ``time_zone``."""

    type: Literal["cron"]
    expression: str

    @field_validator("expression")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise PydanticCustomError(
                "cron", "`{value}` is not a five-field cron expression (minute hour day month weekday)",
                {"value": value},
            )
        return value


class OnArrivalTrigger(_TriggerBase):
    """Our extension: run when a batch of data arrives through the ``incoming`` container."""

    type: Literal["on_arrival"]
    dataset: str | None = Field(None, description="Dataset folder whose arrivals start a run.")
    window: timedelta = Field(timedelta(days=1), description="Production window size per arrival.")


Trigger = Annotated[
    Union[RecurrenceTrigger, CronTrigger, OnArrivalTrigger], Field(discriminator="type")
]


# --------------------------------------------------------------------------------------------------
# Data


class InputData(Strict):
    """Where a dataset lives: a local path, ``az://``/``abfs[s]://`` URI, glob, or ``azureml:`` asset."""

    path: str
    type: Literal["uri_folder", "uri_file", "mltable"] = "uri_folder"

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise PydanticCustomError("path", "`path` is empty", {})
        if value.startswith("azureml:") and not value.startswith("azureml://") and not _AZUREML_ASSET.match(value):
            raise PydanticCustomError(
                "path", "`{value}` is not an asset reference of the form azureml:<name>:<version>",
                {"value": value},
            )
        return value

    @property
    def asset(self) -> str | None:
        """The ``azureml:<name>:<version>`` reference, if the path is one (resolved at run time)."""
        return self.path if _AZUREML_ASSET.match(self.path) else None


class DataWindow(Strict):
    """A lookback window (size and offset before the fire time) or fixed start and end."""

    lookback_window_size: timedelta | Literal["default"] | None = None
    lookback_window_offset: timedelta | Literal["default"] | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None

    @field_validator("lookback_window_size", "lookback_window_offset", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "default" and not _ISO_DURATION.match(value):
            raise PydanticCustomError(
                "duration", "`{value}` is not an ISO-8601 duration such as `P7D` or `PT6H`",
                {"value": value},
            )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> DataWindow:
        lookback = self.lookback_window_size is not None or self.lookback_window_offset is not None
        fixed = self.window_start is not None or self.window_end is not None
        if lookback and fixed:
            raise PydanticCustomError(
                "window", "a data_window has either lookback_window_size/offset or window_start/window_end, "
                "not both", {},
            )
        if fixed and (self.window_start is None or self.window_end is None):
            raise PydanticCustomError("window", "window_start and window_end must be given together", {})
        if fixed and self.window_start >= self.window_end:  # type: ignore[operator]
            raise PydanticCustomError(
                "window", "window_start {start} is not before window_end {end}",
                {"start": str(self.window_start), "end": str(self.window_end)},
            )
        return self


class DataColumnNames(Strict):
    """Roles of columns: the label, predictions, join keys, and our ``timestamp`` window column."""

    target_column: str | None = None
    prediction: str | None = None
    prediction_probability: str | None = None
    correlation_id: str | None = None
    actual: str | None = None
    timestamp: str | None = Field(None, description="Our extension: the column windows filter on.")
    id_columns: list[str] | None = Field(None, description="Our extension: columns never monitored.")

    def role_columns(self) -> set[str]:
        """Columns that are not features of the model."""
        named = {self.target_column, self.prediction, self.prediction_probability, self.correlation_id,
                 self.actual, self.timestamp}
        return {c for c in named if c} | set(self.id_columns or [])


class MonitoringInput(Strict):
    """``production_data`` / ``reference_data`` of a signal (preview names are accepted too)."""

    input_data: InputData | None = None
    data_context: DataContext | None = None
    data_window: DataWindow | None = None
    pre_processing_component: str | None = None
    data_column_names: DataColumnNames = Field(default_factory=DataColumnNames)

    @model_validator(mode="before")
    @classmethod
    def _preview_names(cls, data: Any) -> Any:
        """``{dataset: {input_dataset, dataset_context}, data_window_size}`` and friends -> GA."""
        if not isinstance(data, dict):
            return data
        items: list[tuple[str, Any, Origin]] = [(k, v, (data, k)) for k, v in data.items() if k != "dataset"]
        if isinstance(data.get("dataset"), dict):
            items += [(k, v, (data["dataset"], k)) for k, v in data["dataset"].items()]
        renames = {"input_dataset": "input_data", "dataset_context": "data_context"}
        names = data.get("data_column_names")
        columns: list[tuple[str, Any, Origin]] = (
            [(k, v, (names, k)) for k, v in names.items()] if isinstance(names, dict) else [])
        out: list[tuple[str, Any, Origin]] = []
        for key, value, origin in items:
            if key in renames:
                if isinstance(value, dict) and "target_column_name" in value:
                    columns.append(("target_column", value["target_column_name"], (value, "target_column_name")))
                    value = _rekeyed((k, v, (value, k)) for k, v in value.items() if k != "target_column_name")
                out.append((renames[key], value, origin))
            elif key == "target_column_name":
                columns.append(("target_column", value, origin))
            elif key == "data_window_size":
                out.append(("data_window", {"lookback_window_size": _days(value)}, origin))
            elif key != "data_column_names":
                out.append((key, value, origin))
        if columns:
            out.append(("data_column_names", _rekeyed(columns), (data, "data_column_names")))
        return _rekeyed(out)


def _days(value: Any) -> Any:
    return f"P{value}D" if isinstance(value, int) else value


class DataSegment(Strict):
    """Monitor only the rows whose ``feature_name`` is one of ``feature_values``."""

    feature_name: str
    feature_values: list[str | int | float | bool] = Field(min_length=1)


class TopNFeatures(Strict):
    top_n_feature_importance: int = Field(10, ge=1)


def _features_tag(value: Any) -> str:
    if isinstance(value, list):
        return "<list>"
    return "<top_n>" if isinstance(value, dict | TopNFeatures) else "<all>"


Features = Annotated[
    Union[
        Annotated[list[str], Tag("<list>")],
        Annotated[TopNFeatures, Tag("<top_n>")],
        Annotated[Literal["all_features"], Tag("<all>")],
    ],
    Discriminator(_features_tag),
]


# --------------------------------------------------------------------------------------------------
# Thresholds


class PreviewThreshold(Strict):
    """One item of the preview's list-form ``metric_thresholds``."""

    metric_name: str
    threshold: float | None = None
    applicable_feature_type: FeatureKind | None = None


def _threshold_map(kind: str, metrics: tuple[str, ...]) -> type[BaseModel]:
    """A model with one optional float per metric name, so a typo'd metric name gets a suggestion."""
    fields: dict[str, Any] = {m: (float | None, None) for m in metrics}
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
    ],
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------------------------------
# Monitor


class Compute(Strict):
    """Accepted for compatibility and ignored: signals run serverless, not on Spark."""

    instance_type: str | None = None
    runtime_version: str | float | None = None


class MonitoringTarget(Strict):
    ml_task: Literal["classification", "regression", "question_answering"] | None = None
    endpoint_deployment_id: str | None = None
    model_id: str | None = None

    @property
    def endpoint_and_deployment(self) -> tuple[str, str] | None:
        if not self.endpoint_deployment_id:
            return None
        parts = self.endpoint_deployment_id.removeprefix("azureml:").split(":")
        return (parts[0], parts[1]) if len(parts) >= 2 else None

    @field_validator("endpoint_deployment_id")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and len(value.removeprefix("azureml:").split(":")) != 2:
            raise PydanticCustomError(
                "endpoint", "`{value}` is not of the form azureml:<endpoint>:<deployment>", {"value": value}
            )
        return value


class Webhook(Strict):
    """Our extension: a webhook whose URL lives in an app setting, never in the YAML."""

    setting: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    format: Literal["teams", "slack", "json"] = "json"


class AlertNotification(Strict):
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(default_factory=list)
    mode: Literal["every_run", "on_change"] = "every_run"
    alert_on_failure: bool = True
    webhooks: list[Webhook] = Field(default_factory=list)


def _alert_tag(value: Any) -> str:
    if isinstance(value, bool):
        return "<bool>"
    return "<azmonitoring>" if isinstance(value, str) else "<emails>"


class MonitorDefinition(Strict):
    """``create_monitor`` of an Azure ML monitor schedule."""

    compute: Compute | None = None
    monitoring_target: MonitoringTarget | None = None
    monitoring_signals: dict[str, Signal] | None = None
    alert_notification: Annotated[
        Union[
            Annotated[AlertNotification, Tag("<emails>")],
            Annotated[Literal["azmonitoring"], Tag("<azmonitoring>")],
            Annotated[bool, Tag("<bool>")],
        ],
        Discriminator(_alert_tag),
    ] | None = None

    @field_validator("monitoring_signals")
    @classmethod
    def _signal_names(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for name in value or {}:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", name):
                raise PydanticCustomError(
                    "signal_name", "signal name `{name}` must be 1-100 letters, digits, `_`, `-` or `.`",
                    {"name": name},
                )
        return value

    @property
    def alerts(self) -> AlertNotification:
        return self.alert_notification if isinstance(self.alert_notification, AlertNotification) else \
            AlertNotification()


class MonitorSchedule(Strict):
    """The whole YAML file: a schedule that creates a monitor."""

    schema_: str | None = Field(None, alias="$schema")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] | None = None
    properties: dict[str, Any] | None = None
    trigger: Trigger
    create_monitor: MonitorDefinition

    def signals(self) -> dict[str, Any]:
        """The signals to run: those in the YAML, or Azure ML's out-of-box set when there are none."""
        if self.create_monitor.monitoring_signals:
            return dict(self.create_monitor.monitoring_signals)
        return {
            "data-drift-signal": DataDriftSignal(type="data_drift", features="all_features"),
            "prediction-drift-signal": PredictionDriftSignal(type="prediction_drift"),
            "data-quality-signal": DataQualitySignal(type="data_quality", features="all_features"),
        }

    def notes(self) -> list[str]:
        """Things that validate but behave differently from Azure ML; shown by ``validate``."""
        out: list[str] = []
        if self.create_monitor.compute is not None:
            out.append("`create_monitor.compute` is ignored: signals run in Azure Functions, not on Spark.")
        if self.create_monitor.alert_notification == "azmonitoring":
            out.append("`alert_notification: azmonitoring` is not supported; results go to the results "
                       "store and emails go to ALERT_DEFAULT_RECIPIENTS.")
        for name, sig in self.signals().items():
            for side in ("production_data", "reference_data"):
                data = getattr(sig, side)
                if data is not None and data.pre_processing_component:
                    out.append(f"signal `{name}`: `{side}.pre_processing_component` is ignored; data is read "
                               "as parquet, JSONL or CSV directly.")
                if data is not None and data.input_data is not None and data.input_data.asset:
                    out.append(f"signal `{name}`: `{data.input_data.path}` must be mapped to a data URI in "
                               "assets.yaml (setting ASSET_MAP) before a run.")
        return out


__all__ = [
    "AlertNotification",
    "CronTrigger",
    "CustomSignal",
    "DataColumnNames",
    "DataDriftSignal",
    "DataQualitySignal",
    "DataSegment",
    "DataWindow",
    "FeatureAttributionDriftSignal",
    "InputData",
    "ModelPerformanceSignal",
    "MonitorDefinition",
    "MonitorSchedule",
    "MonitoringInput",
    "MonitoringTarget",
    "OnArrivalTrigger",
    "PredictionDriftSignal",
    "RecurrenceTrigger",
    "SignalType",
    "TopNFeatures",
    "Trigger",
    "UnknownKey",
    "collecting_unknown_keys",
]
