""""Monitor cannot run": the email that tells a monitor's owners that a run could not even be planned.

A run whose plan fails (its data cannot be read, its definition no longer loads) has no results to
alert on, yet its owners must hear of it. The notice goes to the monitor's ``alert_notification.emails``
(``ALERT_DEFAULT_RECIPIENTS`` when the definition cannot be read) under the same ``alert.json`` record
as a run's alert, at ``<monitor>/<run id>/alert.json``: once per fire time, never twice, and retried by
the scheduler like any undelivered alert.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from monitoring.alerts.content import AlertContent
from monitoring.alerts.deliver import EMAIL, Delivery, recipients
from monitoring.alerts.record import DELIVERED, AlertRecord, ChannelRecord, load_record, operation_id, save_record
from monitoring.definition import AlertNotification
from monitoring.errors import AlertDeliveryError
from monitoring.storage.base import Store
from monitoring.text import one_line

log = logging.getLogger(__name__)

MODE = "cannot_run"
#: What the Durable SDK puts before an activity's own error message.
_ACTIVITY_PREFIX = re.compile(r"^Activity function '[^']*' failed:\s*")


def summary(reason: str) -> str:
    """The cause on one line: the SDK's "<reason> \\n <details>" without the details (a traceback) and the
    activity prefix, every line of the message kept (a definition error lists its problems below)."""
    message = _ACTIVITY_PREFIX.sub("", reason.split(" \n ", 1)[0].strip())
    joined = " ".join(line.strip() for line in message.splitlines() if line.strip())
    return one_line(joined, limit=500, default="unknown error")


def notice_content(monitor: str, run_id: str, reason: str) -> AlertContent:
    """The notice's subject, text and HTML; ``reason`` is the one-line cause."""
    subject = f"[{monitor}] monitor cannot run: {reason}"[:250]
    text = (f"The run of monitor {monitor} at {run_id} could not start.\n\nmonitor cannot run: {reason}\n\n"
            "Fix the definition or the data it reads; the next fire time runs as usual.\n")
    body = (f"<p>The run of monitor <b>{html.escape(monitor)}</b> at {html.escape(run_id)} could not start.</p>"
            f"<p>monitor cannot run: {html.escape(reason)}</p>"
            "<p>Fix the definition or the data it reads; the next fire time runs as usual.</p>")
    return AlertContent(subject=subject, text=text, html=f"<html><body>{body}</body></html>")


def send_notice(store: Store, *, monitor: str, run_id: str, fire_time: str, instance_id: str, reason: str,
                notification: AlertNotification | None, sleep: Callable[[float], None] = time.sleep,
                max_wait: float = 120.0, raise_on_failure: bool = False) -> dict[str, Any]:
    """Email "monitor cannot run: <reason>" for this fire time unless it was delivered already."""
    reason = summary(reason)
    record = load_record(store, monitor, run_id)
    if record is None:
        record = AlertRecord(monitor=monitor, run_id=run_id, fire_time=fire_time, instance_id=instance_id,
                             mode=MODE, alert=True, reason=f"monitor cannot run: {reason}")
    elif record.mode != MODE:
        log.info("%s/%s has a run alert already; no cannot-run notice", monitor, run_id)
        return record.model_dump(mode="json")
    channel = record.channels.setdefault(EMAIL, ChannelRecord(kind="email", transport="pending",
                                                              operation_id=operation_id(record.instance_id)))
    if channel.status in DELIVERED:
        return record.model_dump(mode="json")
    content = notice_content(monitor, run_id, record.reason.removeprefix("monitor cannot run: "))
    record.subject = content.subject
    channel.recipients = recipients(notification or AlertNotification())
    if not channel.recipients:
        channel.mark("skipped", error="no recipients: set alert_notification.emails or ALERT_DEFAULT_RECIPIENTS")
        record.summarise()
        save_record(store, record)
        return record.model_dump(mode="json")
    delivery = Delivery(store=store, record=record, view=None, content=content, sleep=sleep, max_wait=max_wait)
    again = channel.attempts > 0
    delivery.run(EMAIL, channel, lambda c: delivery.send_email(c, check_first=again))
    if channel.status == "failed" and raise_on_failure:
        raise AlertDeliveryError(f"cannot-run notice for {monitor}/{run_id} not delivered: {channel.error}",
                                 record=record.model_dump(mode="json"))
    return record.model_dump(mode="json")


__all__ = ["MODE", "notice_content", "send_notice", "summary"]
