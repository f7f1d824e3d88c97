"""Alerts that did not get through: found by the scheduler, re-attempted later, for a bounded time.

A run's alert activity tries each channel a few times (Durable's retry); an outage longer than that
leaves a channel ``failed`` in alert.json, and a host that dies mid-send leaves it ``sending``. Each
such run is indexed under ``<monitor>/pending-alerts/`` (``monitoring.alerts.record.save_record``), and
every scheduler tick asks ``due_alert_jobs`` which of them to re-attempt now:

* a ``failed`` channel, once ``backoff(retries)`` has passed since the last attempt (5 minutes, doubling,
  at most 2 hours, with ±20 % jitter so many monitors do not retry in step);
* a ``sending`` channel untouched for ``ALERT_STUCK_MINUTES`` (its process died; the service is asked
  about the operation before anything is resent);
* until ``ALERT_RETRY_HOURS`` after the alert was first recorded; then the channel stays ``failed``
  with the reason, ``gave_up_at`` is set and the index entry goes.

A re-attempt (``run_alert_job``) goes through ``deliver_alerts`` (or ``send_notice``), which skips every
channel already delivered, so nothing is ever sent twice.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from monitoring.alerts.deliver import deliver_alerts
from monitoring.alerts.notice import MODE as NOTICE
from monitoring.alerts.notice import send_notice
from monitoring.alerts.record import DELIVERED, AlertRecord, load_record, pending_path, pending_prefix, save_record
from monitoring.definition import AlertNotification
from monitoring.errors import MonitoringError
from monitoring.names import as_utc, instance_id, iso_utc, parse_utc, run_id
from monitoring.settings import get_settings
from monitoring.storage.base import Store, read_json

if TYPE_CHECKING:
    from monitoring.storage.definitions import DefinitionStore

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=5)
MAX_RETRY_INTERVAL = timedelta(hours=2)


class AlertJob(BaseModel):
    """The input of the ``alert_followup`` orchestration: re-attempt a run's alert, or send a notice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["retry", "cannot_run"]
    monitor: str
    run_id: str
    fire_time: str
    instance_id: str
    attempt: int = 0
    reason: str | None = None

    @property
    def job_id(self) -> str:
        """The orchestration instance ID: one per retry round, one per notice."""
        suffix = f"alert-retry-{self.attempt}" if self.kind == "retry" else "cannot-run"
        return f"{self.monitor}-{self.run_id}-{suffix}"


def retry_window() -> timedelta:
    """``ALERT_RETRY_HOURS``: how long after the first attempt undelivered channels are re-attempted."""
    return timedelta(hours=get_settings().alert_retry_hours)


def stuck_after() -> timedelta:
    """``ALERT_STUCK_MINUTES``: how long a channel may stay ``sending`` before it counts as interrupted."""
    return timedelta(minutes=get_settings().alert_stuck_minutes)


def backoff(retries: int, *, jitter: float | None = None) -> timedelta:
    """The wait before re-attempt ``retries + 1``: 5 min doubling, capped at 2 h, times 0.8-1.2."""
    base = min(FIRST_RETRY * 2 ** min(retries, 16), MAX_RETRY_INTERVAL)
    return base * (jitter if jitter is not None else random.uniform(0.8, 1.2))


def _last_attempt(record: AlertRecord) -> datetime:
    times = [parse_utc(c.updated_at) for c in record.channels.values() if c.updated_at]
    return max(times, default=parse_utc(record.updated_at))


def _give_up(store: Store, record: AlertRecord, now: datetime, window: timedelta) -> None:
    hours = window.total_seconds() / 3600
    for channel in record.channels.values():
        if channel.status not in DELIVERED and channel.status != "skipped":
            channel.mark("failed", error=f"not delivered within {hours:g} h of the run; gave up "
                                         f"({channel.error or 'interrupted while sending'})")
    record.gave_up_at = iso_utc(now)
    record.summarise()
    save_record(store, record)
    log.warning("gave up on the alert of %s/%s after %g h", record.monitor, record.run_id, hours)


def _due(record: AlertRecord, now: datetime, stuck: timedelta) -> bool:
    """Due: no send in flight, and a failed channel past its backoff or a send stuck past ``stuck``."""
    channels = record.channels.values()
    if any(c.status == "sending" and c.updated_at and now - parse_utc(c.updated_at) < stuck for c in channels):
        return False
    statuses = {c.status for c in channels}
    if "failed" in statuses:
        due_at = _last_attempt(record) + FIRST_RETRY
    elif "sending" in statuses:
        due_at = now
    else:
        return False
    if record.next_retry_at:
        due_at = max(due_at, parse_utc(record.next_retry_at))
    return now >= due_at


