"""The two ways alerting fails: a channel could not deliver, or a run's alerts are not all delivered."""

from __future__ import annotations

from monitoring.errors import MonitoringError


class SendError(MonitoringError):
    """A channel could not deliver this time; alert.json records it and the next attempt retries it."""


class AlertDeliveryError(MonitoringError):
    """Some channel of a run failed; ``alert.json`` says which, and the next attempt retries only those."""

    def __init__(self, message: str, *, record: dict[str, object]) -> None:
        super().__init__(message)
        self.record = record


__all__ = ["AlertDeliveryError", "SendError"]
