"""Monitor definitions: the source document's YAMLs, GA and preview shapes, and error messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from monitoring.definition import json_schema, load_file, load_text
from monitoring.errors import DefinitionError

SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "spec"
SOURCE_DOC = Path(__file__).resolve().parents[4] / "shared" / "spec" / "azureml-model-monitoring-preview.md"
ADVANCED = (SPEC / "advanced-model-monitoring.yaml").read_text()
INDENT_FIXED = ADVANCED.replace("\n       - applicable_feature_type: categorical",
                                "\n        - applicable_feature_type: categorical")


def _problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_text(text, "monitor.yaml")
    return info.value.problems


@pytest.mark.skipif(not SOURCE_DOC.exists(), reason="shared/spec is not beside the checkout")
def test_fixtures_are_the_source_documents_yaml() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", SOURCE_DOC.read_text(), re.S)
    assert blocks[0] == (SPEC / "out-of-box-monitoring.yaml").read_text()
    assert blocks[1] == ADVANCED


def test_out_of_box_yaml_validates_with_the_default_signals() -> None:
    loaded = load_file(SPEC / "out-of-box-monitoring.yaml")
    schedule = loaded.schedule
    assert schedule.name == "fraud_detection_model_monitoring"
    assert schedule.trigger.frequency == "day"
    assert schedule.trigger.schedule.hours == [3]
    assert schedule.create_monitor.monitoring_target.endpoint_and_deployment == (
        "fraud-detection-endpoint", "fraud-detection-deployment")
    assert {n: s.type for n, s in schedule.signals().items()} == {
        "data-drift-signal": "data_drift", "prediction-drift-signal": "prediction_drift",
        "data-quality-signal": "data_quality"}
    assert any("compute" in note for note in schedule.notes())


def test_advanced_yaml_as_written_fails_on_its_indentation_with_the_line() -> None:
    problems = _problems(ADVANCED)
    assert len(problems) == 1
    assert problems[0].startswith("YAML syntax error at line 59, column 8")


def test_advanced_yaml_with_indentation_fixed_reports_both_typos_with_lines_and_hint() -> None:
    problems = _problems(INDENT_FIXED)
    assert problems == [
        "`create_monitor.monitoring_signals.advanced_data_drift.metric_thresholds[1].threshhod` at line 40: "
        "unknown field; did you mean `threshold`?",
        "`create_monitor.monitoring_signals.advanced_data_drift_subpopulation.metric_thresholds[1].threshhod` "
        "at line 61: unknown field; did you mean `threshold`?",
    ]


def test_advanced_yaml_fully_fixed_validates_and_normalises_preview_names() -> None:
    schedule = load_text(INDENT_FIXED.replace("threshhod", "threshold")).schedule
    signals = schedule.signals()
    drift = signals["advanced_data_drift"]
    assert drift.reference_data.input_data.path == "azureml:my_model_training_data:1"
    assert drift.reference_data.input_data.asset == "azureml:my_model_training_data:1"
    assert drift.reference_data.data_context == "training"
    assert drift.features.top_n_feature_importance == 20
    assert drift.configured_thresholds() == {
        "numerical": {"jensen_shannon_distance": 0.01},
        "categorical": {"pearsons_chi_squared_test": 0.02},  # chi_squared_test is the preview name
    }
    segment = signals["advanced_data_drift_subpopulation"].data_segment
    assert (segment.feature_name, segment.feature_values) == ("state", ["WA", "CA"])
    quality = signals["advanced_data_quality"]
    assert quality.features == ["feature_A", "feature_B", "feature_C"]
    assert quality.configured_thresholds()["numerical"] == {"null_value_rate": 0.0, "out_of_bounds_rate": 0.0}
    attribution = signals["feature_attribution_drift_signal"]
    assert attribution.reference_data.data_column_names.target_column == "fraud_detected"
    assert attribution.model_type == "classification"
    assert attribution.configured_thresholds() == {"model": {"normalized_discounted_cumulative_gain": 0.05}}
    assert schedule.create_monitor.alerts.emails == ["abc@example.com", "def@example.com"]


GA = """\
name: credit-monitor
trigger:
  type: cron
  expression: "15 3 * * *"
  timezone: Europe/Berlin
