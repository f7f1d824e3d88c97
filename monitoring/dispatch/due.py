"""Which runs are due: the scheduler's decisions as functions of the definitions and a time.

Every five minutes the timer asks ``Scheduler.due(now)`` for the runs that should exist by now and starts
the ones Durable does not know yet; this module decides, ``functions/scheduler.py`` only starts. Each run
is identified by ``<monitor>-<fire time %Y%m%dT%H%MZ>``, so asking twice, or from two hosts, names the
same instance and nothing runs twice.

Catch-up after downtime is bounded per monitor by ``trigger.max_catch_up`` (our extension):

* ``1`` (the default): only the latest fire time, however long the app was down;
* ``N``: the latest ``N`` fire times, so up to ``N - 1`` missed runs are made up;
* ``0``: never catch up: the latest fire time runs only while it is fresh (within ``grace`` of now).

Monitors with ``trigger.type: on_arrival`` are never scheduled by time; ``arrival_runs`` gives the run an
arrived batch of data starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from monitoring.data.uris import is_cloud, split_cloud
from monitoring.names import MONITOR_NAME, as_utc, instance_id, iso_utc, safe_path
from monitoring.schedule.recurrence import fire_times, latest_fire_time
from monitoring.storage.base import read_json, write_json

if TYPE_CHECKING:
    from monitoring.definition import LoadedMonitor, Trigger
    from monitoring.storage.base import Store
    from monitoring.storage.definitions import DefinitionStore, FolderDefinitionStore, StoredDefinition

log = logging.getLogger(__name__)

#: How old the latest fire time may be and still count as on time (the timer runs every 5 minutes).
GRACE = timedelta(minutes=15)
RunReason = Literal["scheduled", "catch_up", "arrival", "manual"]
_PERIOD = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1),
           "week": timedelta(days=7), "month": timedelta(days=31)}


class RunRequest(BaseModel):
    """The orchestration input: which monitor, which fire time, the definition version seen, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    monitor: str = Field(pattern=MONITOR_NAME)
    fire_time: AwareDatetime
    definition_version: str | None = None
    reason: Literal["scheduled", "catch_up", "arrival", "manual"] = "scheduled"

    @property
    def instance_id(self) -> str:

        return instance_id(self.monitor, self.fire_time)


@dataclass(frozen=True)
class DueRun:
    """A run that should exist: its monitor, fire time, the definition version seen, and why."""

    monitor: str
    fire_time: datetime
    definition_version: str
    reason: RunReason = "scheduled"

    @property
    def instance_id(self) -> str:
        return instance_id(self.monitor, self.fire_time)

    def request(self) -> RunRequest:
        """The orchestration input."""

        return RunRequest(monitor=self.monitor, fire_time=self.fire_time,
                          definition_version=self.definition_version, reason=self.reason)


# --------------------------------------------------------------------------------------------------
# Time


def recent_fire_times(trigger: Trigger, now: datetime, count: int) -> list[datetime]:
    """Up to ``count`` latest fire times at or before ``now``, oldest first, in UTC."""
    now = as_utc(now)
    if trigger.type == "on_arrival" or count <= 0:
        return []
    if trigger.type == "cron":
        out: list[datetime] = []
        at = now
        while len(out) < count:
            t = latest_fire_time(trigger, at)
            if t is None:
                break
            out.append(t)
            at = t - timedelta(seconds=1)  # fire times are whole minutes: this excludes t itself
        return out[::-1]
    period = _PERIOD[trigger.frequency] * trigger.interval
    span = period * (count + 1) + timedelta(days=2)  # at least one fire per period, plus DST slack
    return fire_times(trigger, now - span, now)[-count:]


def due_fire_times(trigger: Trigger, now: datetime, *, grace: timedelta = GRACE) -> list[tuple[datetime, RunReason]]:
    """The fire times that should have run by ``now`` under the trigger's catch-up rule, oldest first."""
    now = as_utc(now)
    limit = trigger.max_catch_up
    times = recent_fire_times(trigger, now, max(limit, 1))
    if limit == 0:
        times = [t for t in times if now - t <= grace]
    return [(t, "scheduled" if now - t <= grace else "catch_up") for t in times]


def due_runs(monitors: Iterable[LoadedMonitor], now: datetime, *, grace: timedelta = GRACE) -> list[DueRun]:
    """Every run the given monitors should have by ``now``; a schedule with ``is_enabled: false`` has none."""
    out = []
    for loaded in monitors:
        schedule = loaded.schedule
        if not schedule.is_enabled:
            continue
        for fire_time, reason in due_fire_times(schedule.trigger, now, grace=grace):
            out.append(DueRun(schedule.name, fire_time, loaded.version, reason))
    return out


