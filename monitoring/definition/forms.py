"""Published spellings of a signal or trigger, normalised before pydantic picks a model by ``type``.

Azure ML's SDK compares enum values ignoring case (``type: Data_Drift``) and earlier releases used other
names: custom signals' ``input_datasets`` and signal-level ``alert_notification`` / ``data_window_size``
(1.9), ``threshold`` as the feature attribution threshold (1.9), ``threshold`` / ``data_type`` beside the
per-kind drift and quality maps. Each is rewritten to the GA shape here, with a note where it changes the
meaning or is ignored; positions are kept so later errors still name their lines.
"""

from __future__ import annotations

import re
from typing import Any

from monitoring.definition.strict import _rekeyed, note

#: ``type`` values of each union, as the models spell them.
SIGNAL_TYPES = ("data_drift", "prediction_drift", "data_quality", "feature_attribution_drift",
                "model_performance", "custom", "generation_safety_quality", "generation_token_statistics")
TRIGGER_TYPES = ("recurrence", "cron", "on_arrival")

_MAP_THRESHOLD_SIGNALS = ("data_drift", "prediction_drift", "data_quality")


def _canonical_type(data: dict[Any, Any], valid: tuple[str, ...]) -> dict[Any, Any]:
    value = data.get("type")
    if isinstance(value, str) and value != value.lower() and value.lower() in valid:
        return _rekeyed((k, value.lower() if k == "type" else v, (data, k)) for k, v in data.items())
    return data


def normalise_trigger(data: Any) -> Any:
    return _canonical_type(data, TRIGGER_TYPES) if isinstance(data, dict) else data


def normalise_signal(name: str, data: Any) -> Any:
    """One signal's mapping in the GA shape (see the module docstring)."""
    if not isinstance(data, dict):
        return data
    data = _canonical_type(data, SIGNAL_TYPES)
    kind = data.get("type")
    if kind == "custom":
        data = _custom(name, data)
    thresholds = data.get("metric_thresholds")
    if isinstance(thresholds, dict):
        fixed = _thresholds(name, str(kind), thresholds)
        if fixed is not thresholds:
            data = _rekeyed((k, fixed if k == "metric_thresholds" else v, (data, k)) for k, v in data.items())
    return data


def _custom(name: str, data: dict[Any, Any]) -> dict[Any, Any]:
    """SDK 1.9 custom signals: ``input_datasets``, ``alert_notification: <bool>``, ``data_window_size: <days>``."""
    renames = {"input_datasets": "input_data", "alert_notification": "alert_enabled"}
    if not any(k in data for k in (*renames, "data_window_size")):
        return data
    size = data.get("data_window_size")
    pairs = []
    for key, value in data.items():
        new = renames.get(key, key)
        if key == "data_window_size" or (new != key and new in data):
            continue
        if new != key:
            note(f"signal `{name}`: `{key}` is the earlier name of `{new}`; read as `{new}`.")
        pairs.append((new, _with_window(value, size) if new == "input_data" else value, (data, key)))
    return _rekeyed(pairs)


def _with_window(inputs: Any, size: Any) -> Any:
    """Each named input of a custom signal with the signal-level ``data_window_size`` unless it has its own."""
    if size is None or not isinstance(inputs, dict):
        return inputs
    out = {}
    for key, entry in inputs.items():
        if isinstance(entry, dict) and not {"data_window", "data_window_size"} & set(entry):
            pairs = [(k, v, (entry, k)) for k, v in entry.items()]
            entry = _rekeyed([*pairs, ("data_window_size", size, (inputs, key))])
        out[key] = entry
    return _rekeyed((k, v, (inputs, k)) for k, v in out.items())


