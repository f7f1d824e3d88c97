"""The names of things, one home each: monitor names, run IDs, Durable instance IDs, store path parts, times.

A run ID is the fire time as ``%Y%m%dT%H%MZ`` in UTC; an instance ID is ``<monitor>-<run ID>``. Both are
derived from (monitor, fire time), which makes runs idempotent: the same fire time is the same run. Every
document of a run writes times as ISO-8601 UTC with a ``Z``.

>>> from datetime import datetime, UTC
>>> instance_id("fraud", datetime(2026, 1, 31, 3, 15, tzinfo=UTC))
'fraud-20260131T0315Z'
>>> parse_instance_id("fraud-20260131T0315Z")
('fraud', datetime.datetime(2026, 1, 31, 3, 15, tzinfo=datetime.timezone.utc))
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from monitoring.errors import MonitoringError

#: A monitor name: 1-100 letters, digits, ``_`` or ``-``, starting with a letter or digit.
MONITOR_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"
MONITOR_NAME_RULE = "1-100 letters, digits, `_` or `-`, starting with a letter or digit"
#: A run ID: the fire time in UTC to the minute.
RUN_ID = r"^\d{8}T\d{4}Z$"
RUN_ID_FORMAT = "%Y%m%dT%H%MZ"

_MONITOR = re.compile(MONITOR_NAME)
_RUN_ID = re.compile(RUN_ID)
_INSTANCE = re.compile(rf"^(?P<monitor>{MONITOR_NAME[1:-1]})-(?P<run>{RUN_ID[1:-1]})$")
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]{0,254}$")


def is_monitor_name(name: str) -> bool:
    """Whether ``name`` is a valid monitor name."""
    return bool(_MONITOR.match(name or ""))


def is_run_id(value: str) -> bool:
    """Whether ``value`` has the form of a run ID (``20260131T0315Z``)."""
    return bool(_RUN_ID.match(value or ""))


def run_id(fire_time: datetime) -> str:
    """The fire time as used in paths and instance IDs: ``%Y%m%dT%H%MZ`` in UTC."""
    return fire_time.astimezone(UTC).strftime(RUN_ID_FORMAT)


def parse_run_id(value: str) -> datetime:
    """The fire time a run ID stands for. Raises ``ValueError`` for text that is not a run ID."""
    if not is_run_id(value):
        raise ValueError(f"`{value}` is not a run ID; run IDs are fire times like 20260131T0315Z")
    return datetime.strptime(value, RUN_ID_FORMAT).replace(tzinfo=UTC)


def run_prefix(monitor: str, fire_time: datetime) -> str:
    """Where a run's documents live in the results store: ``<monitor>/<run ID>``."""
    return f"{monitor}/{run_id(fire_time)}"


def instance_id(monitor: str, fire_time: datetime) -> str:
    """The Durable instance ID of a run: ``<monitor>-<fire time %Y%m%dT%H%MZ>``."""
    return f"{monitor}-{run_id(fire_time)}"


def parse_instance_id(value: str) -> tuple[str, datetime] | None:
    """(monitor, fire time) of an instance ID, or None if it is not one of ours."""
    match = _INSTANCE.match(value or "")
    if not match:
        return None
    try:
        return match["monitor"], parse_run_id(match["run"])
    except ValueError:
        return None


def safe_path(path: str) -> str:
    """``path`` if each part is a plain name (no ``..``, no absolute paths, no odd characters)."""
    parts = path.split("/")
    if not path or any(not is_safe_part(p) for p in parts):
        raise MonitoringError(f"unsafe store path {path!r}: parts must be letters, digits, `_`, `-`, `.` or `=`")
    return path


def is_safe_part(part: str) -> bool:
    """Whether one path part is a plain name: letters, digits, ``_-.=``, not ``.`` or ``..``."""
    return bool(_SAFE_PART.match(part)) and part not in (".", "..")


def iso_utc(t: datetime) -> str:
    """``t`` in UTC as ISO-8601 with a ``Z``, the form every document of a run uses."""
    return as_utc(t).isoformat().replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    """An ISO-8601 time (``Z`` or an offset; without one it is UTC) as an aware UTC datetime.

    Raises ``ValueError`` for text that is not one.
    """
    return as_utc(datetime.fromisoformat(text.strip()))


def as_utc(t: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