# --------------------------------------------------------------------------------------------------
# Arrivals


def _reads_dataset(loaded: LoadedMonitor, container: str, dataset: str) -> bool:
    for signal in loaded.schedule.signals().values():
        spec = signal.production_data
        path = spec.input_data.path if spec is not None and spec.input_data is not None else None
        if path and is_cloud(path):
            path_container, prefix = split_cloud(path)
            if path_container == container and prefix.split("/", 1)[0] == dataset:
                return True
    return False


def arrival_runs(monitors: Iterable[LoadedMonitor], *, dataset: str, batch_end: datetime,
                 container: str = "data") -> list[DueRun]:
    """Runs that a batch of ``dataset`` ending at ``batch_end`` starts.

    A monitor takes the batch when its ``on_arrival`` trigger names the dataset, or names none and one of
    its signals reads production data from ``az://<container>/<dataset>/``. The run's fire time is the
    end of the batch, so its production window (``trigger.window`` long) ends where the batch does. A
    schedule with ``is_enabled: false`` takes none.
    """
    fire_time = as_utc(batch_end)
    out = []
    for loaded in monitors:
        trigger = loaded.schedule.trigger
        if trigger.type != "on_arrival" or not loaded.schedule.is_enabled:
            continue
        named = trigger.dataset
        if named == dataset or (named is None and _reads_dataset(loaded, container, dataset)):
            out.append(DueRun(loaded.schedule.name, fire_time, loaded.version, "arrival"))
    return out


# --------------------------------------------------------------------------------------------------
# The timer's domain half


def definition_error_path(monitor: str) -> str:
    return f"{monitor}/definition-error.json"


class Scheduler:
    """The scheduler's state across timer ticks: the definitions (cached by ETag) and which monitors'
    ``definition-error.json`` is known to be current, so an unchanged definition costs no request."""

    def __init__(self, definitions: DefinitionStore | FolderDefinitionStore, results: Store) -> None:
        self.definitions = definitions
        self.results = results
        self._synced: dict[str, str] = {}  # monitor -> definition ETag whose error state is recorded
        self._found_invalid: list[tuple[str, str]] = []  # (monitor, problem) found since take_invalid()

    def __repr__(self) -> str:
        return f"Scheduler(definitions={self.definitions!r}, results={self.results!r})"

    def due(self, now: datetime, *, grace: timedelta = GRACE) -> list[DueRun]:
        """Runs due by ``now`` over every valid definition; invalid ones are recorded and skipped."""
        entries = self.definitions.load_all()
        valid = []
        for entry in entries:
            if self._synced.get(entry.name) != entry.etag:
                self._record(entry, now)
            if entry.monitor is not None:
                valid.append(entry.monitor)
        return due_runs(valid, now, grace=grace)

    def take_invalid(self) -> list[tuple[str, str]]:
        """(monitor, problem) of each definition version found invalid since the last call, once per
        version: the owners get one "monitor cannot run" notice each (``monitoring.alerts.retry``)."""
        found, self._found_invalid = self._found_invalid, []
        return found

    def monitor_names(self) -> list[str]:
        """Every monitor with a definition blob, valid or not (cached by ETag)."""
        return sorted({entry.name for entry in self.definitions.load_all()})

    def _record(self, entry: StoredDefinition, now: datetime) -> None:
        """Write (or clear) ``results/<monitor>/definition-error.json`` for this definition version."""

        try:
            path = safe_path(definition_error_path(entry.name))
        except ValueError:
            log.warning("definition blob %s has a name that cannot be a results path; not recording", entry.blob)
            return
        existing = read_json(self.results, path)
        if entry.error is not None:
            log.warning("skipping monitor %s until its definition is fixed: %s", entry.name, entry.error)
            if existing is None or existing.get("etag") != entry.etag:
                write_json(self.results, path, _error_document(entry, now))
                self._found_invalid.append((entry.name, f"the definition {entry.blob} is not valid: {entry.error}"))
        elif existing is not None:
            self.results.delete(path)
        self._synced[entry.name] = entry.etag


def _error_document(entry: StoredDefinition, now: datetime) -> dict[str, Any]:
    assert entry.error is not None
    return {
        "monitor": entry.name,
        "definition": entry.blob,
        "etag": entry.etag,
        "problems": entry.error.problems,
        "message": str(entry.error),
        "detected_at": iso_utc(now),
    }


__all__ = [
    "GRACE", "DueRun", "Scheduler", "arrival_runs", "definition_error_path", "due_fire_times", "due_runs",
    "recent_fire_times",
]
