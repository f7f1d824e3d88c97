"""Alerts: one digest email per run (Azure Communication Services, or a local .eml outbox) and webhooks.

``deliver_alerts`` is the only entry point: the local runner calls it after writing results and the
Durable ``alert`` activity calls it with the orchestration's instance ID. It decides whether the run
alerts (``decide``), renders the email (``content`` and ``templates/``), and sends each channel at most
once under the run's ``alert.json`` (``record``): ACS (``acs``) or the outbox (``outbox``), and each
webhook (``webhooks``).
"""

from __future__ import annotations

from monitoring.alerts.deliver import deliver_alerts
from monitoring.errors import AlertDeliveryError, SendError

__all__ = ["AlertDeliveryError", "SendError", "deliver_alerts"]
