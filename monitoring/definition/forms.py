"""Published spellings of a signal or trigger, normalised before pydantic picks a model by ``type``.

Azure ML's SDK compares enum values ignoring case (``type: Data_Drift``) and earlier releases used other
names: custom signals' ``input_datasets`` and signal-level ``alert_notification`` / ``data_window_size``
(1.9), ``threshold`` as the feature attribution threshold (1.9), ``threshold`` / ``data_type`` beside the
per-kind drift and quality maps. Each is rewritten to the GA shape here, with a note where it changes the
meaning or is ignored; positions are kept so later errors still name their lines.
"""

from __future__ import annotations

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


__all__ = ["SIGNAL_TYPES", "TRIGGER_TYPES", "normalise_signal", "normalise_trigger"]