create_monitor:
  monitoring_signals:
    drift:
      type: data_drift
      production_data:
        input_data: {path: az://data/credit/, type: uri_folder}
        data_context: model_inputs
        data_window: {lookback_window_size: P7D, lookback_window_offset: P0D}
        data_column_names: {timestamp: ts}
      reference_data:
        input_data: {path: az://data/train/, type: mltable}
        data_context: training
        data_window: {window_start: "2026-01-01T00:00:00Z", window_end: "2026-02-01T00:00:00Z"}
      features: all_features
      metric_thresholds:
        numerical: {jensen_shannon_distance: 0, two_sample_kolmogorov_smirnov_test: 0.05}
        categorical: {pearsons_chi_squared_test: 0.02}
    performance:
      type: model_performance
      production_data:
        input_data: {path: ./prod}
        data_column_names: {prediction: pred, correlation_id: id}
      reference_data:
        input_data: {path: ./labels}
        data_context: ground_truth
        data_column_names: {actual: label, correlation_id: id}
      metric_thresholds:
        tabular_classification: {accuracy: 0.9, precision: 0.8}
    mine:
      type: custom
      component_id: azureml:my_signal:1.0.0
      inputs: {column: amount}
      metric_thresholds:
        - metric_name: std_deviation
          threshold: 2
  alert_notification:
    emails: [a@example.com]
    mode: on_change
"""


def test_ga_shape_with_several_metrics_per_kind_and_a_zero_threshold() -> None:
    schedule = load_text(GA).schedule
    assert schedule.trigger.type == "cron"
    assert schedule.trigger.time_zone == "Europe/Berlin"
    drift = schedule.signals()["drift"]
    assert drift.configured_thresholds() == {
        "numerical": {"jensen_shannon_distance": 0.0, "two_sample_kolmogorov_smirnov_test": 0.05},
        "categorical": {"pearsons_chi_squared_test": 0.02},
    }
    assert drift.production_data.data_column_names.timestamp == "ts"
    perf = schedule.signals()["performance"]
    assert perf.configured_thresholds()["classification"] == {"accuracy": 0.9, "precision": 0.8}
    assert schedule.signals()["mine"].configured_thresholds() == {"custom": {"std_deviation": 2.0}}
    assert schedule.create_monitor.alerts.mode == "on_change"


def test_defaults_fill_the_kinds_without_thresholds() -> None:
    text = GA.replace("        categorical: {pearsons_chi_squared_test: 0.02}\n", "")
    drift = load_text(text).schedule.signals()["drift"]
    assert drift.configured_thresholds()["categorical"] == {"jensen_shannon_distance": 0.1}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("jensen_shannon_distance: 0,", "jenson_shannon_distance: 0,",
     "`create_monitor.monitoring_signals.drift.metric_thresholds.numerical.jenson_shannon_distance` at line 21: "
     "unknown field; did you mean `jensen_shannon_distance`?"),
    ("expression: \"15 3 * * *\"", "expression: \"15 3 * *\"",
     "`trigger.expression` at line 4: `15 3 * *` is not a five-field cron expression"),
    ("timezone: Europe/Berlin", "timezone: Europe/Berlinn", "`trigger.timezone` at line 5: unknown time zone"),
    ("lookback_window_size: P7D", "lookback_window_size: 7 days",
     "`create_monitor.monitoring_signals.drift.production_data.data_window.lookback_window_size` at line 13: "
     "`7 days` is not an ISO-8601 duration"),
    ("type: data_drift", "type: data_drfit",
     "`create_monitor.monitoring_signals.drift.type` at line 9: unknown type `data_drfit`; did you mean `data_drift`?"),
    ("path: az://data/train/", "path: azureml:bad:name:x", "is not an asset reference of the form"),
    ("window_end: \"2026-02-01T00:00:00Z\"", "window_end: \"2025-02-01T00:00:00Z\"", "is not before window_end"),
    ("mode: on_change", "mode: sometimes", "`create_monitor.alert_notification.mode` at line 43:"),
])
def test_errors_name_the_path_line_and_fix(old: str, new: str, expected: str) -> None:
    assert old in GA
    problems = _problems(GA.replace(old, new))
    assert any(p.startswith(expected) or expected in p for p in problems), problems


def test_all_problems_of_a_file_are_reported_at_once() -> None:
    text = GA.replace("type: cron", "type: cron\n  expresion_typo: 1").replace("data_context: training",
                                                                                  "data_context: trainning")
    text = text.replace("mode: on_change", "mode: never")
    problems = _problems(text)
    assert len(problems) == 3
    assert "did you mean `expression`" in problems[0]


def test_unknown_top_level_key_and_missing_required_fields() -> None:
    problems = _problems("name: x\ntriger: {}\n")
    assert "`triger` at line 2: unknown field; did you mean `trigger`?" in problems
    problems = _problems("name: x\ntrigger: {type: cron, expression: '* * * * *'}\n")
    assert problems == ["`create_monitor`: required field is missing"]


def test_non_mapping_and_unreadable_files(tmp_path: Path) -> None:
    assert "must be a YAML mapping" in _problems("- a\n- b\n")[0]
    with pytest.raises(DefinitionError, match="cannot read the file"):
        load_file(tmp_path / "missing.yaml")


def test_python_tags_are_not_constructed() -> None:
    problems = _problems("name: !!python/object/apply:os.system ['echo hi']\n")
    assert problems  # the tag is refused or kept as data, never executed


def test_json_schema_covers_the_definition() -> None:
    schema = json_schema()
    text = json.dumps(schema)
    assert schema["properties"]["trigger"]
    for name in ("create_monitor", "monitoring_signals", "lookback_window_size", "pearsons_chi_squared_test",
                 "top_n_feature_importance", "data_segment"):
        assert name in text


def test_preview_list_metric_names_are_checked_against_the_signal_type() -> None:
    fixed = INDENT_FIXED.replace("threshhod", "threshold")
    problems = _problems(fixed.replace("metric_name: chi_squared_test", "metric_name: chi_square_test", 1))
    assert len(problems) == 1
    path = "`create_monitor.monitoring_signals.advanced_data_drift.metric_thresholds`"
    assert problems[0].startswith(f"{path} at line 34:")
    assert "metric `chi_square_test` does not apply to data_drift categorical; did you mean `chi_squared_test`?" in \
        problems[0]
    wrong_kind = fixed.replace("- metric_name: null_value_rate", "- metric_name: jensen_shannon_distance", 1)
    assert "does not apply to data_quality" in _problems(wrong_kind)[0]


def test_every_problem_of_one_mapping_is_reported_sorted_by_line() -> None:
    fixed = INDENT_FIXED.replace("threshhod", "threshold")
    text = (fixed.replace("type: data_quality", "type: data_quality\n      alert_enabld: false")
            .replace("- feature_A", "- 3").replace("frequency: day", "frequncy: day"))
    assert _problems(text) == [
        "`trigger.frequncy` at line 10: unknown field; did you mean `frequency`?",  # and not "frequency missing"
        "`create_monitor.monitoring_signals.advanced_data_quality.alert_enabld` at line 64: unknown field; "
        "did you mean `alert_enabled`?",
        "`create_monitor.monitoring_signals.advanced_data_quality.features[0]` at line 72: "
        "Input should be a valid string",
    ]


def test_keys_inside_renamed_preview_mappings_keep_their_lines() -> None:
    fixed = INDENT_FIXED.replace("threshhod", "threshold")
    text = fixed.replace("        dataset_context: training\n      features: \n",
                         "        dataset_contxt: training\n      features: \n", 1)
    assert _problems(text) == [
        "`create_monitor.monitoring_signals.advanced_data_drift.baseline_dataset.dataset_contxt` at line 31: "
        "unknown field; did you mean `data_context`?"]
    bad_path = fixed.replace("path: azureml:my_model_training_data:1 # use", "path: azureml:a:b:c # use", 1)
    assert _problems(bad_path)[0].startswith(
        "`create_monitor.monitoring_signals.advanced_data_drift.baseline_dataset.input_dataset.path` at line 29:")


def test_models_used_directly_still_reject_unknown_keys() -> None:
    from pydantic import ValidationError

    from monitoring.definition import AlertNotification

    with pytest.raises(ValidationError, match=r"unknown field `emials`; did you mean `emails`\?"):
        AlertNotification.model_validate({"emials": ["a@example.com"]})
