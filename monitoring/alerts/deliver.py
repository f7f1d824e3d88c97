"""One run's alert, exactly once: decide, render, and send each channel under the alert.json record.

Called by the local runner after results are written and by the Durable ``alert`` activity. Re-invoking
it for the same run (a retried activity, a replayed orchestration, a re-run of the same fire time) is
safe: delivered channels are skipped, failed ones retried, interrupted ones checked before resending.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pydantic import ValidationError

from monitoring.alerts.acs import AcsEmailSender, acs_config
from monitoring.alerts.chart import worst_feature_chart
from monitoring.alerts.content import AlertContent, AlertView, Links, build_view, render_email, run_links
from monitoring.alerts.decide import Decision, decide, previous_run
from monitoring.alerts.outbox import LOCAL_SENDER, build_message, write_eml
from monitoring.alerts.record import (
    DELIVERED,
    AlertRecord,
    ChannelRecord,
    channel_key,
    load_record,
    now_iso,
    operation_id,
    save_record,
)
from monitoring.alerts.webhooks import payload, post_json, webhook_url
from monitoring.definition import AlertNotification, Webhook
from monitoring.errors import AlertDeliveryError, ConfigurationError, MonitoringError, SendError
from monitoring.names import is_monitor_name, is_run_id
from monitoring.settings import get_settings
from monitoring.storage.base import Store

log = logging.getLogger(__name__)

EMAIL = "email"


def _notification(alert_notification: Mapping[str, Any] | AlertNotification | None) -> AlertNotification:
    if isinstance(alert_notification, AlertNotification):
        return alert_notification
    try:
        return AlertNotification.model_validate(dict(alert_notification or {}))
    except ValidationError as exc:
        raise ConfigurationError(f"alert_notification is not valid: {exc.errors()[0]['msg']}") from None


def _check_run(run: Mapping[str, Any]) -> tuple[str, str]:
    missing = [k for k in ("monitor", "run_id", "fire_time", "signals") if k not in run]
    if missing:
        raise MonitoringError(f"run.json lacks {', '.join(missing)}; pass the document finalize_run returned")
    monitor, run_id = str(run["monitor"]), str(run["run_id"])
    if not is_monitor_name(monitor) or not is_run_id(run_id):
        raise MonitoringError(f"run.json names monitor `{monitor}` and run `{run_id}`; expected a monitor name "
                              "and a %Y%m%dT%H%MZ run id")
    return monitor, run_id


def recipients(notification: AlertNotification) -> list[str]:
    """The YAML's emails, else ALERT_DEFAULT_RECIPIENTS (comma or semicolon separated), without repeats."""
    if notification.emails:
        chosen = list(notification.emails)
    else:
        chosen = get_settings().alert_default_recipients
    seen: dict[str, str] = {}
    for address in chosen:
        seen.setdefault(address.lower(), address)
    return list(seen.values())


def _webhook_channel(hook: Webhook) -> str:
    return f"webhook:{hook.setting}:{hook.format}"


def _new_record(run: Mapping[str, Any], decision: Decision, instance_id: str) -> AlertRecord:
    return AlertRecord(monitor=run["monitor"], run_id=run["run_id"], fire_time=run["fire_time"],
                       instance_id=instance_id, mode=decision.mode, alert=decision.alert, reason=decision.reason)


def _apply_decision(record: AlertRecord, decision: Decision) -> None:
    record.mode = decision.mode
    record.alert = decision.alert
    record.reason = decision.reason
    record.breached = [list(b.key) for b in decision.breaches]
    record.failed = [f.signal for f in decision.failures]
    record.previous_run_id = decision.previous_run_id


def _links(run: Mapping[str, Any], store: Store, record: AlertRecord, report_location: str | None) -> Links:
    """The run's links; a bad REPORT_URL_PATTERN costs the links, never the alert."""
    try:
        return run_links(run, store, report_location=report_location)
    except ConfigurationError as exc:
        log.warning("alert links fall back to store locations: %s", exc)
        if str(exc) not in record.notes:
            record.notes.append(str(exc))
        return Links(report=report_location, run_json=store.location(f"{run['monitor']}/{run['run_id']}/run.json"))


