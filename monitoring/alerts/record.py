"""``alert.json``: what a run's alert decided and what each channel did, written before and after sending.

The record is the exactly-once mechanism. A channel is marked ``sending`` (with its recipients and
operation id) before the send and ``sent``/``accepted``/``failed`` after it, and a later attempt for
the same run reads it first: a delivered channel is never sent again, a failed one is retried, and a
``sending`` one (the process died mid-send) is checked with the service before anything is resent.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from monitoring.errors import MonitoringError
from monitoring.storage.base import Store, write_json

ChannelStatus = Literal["pending", "sending", "sent", "accepted", "failed", "skipped"]
RecordStatus = Literal["not_needed", "suppressed", "skipped", "sending", "sent", "failed"]

#: Delivered for good: the service has the message (``accepted``: still being delivered when we stopped
#: waiting). Neither is ever sent again.
DELIVERED: frozenset[str] = frozenset({"sent", "accepted"})

#: The namespace of every alert id, so ids are stable across deployments and machines.
ALERT_NAMESPACE = uuid.UUID("5f0c4b1e-6d0a-5c8e-9a57-3c1f2d8e7b41")


def operation_id(instance_id: str, generation: int = 0) -> str:
    """The ACS operation id (and the .eml Message-ID) of a run: ``uuid5(ALERT_NAMESPACE, instance_id)``.

    ``generation`` moves on only when the service reported the previous operation as failed, so a new id
    never replaces one that might still deliver.

    >>> operation_id("fraud-detection-demo-20261128T0315Z") == operation_id("fraud-detection-demo-20261128T0315Z")
    True
    >>> operation_id("m-20260101T0000Z", 1) != operation_id("m-20260101T0000Z")
    True
    """
    name = instance_id if generation == 0 else f"{instance_id}#{generation}"
    return str(uuid.uuid5(ALERT_NAMESPACE, name))


def channel_key(instance_id: str, channel: str) -> str:
    """The idempotency key of a webhook channel, sent as the ``Idempotency-Key`` header."""
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{instance_id}/{channel}"))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ChannelRecord(BaseModel):
    """One channel of a run's alert: the email, or one webhook."""

    kind: Literal["email", "webhook"]
    transport: str = Field(description="acs, outbox or store for email; teams, slack or json for a webhook")
    recipients: list[str] = Field(default_factory=list)
    setting: str | None = Field(None, description="The app setting holding a webhook's URL (never the URL)")
    operation_id: str
    generation: int = 0
    status: ChannelStatus = "pending"
    attempts: int = 0
    updated_at: str | None = None
    sent_at: str | None = None
    error: str | None = None
    location: str | None = Field(None, description="Where the message went: the .eml file, or the ACS operation")
    service_status: str | None = None

    def mark(self, status: ChannelStatus, **changes: object) -> None:
        """Move to ``status`` and stamp the time; ``changes`` are other fields to set."""
        self.status = status
        self.updated_at = now_iso()
        for name, value in changes.items():
            setattr(self, name, value)


class AlertRecord(BaseModel):
    """The whole of ``<monitor>/<run_id>/alert.json``."""

    monitor: str
    run_id: str
    fire_time: str
    instance_id: str
    mode: str
    alert: bool
    reason: str
    subject: str | None = None
    breached: list[list[str]] = Field(default_factory=list, description="(signal, feature, metric), worst first")
    failed: list[str] = Field(default_factory=list)
    previous_run_id: str | None = None
    notes: list[str] = Field(default_factory=list)
    status: RecordStatus = "not_needed"
    channels: dict[str, ChannelRecord] = Field(default_factory=dict)
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    retries: int = Field(0, description="Later re-attempts by the scheduler (monitoring.dispatch.alert_jobs)")
    next_retry_at: str | None = Field(None, description="The scheduler re-attempts undelivered channels from then")
    gave_up_at: str | None = Field(None, description="Set when the retry window passed with channels undelivered")

    @property
    def undelivered(self) -> bool:
        """Whether a channel still waits for delivery (failed, or interrupted while sending)."""
        return self.gave_up_at is None and self.status in ("failed", "sending")

    def summarise(self) -> None:
        """Set ``status`` from the channels: failed if any failed, sending while any is in flight.

        Without a delivered channel: ``suppressed`` when something breached but ``on_change`` held it
        back, ``not_needed`` when nothing did, ``skipped`` when an alert was due but no channel could
        take it (no recipients and no webhooks).
        """
        statuses = {c.status for c in self.channels.values()}
        if "failed" in statuses:
            self.status = "failed"
        elif statuses & {"pending", "sending"}:
            self.status = "sending"
        elif statuses & DELIVERED:
            self.status = "sent"
        elif not self.alert:
            self.status = "suppressed" if self.breached or self.failed else "not_needed"
        else:
            self.status = "skipped"
        self.updated_at = now_iso()


def record_path(monitor: str, run_id: str) -> str:
    return f"{monitor}/{run_id}/alert.json"


def pending_prefix(monitor: str) -> str:
    """Where a monitor's undelivered alerts are indexed, so the scheduler finds them without a scan."""
    return f"{monitor}/pending-alerts/"


def pending_path(monitor: str, run_id: str) -> str:
    return f"{pending_prefix(monitor)}{run_id}.json"


def load_record(store: Store, monitor: str, run_id: str) -> AlertRecord | None:
    """The run's alert.json, or None; an unreadable one stops delivery rather than risk a duplicate."""
    path = record_path(monitor, run_id)
    data = store.read_bytes(path)
    if data is None:
        return None
    try:
        return AlertRecord.model_validate(json.loads(data))
    except (ValueError, ValidationError) as exc:
        raise MonitoringError(
            f"{store.location(path)} is not a valid alert record ({type(exc).__name__}); alerts for this run are "
            "held back so nothing is sent twice. Delete the file to send them again."
        ) from exc


def save_record(store: Store, record: AlertRecord) -> None:
    """Write alert.json, and keep the run in (or out of) the monitor's index of undelivered alerts.

    The index entry is written before a send starts (``sending``) and stays while a channel is failed,
    so a process that dies mid-send still leaves it; it goes once every channel is settled or the retry
    window has passed.
    """
    write_json(store, record_path(record.monitor, record.run_id), record.model_dump(mode="json"))
    marker = pending_path(record.monitor, record.run_id)
    if record.undelivered:
        write_json(store, marker, {"monitor": record.monitor, "run_id": record.run_id,
                                   "instance_id": record.instance_id, "since": record.created_at})
        return
    delete = getattr(store, "delete", None)
    if callable(delete) and store.read_bytes(marker) is not None:
        delete(marker)


__all__ = [
    "ALERT_NAMESPACE", "DELIVERED", "AlertRecord", "ChannelRecord", "ChannelStatus", "RecordStatus", "channel_key",
    "load_record", "now_iso", "operation_id", "pending_path", "pending_prefix", "record_path", "save_record",
]
