"""The whole file: ``MonitorSchedule`` (name, trigger, ``create_monitor``) with target, alerts and signals.

The GA shape is the model; the preview names of the source document (``target_dataset``,
``baseline_dataset``, list-form ``metric_thresholds``, ``chi_squared_test``...) are normalised to it in
``before`` validators, so everything after this package sees one shape.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitoring.definition.forms import normalise_signal, normalise_trigger
from monitoring.definition.generative import UNSUPPORTED
from monitoring.definition.signals import (
    DataDriftSignal,
    DataQualitySignal,
    PredictionDriftSignal,
    Signal,
    SignalBase,
)
from monitoring.definition.significance import SignificanceSetting, resolve_significance
from monitoring.definition.strict import Strict, _rekeyed, note
from monitoring.definition.thresholds import AUTO
from monitoring.definition.triggers import Trigger
from monitoring.errors import ConfigurationError
from monitoring.names import MONITOR_NAME

# --------------------------------------------------------------------------------------------------
# Monitor


class Compute(Strict):
    """Accepted for compatibility and ignored: signals run serverless, not on Spark."""

    instance_type: str | None = None
    runtime_version: str | float | None = None


class MonitoringTarget(Strict):
    ml_task: Literal["classification", "regression", "question_answering"] | None = None
    endpoint_deployment_id: str | None = Field(None, description=(
        "Any string, as in Azure ML's SDK; resolved (azureml:<endpoint>:<deployment>) only when a signal "
        "reads the model data collector."))
    model_id: str | None = None

    @field_validator("ml_task", mode="before")
    @classmethod
    def _sdk_spelling(cls, value: Any) -> Any:
        """The SDK spells it ``questionanswering``, the docs ``question_answering``: store the latter."""
        return "question_answering" if isinstance(value, str) and value.lower() == "questionanswering" else value

    @property
    def endpoint_and_deployment(self) -> tuple[str, str] | None:
        """(endpoint, deployment) of the collector to read; an id of another form is an error only here,
        when a signal must read the collector."""
        if not self.endpoint_deployment_id:
            return None
        parts = self.endpoint_deployment_id.removeprefix("azureml:").split(":")
        if len(parts) != 2 or not all(parts):
            raise ConfigurationError(
                f"monitoring_target.endpoint_deployment_id `{self.endpoint_deployment_id}` is not of the form "
                "azureml:<endpoint>:<deployment>, which a signal without production_data.input_data needs to "
                "find the model data collector's folder"
            )
        return parts[0], parts[1]


class Webhook(Strict):
    """Our extension: a webhook whose URL lives in an app setting, never in the YAML."""

    setting: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    format: Literal["teams", "slack", "json"] = "json"


class AlertNotification(Strict):
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(default_factory=list)
    mode: Literal["every_run", "on_change"] = "every_run"
    alert_on_failure: bool = True
    alert_on_no_data: bool = Field(True, description=(
        "Our extension: alert when an alert-enabled signal was skipped because its window (or segment) "
        "had no rows; a broken data pipeline is the most common thing a monitor must catch."))
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

    significance: SignificanceSetting = Field(None, description=(
        "Our extension: the significance gate of every drift and quality signal that sets none of its own: "
        "{alpha, correction}, off (Azure ML's bare threshold verdicts) or true (alpha 0.01, Holm)."))

    @model_validator(mode="after")
    def _auto_needs_significance(self) -> MonitorDefinition:
        """``threshold: auto`` is a quantile of the metric's null, which only the gate computes."""
        for name, signal in (self.monitoring_signals or {}).items():
            if not isinstance(signal, SignalBase):  # the generative types: not computed here
                continue
            if resolve_significance(signal.significance_setting(), self.significance) is not None:
                continue
            for group, values in signal.configured_thresholds().items():
                auto = [metric for metric, value in values.items() if value == AUTO]
                if auto:
                    raise PydanticCustomError(
                        "threshold_auto",
                        "signal `{name}`: threshold `{metric}` ({group}) is auto, which needs the significance "
                        "gate, and significance is off; give a number or turn significance on",
                        {"name": name, "metric": auto[0], "group": group})
        return self

    @field_validator("monitoring_signals", mode="before")
    @classmethod
    def _signal_forms(cls, value: Any) -> Any:
        """Case-insensitive ``type`` and earlier SDK names, before the union picks a model by ``type``."""
        if not isinstance(value, dict):
            return value
        return _rekeyed((k, normalise_signal(str(k), v), (value, k)) for k, v in value.items())

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
    name: str = Field(pattern=MONITOR_NAME)
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] | None = None
    properties: dict[str, Any] | None = None
    is_enabled: bool = Field(True, description="A disabled schedule validates and `run` runs it; the scheduler "
                                               "does not fire it.")
    trigger: Trigger
    create_monitor: MonitorDefinition
    _load_notes: list[str] = PrivateAttr(default_factory=list)

    @field_validator("trigger", mode="before")
    @classmethod
    def _trigger_forms(cls, value: Any) -> Any:
        return normalise_trigger(value)

    @field_validator("is_enabled")
    @classmethod
    def _disabled(cls, value: bool) -> bool:
        if not value:
            note("`is_enabled: false`: the scheduler does not fire this monitor; `run` still runs it.")
        return value

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
        out: list[str] = list(self._load_notes)
        if self.create_monitor.compute is not None:
            out.append("`create_monitor.compute` is ignored: signals run in Azure Functions, not on Spark.")
        if self.create_monitor.alert_notification == "azmonitoring":
            out.append("`alert_notification: azmonitoring` is not supported; results go to the results "
                       "store and emails go to ALERT_DEFAULT_RECIPIENTS.")
        for name, sig in self.signals().items():
            if sig.type in UNSUPPORTED:
                out.append(f"signal `{name}` ({sig.type}) is valid but will be reported unsupported at run time: "
                           f"{UNSUPPORTED[sig.type]}.")
                continue
            for side in ("production_data", "reference_data", "production_outputs"):
                data = getattr(sig, side, None)
                if data is not None and data.pre_processing_component:
                    out.append(f"signal `{name}`: `{side}.pre_processing_component` is ignored; data is read "
                               "as parquet, JSONL or CSV directly.")
                if data is not None and data.input_data is not None and data.input_data.asset:
                    out.append(f"signal `{name}`: `{data.input_data.path}` must be mapped to a data URI in "
                               "assets.yaml (setting ASSET_MAP) before a run.")
        return out
