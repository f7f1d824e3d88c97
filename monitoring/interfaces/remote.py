"""Monitors in the cloud: validate and apply definitions, list monitors with their last run, find a run.

The domain half of the HTTP API and of ``python -m monitoring apply`` / ``list``: both take and return
plain dicts so that the HTTP layer only serialises and the CLI only prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitoring.data.locations import definition_problems
from monitoring.definition import LoadedMonitor, load_text
from monitoring.errors import DefinitionError, DefinitionTooLarge, MonitoringError, RequestError
from monitoring.names import MONITOR_NAME_RULE, as_utc, is_monitor_name, is_run_id, parse_run_id, parse_utc, run_prefix
from monitoring.run.finish import latest_path
from monitoring.schedule.recurrence import latest_fire_time
from monitoring.storage.base import read_json

if TYPE_CHECKING:
    from monitoring.storage.base import Store
    from monitoring.storage.definitions import DefinitionStore

#: Largest definition accepted over HTTP; real ones are a few kilobytes.
MAX_DEFINITION_BYTES = 256 * 1024


def decode_definition(body: bytes) -> str:
    """A posted definition's text: UTF-8, not empty, not huge."""
    if not body.strip():
        raise RequestError("the request body is empty: post the monitor definition YAML")
    if len(body) > MAX_DEFINITION_BYTES:
        raise DefinitionTooLarge(f"the definition is {len(body)} bytes; at most {MAX_DEFINITION_BYTES} are accepted")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"the definition is not UTF-8 text (byte {exc.start})") from None


def _trigger_summary(loaded: LoadedMonitor) -> str:
    trigger = loaded.schedule.trigger
    if trigger.type == "cron":
        return f"cron `{trigger.expression}` ({trigger.time_zone})"
    if trigger.type == "on_arrival":
        return f"on arrival of {trigger.dataset or 'its production data'}"
    times = ""
    if trigger.schedule is not None and (trigger.schedule.hours or trigger.schedule.minutes):
        hours = trigger.schedule.hours or [0]
        minutes = trigger.schedule.minutes or [0]
        times = " at " + ", ".join(f"{h:02d}:{m:02d}" for h in hours for m in minutes)
    return f"every {trigger.interval} {trigger.frequency}(s){times} ({trigger.time_zone})"


def validate_text(text: str, *, source: str = "<request>") -> dict[str, Any]:
    """A report on a definition; raises ``DefinitionError`` listing every problem when it is invalid,
    including every data path the app may not read (``monitoring.data.locations``)."""
    loaded = load_text(text, source)
    not_allowed = definition_problems(loaded, resolve_assets=False)
    if not_allowed:
        raise DefinitionError(source, not_allowed)
    schedule = loaded.schedule
    return {
        "valid": True,
        "name": schedule.name,
        "version": loaded.version,
        "trigger": _trigger_summary(loaded),
        "signals": {name: signal.type for name, signal in schedule.signals().items()},
        "notes": schedule.notes(),
    }


def apply_text(text: str, definitions: DefinitionStore, *, source: str = "<request>") -> dict[str, Any]:
    """Validate a definition and store it as ``monitors/<name>.yaml``; the report plus where it went."""
    report = validate_text(text, source=source)
    stored = definitions.put(load_text(text, source), text)
    container = definitions.container.container_name
    return {**report, "definition": f"{container}/{stored.blob}", "etag": stored.etag}


@dataclass(frozen=True)
class MonitorStatus:
    """One row of ``list``: a monitor, whether its definition is valid, and its last finished run."""

    name: str
    valid: bool
    definition: str
    trigger: str | None = None
    version: str | None = None
    last_run: str | None = None
    last_fire_time: str | None = None
    last_status: str | None = None
    last_breached: bool | None = None
    problems: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_monitors(definitions: DefinitionStore, results: Store) -> list[MonitorStatus]:
    """Every monitor in the ``monitors`` container with its last run (from ``<monitor>/latest.json``)."""
    out = []
    for entry in definitions.load_all():
        latest = _safe_read(results, latest_path(entry.name)) or {}
        last = {"last_run": latest.get("run_id"), "last_fire_time": latest.get("fire_time"),
                "last_status": latest.get("status"), "last_breached": latest.get("breached")}
        if entry.monitor is None:
            assert entry.error is not None
            out.append(MonitorStatus(entry.name, False, entry.blob, problems=entry.error.problems, **last))
        else:
            out.append(MonitorStatus(entry.name, True, entry.blob, trigger=_trigger_summary(entry.monitor),
                                     version=entry.monitor.version, **last))
    return out


def _safe_read(store: Store, path: str) -> dict[str, Any] | None:
    try:
        return read_json(store, path)
    except MonitoringError:  # a blob name that is not a safe results path has no results
        return None


def check_monitor_name(name: str) -> str:
    if not is_monitor_name(name):
        raise RequestError(f"`{name}` is not a monitor name ({MONITOR_NAME_RULE})")
    return name


def check_run_id(value: str) -> datetime:
    """The fire time a run ID (``%Y%m%dT%H%MZ``) stands for."""
    if not is_run_id(value):
        raise RequestError(f"`{value}` is not a run ID; run IDs are fire times like 20260131T0315Z")
    try:
        return parse_run_id(value)
    except ValueError:
        raise RequestError(f"`{value}` is not a valid time") from None


def parse_time(value: str) -> datetime:
    """An ISO-8601 time; a time without offset is UTC."""
    try:
        return parse_utc(value)
    except (ValueError, AttributeError):
        raise RequestError(f"`{value}` is not an ISO-8601 time such as 2026-01-31T03:15Z") from None


def run_fire_time(loaded: LoadedMonitor, requested: datetime | None, now: datetime) -> datetime:
    """The fire time of a run started by hand: the one asked for (a whole minute, not in the future), or
    the monitor's latest fire time."""
    now = as_utc(now)
    if requested is None:
        if loaded.schedule.trigger.type == "on_arrival":
            raise RequestError(f"monitor `{loaded.schedule.name}` runs on data arrival: give `fire_time`, the end "
                               "of the batch to monitor")
        latest = latest_fire_time(loaded.schedule.trigger, now)
        if latest is None:
            raise RequestError(f"monitor `{loaded.schedule.name}` has not fired yet (its trigger starts later): "
                               "give `fire_time`")
        return latest
    requested = as_utc(requested)
    if requested.second or requested.microsecond:
        raise RequestError(f"fire_time {requested.isoformat()} must be a whole minute: run IDs and result paths "
                           "have minute precision")
    if requested > now + timedelta(minutes=1):
        raise RequestError(f"fire_time {requested.isoformat()} is in the future; a run reads data up to its fire time")
    return requested


def run_document(results: Store, monitor: str, fire_time: datetime) -> dict[str, Any] | None:
    """run.json of a run, if it finished."""

    return read_json(results, f"{run_prefix(monitor, fire_time)}/run.json")


__all__ = [
    "MAX_DEFINITION_BYTES", "MonitorStatus", "apply_text",
    "check_monitor_name", "check_run_id", "decode_definition", "list_monitors", "parse_time",
    "run_document", "run_fire_time", "validate_text",
]
