"""The Function App as the Python worker indexes it, and the host and local settings files.

No Functions host runs here, so this does the worker's load-time checks itself: every binding has a
parameter, every annotation is a plain type (older workers reject ``dict[str, Any]`` and unresolvable
strings), and each binding's converter accepts its annotation.
"""

import inspect
import json
import typing
from pathlib import Path

from azure.functions import meta
from azurefunctions.extensions.base import meta as sdk_meta

import function_app
from monitoring.settings import HOST_SETTINGS, SETTING_NAMES

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = {f.get_function_name(): f for f in function_app.app.get_functions()}


def test_the_app_has_exactly_the_functions_of_the_blueprints() -> None:
    assert set(FUNCTIONS) == {
        "monitor_run", "signal_run", "plan_run", "compute_signal", "alert", "scheduler", "ingest_blob",
        "list_monitors", "validate_monitor", "apply_monitor", "start_monitor_run", "get_monitor_run",
        "alert_followup", "alert_job", "summarize_feature", "range_share", "combine_feature",
    }


def test_every_binding_passes_the_workers_load_checks() -> None:
    registry = meta.get_binding_registry()
    sdk_registry = sdk_meta.get_binding_registry()
    for name, function in FUNCTIONS.items():
        code = function.get_user_function()
        parameters = inspect.signature(code).parameters
        hints = typing.get_type_hints(code)
        for binding in function.get_bindings():
            if binding.name == "$return":
                assert isinstance(hints.get("return"), type), name
                continue
            assert binding.name in parameters, (name, binding.name)
            annotation = hints.get(binding.name)
            if annotation is None:
                continue
            assert isinstance(annotation, type), (name, binding.name, annotation)
            if sdk_registry.check_supported_type(annotation):  # an SDK type: the extension's converter decodes it
                sdk_converter = sdk_registry.get(binding.type)
                assert sdk_converter is not None, binding.type
                assert sdk_converter.check_input_type_annotation(annotation), (name, binding.name, annotation)
                continue
            converter = registry.get(binding.type)
            assert converter is not None, binding.type
            assert converter.check_input_type_annotation(annotation), (name, binding.name, annotation)


def test_triggers_are_wired_as_the_infrastructure_expects() -> None:
    bindings = {name: {b["type"]: b for b in json.loads(f.get_function_json())["bindings"]}
                for name, f in FUNCTIONS.items()}
    blob = bindings["ingest_blob"]["blobTrigger"]
    assert (blob["path"], blob["connection"], blob["source"]) == ("incoming/{name}", "DataStorage", "EventGrid")
    assert bindings["scheduler"]["timerTrigger"]["schedule"] == "%SCHEDULER_SCHEDULE%"
    http = [b["httpTrigger"] for b in bindings.values() if "httpTrigger" in b]
    assert len(http) == 5
    assert {b["authLevel"] for b in http} == {"FUNCTION"}


def test_host_json_configures_the_bundle_the_hub_and_quiet_durable_logs() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensionBundle"]["version"] == "[4.*, 5.0.0)"
    durable = host["extensions"]["durableTask"]
    assert durable["hubName"] == "%TASKHUB_NAME%"
    assert 1 <= durable["maxConcurrentActivityFunctions"] <= 4
    assert host["functionTimeout"]
    assert host["logging"]["logLevel"]["DurableTask.AzureStorage"] == "Warning"
    assert host["logging"]["logLevel"]["DurableTask.Core"] == "Warning"


def test_local_settings_use_only_known_settings_and_point_at_azurite() -> None:
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    assert set(values) <= set(SETTING_NAMES) | {h.name for h in HOST_SETTINGS}
    for name in ("AzureWebJobsStorage", "DataStorage", "STORAGE_CONNECTION_STRING"):
        assert values[name] == "UseDevelopmentStorage=true"
