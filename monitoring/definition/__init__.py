"""Monitor definitions: Azure ML's ``az ml schedule`` monitor YAML as pydantic models, and their loader.

``strict`` rejects unknown keys with the closest valid one; ``triggers``, ``inputs``, ``thresholds``,
``signals`` and ``monitor`` model the file from the leaves up; ``loader`` parses YAML safely and reports
every problem of a file at once with its line. Callers import from this package.
"""

from __future__ import annotations

from monitoring.definition.inputs import (
    DataColumnNames,
    DataSegment,
    DataWindow,
    InputData,
    MonitoringInput,
    TopNFeatures,
)
from monitoring.definition.loader import LoadedMonitor, json_schema, load_bytes, load_file, load_text, parse_yaml
from monitoring.definition.monitor import (
    AlertNotification,
    MonitorDefinition,
    MonitoringTarget,
    MonitorSchedule,
    Webhook,
)
from monitoring.definition.signals import (
    CustomSignal,
    DataDriftSignal,
    DataQualitySignal,
    FeatureAttributionDriftSignal,
    ModelPerformanceSignal,
    PredictionDriftSignal,
    Signal,
    SignalType,
)
from monitoring.definition.strict import UnknownKey, collecting_unknown_keys
from monitoring.definition.triggers import CronTrigger, OnArrivalTrigger, RecurrenceTrigger, Trigger

__all__ = [
    "AlertNotification", "CronTrigger", "CustomSignal", "DataColumnNames", "DataDriftSignal", "DataQualitySignal",
    "DataSegment", "DataWindow", "FeatureAttributionDriftSignal", "InputData", "LoadedMonitor",
    "ModelPerformanceSignal", "MonitorDefinition", "MonitorSchedule", "MonitoringInput", "MonitoringTarget",
    "OnArrivalTrigger", "PredictionDriftSignal", "RecurrenceTrigger", "Signal", "SignalType", "TopNFeatures",
    "Trigger", "UnknownKey", "Webhook", "collecting_unknown_keys", "json_schema", "load_bytes", "load_file",
    "load_text", "parse_yaml",
]