def _thresholds(name: str, kind: str, thresholds: dict[Any, Any]) -> dict[Any, Any]:
    if kind == "feature_attribution_drift" and "threshold" in thresholds:
        if "normalized_discounted_cumulative_gain" in thresholds:
            note(f"signal `{name}`: `metric_thresholds.threshold` is ignored beside "
                 "`normalized_discounted_cumulative_gain`.")
            return _without(thresholds, {"threshold"})
        return _rekeyed(("normalized_discounted_cumulative_gain" if k == "threshold" else k, v, (thresholds, k))
                        for k, v in thresholds.items())
    ignored = {"threshold", "data_type"} & set(thresholds)
    if kind in _MAP_THRESHOLD_SIGNALS and ignored:
        note(f"signal `{name}`: `metric_thresholds.{'`/`'.join(sorted(ignored))}` is accepted as Azure ML's SDK "
             "does and ignored: thresholds are read from the `numerical` and `categorical` maps.")
        return _without(thresholds, ignored)
    return thresholds


def _without(mapping: dict[Any, Any], keys: set[str]) -> dict[Any, Any]:
    return _rekeyed((k, v, (mapping, k)) for k, v in mapping.items() if k not in keys)





# --------------------------------------------------------------------------------------------------
# The same forms in the JSON Schema


_DAYS_OR_DURATION = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]}
#: Keys the normalisers above accept on signal models, as JSON Schema: {model title: {key: schema}}.
_SIGNAL_KEYS: dict[str, dict[str, Any]] = {
    "CustomSignal": {"input_datasets": {"type": "object", "additionalProperties": {"$ref": "#/$defs/MonitoringInput"}},
                     "alert_notification": {"type": "boolean"}, "data_window_size": _DAYS_OR_DURATION},
    "FeatureAttributionDriftSignal": {"production_data": {
        "anyOf": [{"$ref": "#/$defs/MonitoringInput"}, {"type": "array", "minItems": 1, "maxItems": 2,
                                                        "items": {"$ref": "#/$defs/MonitoringInput"}},
                  {"type": "null"}]}},
}
#: Threshold maps that also take the SDK's ``threshold`` / ``data_type`` (ignored) or ``threshold`` (NDCG).
_THRESHOLD_KEYS = {"threshold": {"type": "number"}, "data_type": {"type": "string"}}


_PREVIEW_DATASETS = {"target_dataset": {"$ref": "#/$defs/MonitoringInput"},
                     "baseline_dataset": {"$ref": "#/$defs/MonitoringInput"}}


def accepted_forms(schema: dict[str, Any]) -> None:
    """Make the emitted JSON Schema accept what the normalisers accept: case-insensitive enum values, the
    SDK's ``questionanswering``, and the earlier keys of signals and thresholds."""
    defs = schema.get("$defs", {})
    for title, model in defs.items():
        if title.endswith("Signal") and "reference_data" in model.get("properties", {}):
            model["properties"].update(_PREVIEW_DATASETS)
    for title, keys in _SIGNAL_KEYS.items():
        if title in defs:
            defs[title].setdefault("properties", {}).update(keys)
    for title, model in defs.items():
        properties = model.get("properties", {})
        if title.endswith("Thresholds") and {"numerical", "categorical"} & set(properties):
            properties.update(_THRESHOLD_KEYS)
        if title == "AttributionThresholds":
            properties["threshold"] = {"type": "number", "minimum": 0}
    _case_insensitive(schema)


def _case_insensitive(node: Any) -> None:
    """``enum``/``const`` strings become a pattern matching them in any case (JSON Schema has no flag)."""
    if isinstance(node, list):
        for item in node:
            _case_insensitive(item)
        return
    if not isinstance(node, dict):
        return
    values = node.get("enum", [node["const"]] if "const" in node else None)
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        if "question_answering" in values:
            values = [*values, "questionanswering"]
        node.pop("enum", None)
        node.pop("const", None)
        node["type"] = "string"
        node["pattern"] = "^(" + "|".join(_any_case(v) for v in values) + ")$"
    for key, value in node.items():
        if key not in ("pattern", "discriminator"):
            _case_insensitive(value)


def _any_case(value: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in value)
__all__ = ["SIGNAL_TYPES", "TRIGGER_TYPES", "accepted_forms", "normalise_signal", "normalise_trigger"]
