"""Monitor YAMLs as Azure ML publishes them (SDK schema, examples, docs) load and normalise to the GA shape."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from monitoring.definition import load_file, load_text
from monitoring.errors import ConfigurationError, DefinitionError

PUBLISHED = Path(__file__).resolve().parents[2] / "fixtures" / "published"
HEAD = "name: m\ntrigger: {type: recurrence, frequency: day}\n"
def _signal(name: str, kind: str) -> str:
    return HEAD + f"create_monitor:\n  monitoring_signals:\n    {name}:\n      type: {kind}\n"


def _load(body: str):
    return load_text(HEAD + body, "m.yaml").schedule


def _problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_text(text, "m.yaml")
    return info.value.problems


@pytest.mark.parametrize("file", sorted(PUBLISHED.glob("*.yaml")), ids=lambda p: p.name)
def test_every_published_form_loads(file: Path) -> None:
    assert load_file(file).schedule.signals()


def test_windows_time_zone_and_any_case_enums_are_stored_in_one_form() -> None:
    schedule = load_file(PUBLISHED / "docs-windows-time-zone.yaml").schedule
    assert schedule.trigger.time_zone == "America/Los_Angeles"
    assert (schedule.trigger.type, schedule.trigger.frequency) == ("recurrence", "day")
    assert schedule.create_monitor.monitoring_target.ml_task == "classification"
    drift = schedule.signals()["drift"]
    assert drift.type == "data_drift"
    assert drift.production_data.input_data.type == "mltable"
    assert (drift.production_data.data_context, drift.reference_data.data_context) == ("model_inputs", "training")
    assert any("Windows name of `America/Los_Angeles`" in n for n in schedule.notes())


@pytest.mark.parametrize("zone", ["utc", "UTC", "Utc"])
def test_utc_in_any_case(zone: str) -> None:
    schedule = load_text(f"name: m\ntrigger: {{type: cron, expression: '0 3 * * *', time_zone: {zone}}}\n"
                         "create_monitor: {}\n").schedule
    assert schedule.trigger.time_zone == "UTC"


def test_unknown_time_zone_is_an_error() -> None:
    problems = _problems("name: m\ntrigger: {type: cron, expression: '0 3 * * *', time_zone: Mars Standard Time}\n"
                         "create_monitor: {}\n")
    assert problems == ["`trigger.time_zone` at line 2: unknown time zone `Mars Standard Time`; use an IANA name "
                        "such as `Europe/Berlin` or `UTC`, or a Windows name such as `Pacific Standard Time`"]


@pytest.mark.parametrize("spelling", ["questionanswering", "question_answering", "QuestionAnswering"])
def test_question_answering_in_every_spelling(spelling: str) -> None:
    schedule = _load(f"create_monitor: {{monitoring_target: {{ml_task: {spelling}}}}}\n")
    assert schedule.create_monitor.monitoring_target.ml_task == "question_answering"


def test_trailing_window_is_the_lookback_and_months_are_30_days() -> None:
    schedule = load_file(PUBLISHED / "sdk-1.12-trailing-window.yaml").schedule
    quality = schedule.signals()["quality"]
    assert quality.production_data.data_window.lookback_window_size == timedelta(days=30)
    assert quality.reference_data.data_window.lookback_window_size == timedelta(days=60)
    assert quality.reference_data.data_window.lookback_window_offset == timedelta(days=30)
    assert schedule.is_enabled is True
    # threshold/data_type beside the maps are accepted and ignored, with a note
    assert quality.configured_thresholds()["numerical"]["null_value_rate"] == 0.05
    assert any("`metric_thresholds.data_type`/`threshold`" in n for n in schedule.notes())


@pytest.mark.parametrize(("text", "days"), [("P1Y", 365), ("P1Y2M", 365 + 60), ("P2W", 14), ("P1MT12H", 30.5)])
def test_duration_calendar_units(text: str, days: float) -> None:
    schedule = load_text(_signal("q", "data_quality") + "      production_data: "
                         f"{{input_data: {{path: p}}, data_window: {{lookback_window_size: {text}}}}}\n").schedule
    assert schedule.signals()["q"].production_data.data_window.lookback_window_size == timedelta(days=days)


def test_sdk_19_custom_signal_and_attribution_threshold() -> None:
    schedule = load_file(PUBLISHED / "sdk-1.9-custom-signal.yaml").schedule
    custom = schedule.signals()["custom_std"]
    assert custom.alert_enabled is True
    production = custom.production_data
    assert production.input_data.path == "azureml:my_production_data:1"
    assert production.data_context == "model_inputs"
    assert production.data_window.lookback_window_size == timedelta(days=7)
    attribution = schedule.signals()["attribution"]
    assert attribution.configured_thresholds() == {"model": {"normalized_discounted_cumulative_gain": 0.9}}
    assert attribution.reference_data.data_column_names.target_column == "DEFAULT_NEXT_MONTH"


def test_ga_attribution_production_list_is_inputs_and_outputs() -> None:
    schedule = load_file(PUBLISHED / "ga-feature-attribution-list.yaml").schedule
    attribution = schedule.signals()["attribution"]
    assert attribution.production_data.input_data.path == "azureml:fraud_model_inputs:1"
    assert attribution.production_outputs.input_data.path == "azureml:fraud_model_outputs:1"
    assert attribution.production_outputs.data_column_names.prediction == "is_fraud"
    assert attribution.production_data.data_column_names.correlation_id == "correlationid"


def test_outputs_found_by_prediction_columns_whatever_the_order() -> None:
    schedule = _load("""create_monitor:
  monitoring_signals:
    a:
      type: feature_attribution_drift
      production_data:
        - {input_data: {path: out}, data_column_names: {prediction: y, correlation_id: c}}
        - {input_data: {path: in}, data_column_names: {correlation_id: c}}
