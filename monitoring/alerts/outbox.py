"""The local default: the digest email as a standard MIME ``.eml`` file instead of a send.

Without an ACS endpoint the email goes to an outbox folder that any mail client opens:
``MONITORING_OUTBOX`` when set, else ``_outbox`` inside a local results folder (the demo writes
``demo-output/results/_outbox``). A results store that is not a local folder keeps
the file with the run, at ``<monitor>/<run_id>/alert.eml``. The file name is fixed per run, so a retry
overwrites the same file and the Message-ID is the run's operation id: never two emails for one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from monitoring.alerts.content import AlertContent
from monitoring.settings import get_settings
from monitoring.storage.base import Store
from monitoring.storage.local import LocalStore, write_atomic

#: The outbox folder inside a local results folder.
OUTBOX_FOLDER = "_outbox"
#: Sender of outbox files when ACS_SENDER_ADDRESS is not set; ``.invalid`` never resolves.
LOCAL_SENDER = "monitoring@localhost.invalid"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class OutboxResult:
    """Where the .eml went: ``transport`` is ``outbox`` (a folder) or ``store`` (next to the run)."""

    transport: str
    location: str


def _header(value: str) -> str:
    """A header value on one line: line breaks in a header would let content forge other headers."""
    return _CONTROL.sub(" ", value).strip()


def build_message(content: AlertContent, *, sender: str, recipients: list[str], message_id: str,
                  date: datetime, run_ref: str) -> EmailMessage:
    """A multipart/alternative message, plain text first and HTML second (clients show the last they can)."""
    message = EmailMessage(policy=policy.SMTP)
    domain = sender.rpartition("@")[2] or "localhost.invalid"
    message["Subject"] = _header(content.subject)
    message["From"] = _header(sender)
    message["To"] = ", ".join(_header(r) for r in recipients)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{message_id}@{domain}>"
    message["X-Monitoring-Run"] = _header(run_ref)
    message.set_content(content.text, subtype="plain", charset="utf-8")
    message.add_alternative(content.html, subtype="html", charset="utf-8")
    if content.chart is not None:  # multipart/related around the HTML, the image referenced as cid:
        html = message.get_body(("html",))
        assert html is not None
        html.add_related(content.chart.png, maintype="image", subtype="png", cid=f"<{content.chart.cid}>",
                         filename=f"{content.chart.cid}.png", disposition="inline")
    return message


def outbox_directory(store: Store) -> Path | None:
    """MONITORING_OUTBOX, else ``<results folder>/_outbox`` for a local store, else None (use the store).

    Inside the results folder, so a run leaves nothing in the working folder; ``_`` cannot start a monitor
    name, so it never collides with a monitor's folder."""
    configured = get_settings().monitoring_outbox
    if configured is not None:
        return configured
    if isinstance(store, LocalStore):
        return store.root.resolve() / OUTBOX_FOLDER
    return None


def write_eml(message: EmailMessage, store: Store, *, monitor: str, run_id: str) -> OutboxResult:
    """Write the message as ``<monitor>-<run_id>.eml`` into the outbox (atomically), or next to the run."""
    data = message.as_bytes(policy=policy.SMTP)
    directory = outbox_directory(store)
    if directory is None:
        path = f"{monitor}/{run_id}/alert.eml"
        store.write_bytes(path, data, content_type="message/rfc822")
        return OutboxResult(transport="store", location=store.location(path))
    file = directory / f"{monitor}-{run_id}.eml"
    write_atomic(file, data)
    return OutboxResult(transport="outbox", location=str(file.resolve()))


__all__ = ["LOCAL_SENDER", "OutboxResult", "build_message", "outbox_directory", "write_eml"]