class _Delivery:
    """The channels of one run's alert and how to send each; state lives in the record only."""

    def __init__(self, *, store: Store, record: AlertRecord, view: AlertView | None, content: AlertContent,
                 sleep: Callable[[float], None], max_wait: float) -> None:
        self.store = store
        self.record = record
        self.view = view
        self.content = content
        self.sleep = sleep
        self.max_wait = max_wait

    def send_email(self, channel: ChannelRecord, *, check_first: bool) -> None:
        config = acs_config()
        if config is not None:
            sender = AcsEmailSender(config, sleep=self.sleep, max_wait=self.max_wait)
            message = sender.message(subject=self.content.subject, text=self.content.text, html=self.content.html,
                                     recipients=channel.recipients, chart=self.content.chart)
            result = sender.deliver(message, instance_id=self.record.instance_id, generation=channel.generation,
                                    check_first=check_first)
            channel.mark(result.status, transport="acs", sent_at=now_iso(), operation_id=result.operation_id,
                         generation=result.generation, service_status=result.service_status,
                         location=result.location)
            return
        email = build_message(self.content, sender=get_settings().acs_sender_address or LOCAL_SENDER,
                              recipients=channel.recipients, message_id=channel.operation_id,
                              date=datetime.now(UTC), run_ref=f"{self.record.monitor}/{self.record.run_id}")
        try:
            written = write_eml(email, self.store, monitor=self.record.monitor, run_id=self.record.run_id)
        except OSError as exc:
            raise SendError(f"could not write the .eml to the outbox ({type(exc).__name__}: {exc}); set "
                            "MONITORING_OUTBOX to a writable folder") from exc
        channel.mark("sent", transport=written.transport, sent_at=now_iso(), location=written.location)

    def send_webhook(self, channel: ChannelRecord, fmt: str) -> None:
        if self.view is None:
            raise ConfigurationError("this alert has no run summary to post to a webhook")
        url = webhook_url(str(channel.setting))
        body = payload(fmt, self.view, idempotency_key=channel.operation_id)
        status = post_json(url, body, idempotency_key=channel.operation_id, sleep=self.sleep,
                           max_wait=self.max_wait)
        channel.mark("sent", sent_at=now_iso(), service_status=f"HTTP {status}",
                     location=f"webhook in setting {channel.setting}")

    def run(self, key: str, channel: ChannelRecord, send: Callable[[ChannelRecord], None]) -> None:
        """Record ``sending``, send, record the outcome: the before/after pair that makes retries safe."""
        channel.mark("sending", attempts=channel.attempts + 1, error=None)
        self.record.summarise()
        save_record(self.store, self.record)
        try:
            send(channel)
        except (SendError, ConfigurationError) as exc:
            log.warning("alert channel %s of %s/%s failed: %s", key, self.record.monitor, self.record.run_id, exc)
            channel.mark("failed", error=str(exc))
        self.record.summarise()
        save_record(self.store, self.record)


def _address(email: ChannelRecord, notification: AlertNotification) -> bool:
    """Give an undelivered email its recipients; False (the channel skipped or failed) when there are none."""
    if email.status in DELIVERED:
        return True
    try:
        email.recipients = recipients(notification)
    except ConfigurationError as exc:
        email.mark("failed", recipients=[], error=str(exc))
        return False
    if not email.recipients:
        email.mark("skipped", error="no recipients: set alert_notification.emails in the monitor or the "
                                    "ALERT_DEFAULT_RECIPIENTS setting")
    return bool(email.recipients)


def _plan_channels(record: AlertRecord, notification: AlertNotification, decision: Decision) -> dict[str, str]:
    """The channels this run wants, by key, with the webhook format (``""`` for email); stale ones retire."""
    wanted: dict[str, str] = {}
    if decision.alert:
        wanted[EMAIL] = ""
        for hook in notification.webhooks:
            wanted[_webhook_channel(hook)] = hook.format
    for key, channel in record.channels.items():
        if key not in wanted and channel.status not in DELIVERED and channel.status != "skipped":
            channel.mark("skipped", error=f"no longer needed: {decision.reason}" if not decision.alert
                         else "no longer configured in alert_notification")
    for key, fmt in wanted.items():
        if key in record.channels:
            continue
        if key == EMAIL:
            record.channels[key] = ChannelRecord(kind="email", transport="pending",
                                                 operation_id=operation_id(record.instance_id))
        else:
            setting_name = key.split(":")[1]
            record.channels[key] = ChannelRecord(kind="webhook", transport=fmt, setting=setting_name,
                                                 operation_id=channel_key(record.instance_id, key))
    return wanted


