"""The HTTP API, each route called through its function object with a ``func.HttpRequest``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest

from functions import http_api, runs
from monitoring.interfaces.remote import MAX_DEFINITION_BYTES
from monitoring.names import instance_id, run_id
from monitoring.storage import blob
from monitoring.storage.definitions import definition_store
from tests.conftest import MONITOR, MONITOR_YAML, FraudData, user_function
from tests.durable_client import FakeDurableExtension
from tests.durable_harness import DurableHarness

pytestmark = pytest.mark.azurite


def _request(method: str, route: str, *, body: bytes = b"", params: dict[str, str] | None = None,
             route_params: dict[str, str] | None = None) -> func.HttpRequest:
    return func.HttpRequest(method=method, url=f"http://localhost:7071/api/{route}", body=body,
                            params=params or {}, route_params=route_params or {},
                            headers={"content-type": "application/json"})


def _call(name: str, request: func.HttpRequest, extension: FakeDurableExtension | None = None) -> func.HttpResponse:
    code: Callable[..., Any] = user_function(http_api.bp, name)
    if extension is None:
        return code(request)
    return asyncio.run(code(request, client=extension.client()))


def _json(response: func.HttpResponse) -> Any:
    assert "application/json" in (response.headers.get("Content-Type") or response.mimetype)
    return json.loads(response.get_body())


def _run(extension: FakeDurableExtension, monitor: str, body: bytes = b"",
         params: dict[str, str] | None = None) -> func.HttpResponse:
    return _call("start_monitor_run", _request("POST", f"monitors/{monitor}/runs", body=body, params=params,
                                               route_params={"name": monitor}), extension)


def _get_run(extension: FakeDurableExtension, monitor: str, run: str) -> func.HttpResponse:
    return _call("get_monitor_run", _request("GET", f"monitors/{monitor}/runs/{run}",
                                             route_params={"name": monitor, "run_id": run}), extension)


def test_validate_reports_every_problem_with_its_line_and_stores_nothing(storage: Any) -> None:
    good = _call("validate_monitor", _request("POST", "monitors/validate", body=MONITOR_YAML.encode()))
    assert good.status_code == 200
    report = _json(good)
    assert (report["valid"], report["name"]) == (True, MONITOR)
    assert report["signals"] == {"data-drift": "data_drift", "prediction-drift": "prediction_drift"}
    bad_yaml = MONITOR_YAML.replace("lookback_window_size: P7D", "lookback_windw_size: P7D", 1)
    bad = _call("validate_monitor", _request("POST", "monitors/validate", body=bad_yaml.encode()))
    assert bad.status_code == 422
    problems = _json(bad)["problems"]
    line = 1 + bad_yaml.splitlines().index(next(x for x in bad_yaml.splitlines() if "lookback_windw_size" in x))
    assert any(f"at line {line}" in p and "did you mean `lookback_window_size`" in p for p in problems)
    assert list(blob.container_client(blob.MONITORS).list_blobs()) == []


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"", 400, "body is empty"),
    (b"\xff\xfe\x00name", 400, "not UTF-8"),
    (b"name: [unclosed", 422, "YAML syntax error"),
    (b"x" * (MAX_DEFINITION_BYTES + 1), 413, "at most"),
])
def test_bad_definition_bodies_get_json_errors(storage: Any, body: bytes, status: int, message: str) -> None:
    for route in ("validate_monitor", "apply_monitor"):
        response = _call(route, _request("POST", "monitors", body=body))
        assert response.status_code == status
        error = _json(response)
        assert message in error["error"] + " ".join(error.get("problems", []))
    assert list(blob.container_client(blob.MONITORS).list_blobs()) == []


def test_apply_stores_the_definition_and_list_shows_it(storage: Any) -> None:
    empty = _call("list_monitors", _request("GET", "monitors"))
    assert _json(empty) == {"monitors": []}
    applied = _call("apply_monitor", _request("POST", "monitors", body=MONITOR_YAML.encode()))
    assert applied.status_code == 200
    assert _json(applied)["definition"] == f"monitors/{MONITOR}.yaml"
    assert definition_store().load(MONITOR).schedule.name == MONITOR
    listed = _json(_call("list_monitors", _request("GET", "monitors")))["monitors"]
    assert [(m["name"], m["valid"], m["last_run"]) for m in listed] == [(MONITOR, True, None)]
    assert listed[0]["trigger"] == "every 1 day(s) at 03:15 (UTC)"


def test_run_now_starts_the_run_and_its_status_and_results_can_be_read(fraud_monitor: FraudData) -> None:
    extension = FakeDurableExtension(DurableHarness([runs.bp], batch=True))
    fire = fraud_monitor.fire_time.isoformat().replace("+00:00", "Z")
    response = _run(extension, MONITOR, json.dumps({"fire_time": fire}).encode())
    iid = instance_id(MONITOR, fraud_monitor.fire_time)
    assert response.status_code == 202
    links = _json(response)
    assert links["id"] == iid
    assert response.headers["Location"] == links["statusQueryGetUri"]
    assert extension.starts[0][2]["reason"] == "manual"

    got = _get_run(extension, MONITOR, run_id(fraud_monitor.fire_time))
    assert got.status_code == 200
    document = _json(got)
    assert document["instance"]["runtime_status"] == "Completed"
    assert document["run"]["status"] == document["instance"]["output"]["status"] == "completed"
    assert document["links"]["statusQueryGetUri"] == links["statusQueryGetUri"]

    listed = _json(_call("list_monitors", _request("GET", "monitors")))["monitors"]
    assert (listed[0]["last_run"], listed[0]["last_status"]) == (run_id(fraud_monitor.fire_time), "completed")

    extension.set_instance(iid, "Running")
    busy = _run(extension, MONITOR, params={"fire_time": fire})
    assert busy.status_code == 409
    assert _json(busy)["statusQueryGetUri"] == links["statusQueryGetUri"]
    extension.set_instance(iid, "Completed")
    assert _run(extension, MONITOR, params={"fire_time": fire}).status_code == 202  # a finished run runs again
    assert len(extension.starts) == 2


def test_run_now_without_a_time_runs_the_latest_fire_time(fraud_monitor: FraudData) -> None:
    extension = FakeDurableExtension()
    assert _run(extension, MONITOR).status_code == 202
    assert extension.starts[0][1] == instance_id(MONITOR, fraud_monitor.fire_time)


@pytest.mark.parametrize(("monitor", "body", "status", "message"), [
    ("unknown-monitor", b"", 404, "has no definition"),
    ("bad name!", b"", 400, "is not a monitor name"),
    (MONITOR, b"{not json", 400, "not JSON"),
    (MONITOR, b"[1, 2]", 400, "must be a JSON object"),
    (MONITOR, b'{"fire_time": "yesterday"}', 400, "not an ISO-8601 time"),
    (MONITOR, b'{"fire_time": 20260101}', 400, "must be an ISO-8601 string"),
    (MONITOR, b'{"fire_time": "2026-01-01T03:15:30Z"}', 400, "must be a whole minute"),
    (MONITOR, b'{"firetime": "2026-01-01T03:15Z"}', 400, "unknown field(s) firetime"),
])
def test_run_now_rejects_bad_input(fraud_monitor: FraudData, monitor: str, body: bytes, status: int,
                                   message: str) -> None:
    extension = FakeDurableExtension()
    response = _run(extension, monitor, body)
    assert response.status_code == status
    assert message in _json(response)["error"]
    assert extension.starts == []


def test_run_now_rejects_a_future_fire_time(fraud_monitor: FraudData) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    response = _run(FakeDurableExtension(), MONITOR, json.dumps({"fire_time": future.isoformat()}).encode())
    assert response.status_code == 400
    assert "in the future" in _json(response)["error"]


@pytest.mark.parametrize(("monitor", "run", "status", "message"), [
    (MONITOR, "20260101T0315Z", 404, "is unknown"),
    (MONITOR, "2026-01-01", 400, "is not a run ID"),
    (MONITOR, "20261399T0000Z", 400, "not a valid time"),
    ("bad name!", "20260101T0315Z", 400, "is not a monitor name"),
])
def test_reading_a_run_rejects_bad_or_unknown_ids(storage: Any, monitor: str, run: str, status: int,
                                                 message: str) -> None:
    response = _get_run(FakeDurableExtension(), monitor, run)
    assert response.status_code == status
    assert message in _json(response)["error"]
