"""Blueprint ``http_api``: manage monitors and runs over HTTPS (function keys: auth level FUNCTION).

=======  ==================================  =====================================================
GET      /api/monitors                       monitors with their last run
POST     /api/monitors                       apply a definition (body: the YAML), after validating it
POST     /api/monitors/validate              validate a definition (body: the YAML), store nothing
POST     /api/monitors/{name}/runs           run now (body ``{"fire_time": ...}``, default: latest)
GET      /api/monitors/{name}/runs/{run_id}  a run's Durable status and its run.json
=======  ==================================  =====================================================

Errors are JSON ``{"error": ..., ...}`` with 400 (malformed request), 404 (unknown monitor or run), 409
(the run is in progress), 413 (body too large) or 422 (invalid definition, with every ``problem``).
"""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from functions.starts import start_run
from monitoring.dispatch.due import DueRun
from monitoring.errors import (
    ConfigurationError,
    DefinitionError,
    DefinitionTooLarge,
    MonitoringError,
    NotFound,
    RequestError,
    RunNotFound,
)
from monitoring.interfaces.remote import (
    MAX_DEFINITION_BYTES,
    apply_text,
    check_monitor_name,
    check_run_id,
    decode_definition,
    list_monitors,
    parse_time,
    run_document,
    run_fire_time,
    validate_text,
)
from monitoring.names import instance_id
from monitoring.storage.blob import results_store
from monitoring.storage.definitions import definition_store

bp = df.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body, indent=2, default=str), status_code=status,
                             mimetype="application/json", headers=headers)


def _error(exc: MonitoringError) -> func.HttpResponse:
    """The JSON error response of a domain error: the status says whose fault, the body says what."""
    if isinstance(exc, DefinitionError):
        return _json({"error": "invalid monitor definition", "source": exc.source, "problems": exc.problems}, 422)
    if isinstance(exc, NotFound):
        return _json({"error": str(exc)}, 404)
    if isinstance(exc, DefinitionTooLarge):
        return _json({"error": str(exc), "limit": MAX_DEFINITION_BYTES}, 413)
    if isinstance(exc, ConfigurationError):
        return _json({"error": f"the app is not configured: {exc}"}, 500)
    return _json({"error": str(exc)}, 400)


def _body_object(req: func.HttpRequest) -> dict[str, Any]:
    """A JSON object body, or {} when there is none."""
    raw = req.get_body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("the request body is not JSON; send an object such as {\"fire_time\": "
                           "\"2026-01-31T03:15Z\"}") from None
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    unknown = sorted(set(body) - {"fire_time"})
    if unknown:
        raise RequestError(f"unknown field(s) {', '.join(unknown)}; the only field is `fire_time`")
    return body


@bp.function_name("list_monitors")
@bp.route(route="monitors", methods=[func.HttpMethod.GET])
def list_monitors_http(req: func.HttpRequest) -> func.HttpResponse:
    """Every monitor with its definition's validity and its last finished run."""
    try:
        monitors = list_monitors(definition_store(), results_store())
    except MonitoringError as exc:
        return _error(exc)
    return _json({"monitors": [m.to_dict() for m in monitors]})


@bp.function_name("validate_monitor")
@bp.route(route="monitors/validate", methods=[func.HttpMethod.POST])
def validate_monitor_http(req: func.HttpRequest) -> func.HttpResponse:
    """Validate a posted definition; 422 lists every problem with its line."""
    try:
        report = validate_text(decode_definition(req.get_body()))
    except MonitoringError as exc:
        return _error(exc)
    return _json(report)


@bp.function_name("apply_monitor")
@bp.route(route="monitors", methods=[func.HttpMethod.POST])
def apply_monitor_http(req: func.HttpRequest) -> func.HttpResponse:
    """Validate a posted definition and store it as ``monitors/<name>.yaml``."""
    try:
        report = apply_text(decode_definition(req.get_body()), definition_store())
    except MonitoringError as exc:
        return _error(exc)
    return _json(report)


def _due_now(name: str, body: dict[str, Any], query_time: str | None) -> DueRun:
    loaded = definition_store().load(check_monitor_name(name))
    raw = body.get("fire_time", query_time)
    if raw is not None and not isinstance(raw, str):
        raise RequestError("`fire_time` must be an ISO-8601 string")
    requested = parse_time(raw) if raw is not None else None
    fire_time = run_fire_time(loaded, requested, datetime.now(UTC))
    return DueRun(loaded.schedule.name, fire_time, loaded.version, "manual")


@bp.function_name("start_monitor_run")
@bp.route(route="monitors/{name}/runs", methods=[func.HttpMethod.POST])
@bp.durable_client_input(client_name="client")
async def start_monitor_run(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Run a monitor now for a fire time (again, if that run finished); 202 with the status URLs."""
    try:
        body = _body_object(req)
        run = await asyncio.to_thread(_due_now, req.route_params.get("name", ""), body, req.params.get("fire_time"))
    except MonitoringError as exc:
        return _error(exc)
    if await start_run(client, run, rerun_finished=True) == "active":
        return _json({"error": f"run {run.instance_id} is in progress; poll its status",
                      **client.create_http_management_payload(run.instance_id)}, 409)
    return client.create_check_status_response(req, run.instance_id)


def _instance(status: DurableOrchestrationStatus) -> dict[str, Any] | None:
    if not status:
        return None
    return {"runtime_status": status.runtime_status.value if status.runtime_status else None,
            "custom_status": status.custom_status, "output": status.output,
            "created": status.created_time, "last_updated": status.last_updated_time}


@bp.function_name("get_monitor_run")
@bp.route(route="monitors/{name}/runs/{run_id}", methods=[func.HttpMethod.GET])
@bp.durable_client_input(client_name="client")
async def get_monitor_run(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """A run's orchestration status (while Durable keeps it) and its run.json (once it finished)."""
    try:
        name = check_monitor_name(req.route_params.get("name", ""))
        fire_time = check_run_id(req.route_params.get("run_id", ""))
        iid = instance_id(name, fire_time)
        status = await client.get_status(iid)
        run = await asyncio.to_thread(run_document, results_store(), name, fire_time)
        if not status and run is None:
            raise RunNotFound(f"run {req.route_params['run_id']} of monitor `{name}` is unknown: it was never started "
                              "and has no results")
    except MonitoringError as exc:
        return _error(exc)
    links = client.create_http_management_payload(iid) if status else None
    return _json({"monitor": name, "run_id": req.route_params["run_id"], "instance_id": iid,
                  "instance": _instance(status), "links": links, "run": run})