def deliver_alerts(run: Mapping[str, Any], alert_notification: Mapping[str, Any] | AlertNotification | None,
                   store: Store, *, instance_id: str, report_location: str | None = None,
                   sleep: Callable[[float], None] = time.sleep, max_wait: float = 120.0,
                   raise_on_failure: bool = True) -> dict[str, Any]:
    """Send the run's digest email and webhooks at most once each; return the alert record.

    Parameters
    ----------
    run
        The run.json document (``finalize_run``'s return value).
    alert_notification
        ``AlertNotification`` dumped to a dict (``RunPlan.alert_notification``); ``{}`` means defaults.
    store
        The results store: ``<monitor>/<run_id>/run.json`` lives there and ``alert.json`` is written there.
    instance_id
        The orchestration instance ID, ``<monitor>-<run_id>``; the ACS operation id is its uuid5. The first
        invocation's ID is kept in alert.json, so a later one with another ID still dedupes.
    report_location
        Where the run's report is (path or URL), used for the link when REPORT_URL_PATTERN is not set.
    sleep, max_wait
        How to wait and for how long at most per channel (Retry-After, backoff, polling); tests pass a
        sleep that does not sleep.
    raise_on_failure
        Raise AlertDeliveryError after recording a failed channel (the Durable activity: Durable retries
        it); False returns the record instead (the local CLI prints it).

    Returns
    -------
    dict
        The alert record, as written to ``<monitor>/<run_id>/alert.json``.
    """
    if not instance_id or not instance_id.strip():
        raise MonitoringError("instance_id is required: pass the orchestration instance ID, <monitor>-<run_id>")
    if max_wait < 0:
        raise MonitoringError(f"max_wait is {max_wait}; it must be 0 or more seconds")
    notification = _notification(alert_notification)
    monitor, run_id = _check_run(run)
    previous = previous_run(store, monitor, run_id) if notification.mode == "on_change" else None
    decision = decide(run, notification, previous=previous)
    record = load_record(store, monitor, run_id) or _new_record(run, decision, instance_id)
    _apply_decision(record, decision)
    log.info("alert for %s/%s: %s (%s)", monitor, run_id, "send" if decision.alert else "none", decision.reason)
    wanted = _plan_channels(record, notification, decision)
    if not wanted:
        record.summarise()
        save_record(store, record)
        return record.model_dump(mode="json")

    view = build_view(run, decision, links=_links(run, store, record, report_location),
                      instance_id=record.instance_id)
    addressed = _address(record.channels[EMAIL], notification)
    mailed = addressed and record.channels[EMAIL].status not in DELIVERED  # else its chart is not drawn
    content = render_email(view, chart=worst_feature_chart(run, decision, store) if decision.breaches and mailed
                           else None)
    record.subject = content.subject
    delivery = _Delivery(store=store, record=record, view=view, content=content, sleep=sleep, max_wait=max_wait)
    record.summarise()
    save_record(store, record)

    for key, fmt in wanted.items():
        channel = record.channels[key]
        if channel.status in DELIVERED or (key == EMAIL and not addressed):
            continue
        interrupted = channel.attempts > 0
        if key == EMAIL:
            delivery.run(key, channel, partial(delivery.send_email, check_first=interrupted))
        else:
            delivery.run(key, channel, partial(delivery.send_webhook, fmt=fmt))

    failed = {k: c.error for k, c in record.channels.items() if c.status == "failed"}
    if failed and raise_on_failure:
        details = "; ".join(f"{k}: {e}" for k, e in failed.items())
        raise AlertDeliveryError(f"alert for {monitor}/{run_id} not fully delivered ({details}); alert.json records "
                                 "it and the next attempt retries the failed channels",
                                 record=record.model_dump(mode="json"))
    return record.model_dump(mode="json")


__all__ = ["EMAIL", "Delivery", "deliver_alerts", "recipients"]

Delivery = _Delivery
