"""The app indexed the way the Python worker indexes it for the host, binding by binding.

Steps of azure-functions-python-worker (``azure_functions_worker/loader.py``: ``index_function_app``,
``process_indexed_function``, ``build_binding_protos``, ``get_fx_raw_bindings``; ``functions.py``:
``Registry.add_indexed_function``), reproduced with the ``azure-functions`` library the worker calls,
since the worker itself is not on PyPI for Python 3.11: import the script's module, find exactly one
``FunctionRegister``, take ``get_functions()``, and for each function its bindings (name, type, direction,
data type) and the raw bindings the host receives (``get_raw_bindings()``, JSON). The expected table is the
contract with the infrastructure: the Event Grid blob trigger on the ``incoming`` container through the
``DataStorage`` connection (infra/ subscribes Event Grid to ``ingest_blob``), the timer's schedule setting,
function-key HTTP routes of the README's API, and the Durable triggers and clients.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import sys
import typing
import uuid
from typing import Any

import azure.functions as func
from azure.functions.decorators.core import BindingDirection

SCRIPT = "function_app"

#: function -> raw bindings the host must receive (every key of every binding).
EXPECTED: dict[str, list[dict[str, Any]]] = {
    "monitor_run": [{"direction": "IN", "type": "orchestrationTrigger", "name": "context"}],
    "signal_run": [{"direction": "IN", "type": "orchestrationTrigger", "name": "context"}],
    "plan_run": [{"direction": "IN", "type": "activityTrigger", "name": "request"}],
    "compute_signal": [{"direction": "IN", "type": "activityTrigger", "name": "batch"}],
    "summarize_feature": [{"direction": "IN", "type": "activityTrigger", "name": "batch"}],
    "range_share": [{"direction": "IN", "type": "activityTrigger", "name": "part"}],
    "combine_feature": [{"direction": "IN", "type": "activityTrigger", "name": "batch"}],
    "alert": [{"direction": "IN", "type": "activityTrigger", "name": "request"}],
    "alert_followup": [{"direction": "IN", "type": "orchestrationTrigger", "name": "context"}],
    "alert_job": [{"direction": "IN", "type": "activityTrigger", "name": "job"}],
    "scheduler": [{"direction": "IN", "type": "durableClient", "name": "client"},
                  {"direction": "IN", "type": "timerTrigger", "name": "timer", "schedule": "%SCHEDULER_SCHEDULE%",
                   "runOnStartup": False, "useMonitor": True}],
    "ingest_blob": [{"direction": "IN", "type": "durableClient", "name": "client"},
                    {"direction": "IN", "type": "blobTrigger", "name": "blob", "path": "incoming/{name}",
                     "connection": "DataStorage", "source": "EventGrid"}],
}
_HTTP = {"list_monitors": ("GET", "monitors", False), "validate_monitor": ("POST", "monitors/validate", False),
         "apply_monitor": ("POST", "monitors", False), "start_monitor_run": ("POST", "monitors/{name}/runs", True),
         "get_monitor_run": ("GET", "monitors/{name}/runs/{run_id}", True)}
for _name, (_method, _route, _client) in _HTTP.items():
    EXPECTED[_name] = [*([{"direction": "IN", "type": "durableClient", "name": "client"}] if _client else []),
                       {"direction": "IN", "type": "httpTrigger", "name": "req", "methods": [_method],
                        "authLevel": "FUNCTION", "route": _route},
                       {"direction": "OUT", "type": "http", "name": "$return"}]


@functools.cache
def _index() -> list[Any]:
    """``index_function_app``: the module's one top-level FunctionRegister, and its functions (once, as the
    worker does: ``get_functions`` refuses a second call, so the module is imported afresh)."""
    sys.modules.pop(SCRIPT, None)
    module = importlib.import_module(SCRIPT)
    apps = [getattr(module, name) for name in dir(module) if isinstance(getattr(module, name), func.FunctionRegister)]
    assert len(apps) == 1, "more than one FunctionRegister at the top level of function_app.py"
    return apps[0].get_functions()


def test_every_function_indexes_with_exactly_the_expected_raw_bindings() -> None:
    functions = _index()
    names = [f.get_function_name() for f in functions]
    assert sorted(names) == sorted(EXPECTED)
    ids = {str(uuid.uuid5(uuid.NAMESPACE_OID, n)) for n in names}  # the worker's function IDs
    assert len(ids) == len(names)
    for function in functions:
        raw = [json.loads(b) for b in function.get_raw_bindings()]
        assert raw == EXPECTED[function.get_function_name()], function.get_function_name()
        assert json.loads(function.get_function_json())["bindings"] == raw
        assert function.function_script_file == f"{SCRIPT}.py"


def test_binding_protos_have_directions_and_parameters_the_worker_accepts() -> None:
    """``build_binding_protos`` and ``Registry.add_indexed_function``'s checks on each binding."""
    for function in _index():
        name = function.get_function_name()
        code = function.get_user_function()
        parameters = inspect.signature(code).parameters
        hints = typing.get_type_hints(code)
        triggers = [b for b in function.get_bindings() if b.type.endswith("Trigger")]
        assert len(triggers) == 1, name
        assert function.get_trigger().name == triggers[0].name
        for binding in function.get_bindings():
            if binding.name == "$return":
                assert BindingDirection(binding.direction) is BindingDirection.OUT, name  # HTTP response
                assert hints.get("return") is func.HttpResponse, name
                continue
            assert BindingDirection(binding.direction) is BindingDirection.IN, (name, binding.name)
            assert binding.name in parameters, (name, binding.name)
        assert set(parameters) == {b.name for b in function.get_bindings() if b.name != "$return"}, name


def test_no_function_sets_a_retry_policy_the_host_would_apply_twice() -> None:
    """``build_retry_protos``: retries are Durable's (RetryOptions), not the host's per-trigger policy."""
    for function in _index():
        assert not function.get_settings_dict("retry_policy"), function.get_function_name()