""")
    signal = schedule.signals()["a"]
    assert (signal.production_data.input_data.path, signal.production_outputs.input_data.path) == ("in", "out")


def test_three_production_entries_are_an_error() -> None:
    problems = _problems(_signal("a", "feature_attribution_drift")
                         + "      production_data: [{input_data: {path: a}}, {input_data: {path: b}}, "
                         "{input_data: {path: c}}]\n")
    assert len(problems) == 1
    assert "1 or 2 entries, not 3" in problems[0]


def test_free_data_column_names_keep_unknown_roles_with_a_note() -> None:
    schedule = load_file(PUBLISHED / "ga-feature-attribution-list.yaml").schedule
    names = schedule.signals()["drift"].production_data.data_column_names
    assert names.extra_roles == {"join_column": "correlationid"}
    assert "correlationid" in names.role_columns()
    assert any("`data_column_names.join_column`" in n for n in schedule.notes())


def test_generative_signals_are_valid_and_noted_unsupported() -> None:
    for file, kind in (("sdk-generation-safety-quality.yaml", "generation_safety_quality"),
                       ("sdk-token-statistics.yaml", "generation_token_statistics")):
        schedule = load_file(PUBLISHED / file).schedule
        (signal,) = schedule.signals().values()
        assert signal.type == kind
        assert signal.unsupported
        assert any("unsupported at run time" in n for n in schedule.notes())


def test_endpoint_deployment_id_is_any_string_until_it_must_be_resolved() -> None:
    target = load_file(PUBLISHED / "sdk-generation-safety-quality.yaml").schedule.create_monitor.monitoring_target
    assert target.endpoint_deployment_id == "fake_endpoint_id"
    with pytest.raises(ConfigurationError, match="azureml:<endpoint>:<deployment>"):
        target.endpoint_and_deployment  # noqa: B018


@pytest.mark.parametrize(("typo", "hint"), [("type: data_drift\n      features: {top_n_feature_importance: 3}\n"
                                             "      feature_type_override: {a: numberical}", "numerical"),
                                            ("type: model_performance\n      model_type: classfiication",
                                             "classification")])
def test_real_typos_still_fail(typo: str, hint: str) -> None:
    problems = _problems(HEAD + f"create_monitor:\n  monitoring_signals:\n    s:\n      {typo}\n")
    assert len(problems) == 1
    assert hint in problems[0]


def test_typo_in_a_threshold_key_says_did_you_mean() -> None:
    problems = _problems(HEAD + "create_monitor:\n  monitoring_signals:\n    s:\n      type: data_drift\n"
                         "      metric_thresholds: [{metric_name: jensen_shannon_distance, threshhod: 0.1}]\n")
    assert problems == ["`create_monitor.monitoring_signals.s.metric_thresholds[0].threshhod` at line 7: "
                        "unknown field; did you mean `threshold`?"]


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "-1"])
def test_thresholds_are_finite_and_not_negative(value: str) -> None:
    problems = _problems(HEAD + "create_monitor:\n  monitoring_signals:\n    s:\n      type: data_drift\n"
                         f"      metric_thresholds: {{numerical: {{jensen_shannon_distance: {value}}}}}\n")
    assert len(problems) == 1
    assert "metric_thresholds.numerical.jensen_shannon_distance` at line 7" in problems[0]
    parsed = float(value.replace(".inf", "inf").replace(".nan", "nan"))
    assert ("finite" in problems[0]) if not math.isfinite(parsed) else ("greater than or equal to 0" in problems[0])


def test_custom_threshold_inf_is_an_error() -> None:
    problems = _problems(_signal("s", "custom") + "      component_id: azureml:c:1\n"
                         "      metric_thresholds: [{metric_name: m, threshold: .inf}]\n")
    assert len(problems) == 1
    assert "finite" in problems[0]


def test_interval_is_bounded_with_field_value_and_range() -> None:
    problems = _problems("name: m\ntrigger: {type: recurrence, frequency: day, interval: 1000000000000}\n"
                         "create_monitor: {}\n")
    assert problems == ["`trigger.interval` at line 2: 1000000000000 is out of range: input should be less than "
                        "or equal to 1000"]


@pytest.mark.parametrize(("size", "message"), [
    ("P99999999D", "P99999999D is out of range: lookback_window_size must be from PT1S to P36500D"),
    ("P0D", "P0D is out of range: lookback_window_size must be from PT1S to P36500D"),
    ("7", "`7` is not an ISO-8601 duration"),
])
def test_lookback_size_is_bounded(size: str, message: str) -> None:
    problems = _problems(_signal("q", "data_quality") + "      production_data: "
                         f"{{input_data: {{path: p}}, data_window: {{lookback_window_size: {size}}}}}\n")
    assert len(problems) == 1
    assert message in problems[0]


def test_start_time_after_end_time_is_an_error() -> None:
    problems = _problems("name: m\ntrigger: {type: recurrence, frequency: day, start_time: 2026-02-01T00:00:00, "
                         "end_time: 2026-01-01T00:00:00}\ncreate_monitor: {}\n")
    assert len(problems) == 1
    assert "is not before end_time" in problems[0]


def test_dates_are_bounded() -> None:
    problems = _problems("name: m\ntrigger: {type: recurrence, frequency: day, start_time: 9999-01-01T00:00:00}\n"
                         "create_monitor: {}\n")
    assert len(problems) == 1
    assert "out of range: dates must be between 1900-01-01 and 2200-01-01" in problems[0]


def test_is_enabled_false_is_noted() -> None:
    schedule = load_text("name: m\nis_enabled: false\ntrigger: {type: recurrence, frequency: day}\n"
                         "create_monitor: {}\n").schedule
    assert schedule.is_enabled is False
    assert any("is_enabled: false" in n for n in schedule.notes())