def due_alert_jobs(store: Store, monitors: Iterable[str], now: datetime) -> list[AlertJob]:
    """The runs of ``monitors`` whose undelivered alert should be re-attempted at ``now``."""
    now = as_utc(now)
    window, stuck = retry_window(), stuck_after()
    jobs = []
    for monitor in monitors:
        for path in store.list(pending_prefix(monitor)):
            run_id = path.rsplit("/", 1)[-1].removesuffix(".json")
            try:
                record = load_record(store, monitor, run_id)
            except MonitoringError as exc:
                log.warning("not retrying %s/%s: %s", monitor, run_id, exc)
                continue
            if record is None or not record.undelivered:
                _drop_marker(store, monitor, run_id)
                continue
            if now - parse_utc(record.created_at) > window:
                _give_up(store, record, now, window)
            elif _due(record, now, stuck):
                jobs.append(AlertJob(kind="retry", monitor=monitor, run_id=run_id, fire_time=record.fire_time,
                                     instance_id=record.instance_id, attempt=record.retries + 1))
    return jobs


def notice_job(monitor: str, problem: str, found_at: datetime) -> AlertJob:
    """The cannot-run notice of a definition version found invalid at ``found_at``: once per version (it has
    no readable trigger, so no fire times); filed under the minute it was found."""
    minute = as_utc(found_at).replace(second=0, microsecond=0)
    return AlertJob(kind="cannot_run", monitor=monitor, run_id=run_id(minute), fire_time=iso_utc(minute),
                    instance_id=instance_id(monitor, minute), reason=problem)


def _drop_marker(store: Store, monitor: str, run_id: str) -> None:
    delete = getattr(store, "delete", None)
    if callable(delete):
        delete(pending_path(monitor, run_id))


def _notification(definitions: DefinitionStore | None, monitor: str) -> AlertNotification | None:
    """The monitor's current alert settings, or None (defaults) when its definition cannot be loaded."""
    if definitions is None:
        return None
    try:
        return definitions.load(monitor).schedule.create_monitor.alerts
    except Exception as exc:  # noqa: BLE001 - any failure to load means: fall back to the default recipients
        log.info("monitor %s has no loadable definition (%s); notice goes to ALERT_DEFAULT_RECIPIENTS", monitor, exc)
        return None


def _retry_run_alert(store: Store, record: AlertRecord, definitions: DefinitionStore | None) -> dict[str, Any]:
    prefix = f"{record.monitor}/{record.run_id}"
    run = read_json(store, f"{prefix}/run.json")
    if run is None:
        raise MonitoringError(f"{store.location(prefix + '/run.json')} is missing; the alert cannot be re-attempted")
    plan = read_json(store, f"{prefix}/plan.json")
    notification: Any = plan.get("alert_notification") if plan else _notification(definitions, record.monitor)
    report = f"{prefix}/report.html"
    return deliver_alerts(run, notification, store, instance_id=record.instance_id,
                          report_location=store.location(report) if store.read_bytes(report) else None,
                          raise_on_failure=False)


def run_alert_job(job: AlertJob, *, store: Store, definitions: DefinitionStore | None,
                  now: datetime) -> dict[str, Any]:
    """Carry out one job; returns the alert record as it stands after."""
    if job.kind == "cannot_run":
        return send_notice(store, monitor=job.monitor, run_id=job.run_id, fire_time=job.fire_time,
                           instance_id=job.instance_id, reason=job.reason or "unknown error",
                           notification=_notification(definitions, job.monitor))
    record = load_record(store, job.monitor, job.run_id)
    if record is None or not record.undelivered:
        return record.model_dump(mode="json") if record else {}
    record.retries += 1
    record.next_retry_at = iso_utc(as_utc(now) + backoff(record.retries))
    save_record(store, record)
    log.info("re-attempting the alert of %s/%s (retry %d)", job.monitor, job.run_id, record.retries)
    if record.mode == NOTICE:
        return send_notice(store, monitor=job.monitor, run_id=job.run_id, fire_time=record.fire_time,
                           instance_id=record.instance_id, reason=record.reason,
                           notification=_notification(definitions, job.monitor))
    return _retry_run_alert(store, record, definitions)


__all__ = ["AlertJob", "backoff", "due_alert_jobs", "notice_job", "retry_window", "run_alert_job", "stuck_after"]
