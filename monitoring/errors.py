"""The errors a user can cause, each with a message that names the problem and the fix."""

from __future__ import annotations


class MonitoringError(ValueError):
    """Base of every error a monitor definition, its data or its configuration can cause."""


class DefinitionError(MonitoringError):
    """A monitor definition is not valid YAML or does not match the schema; lists every problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the monitor definition:\n{lines}")


class DataError(MonitoringError):
    """Data cannot be found, read or used as the definition asks."""


class ConfigurationError(MonitoringError):
    """A setting or an asset mapping the run needs is missing or wrong."""


class SignalError(MonitoringError):
    """A signal cannot be computed on the data it was given."""


class WriteConflict(MonitoringError):
    """A conditional write lost a race: the document changed since this store read it."""


class SendError(MonitoringError):
    """A channel could not deliver this time; alert.json records it and the next attempt retries it."""


class AlertDeliveryError(MonitoringError):
    """Some channel of a run failed; ``alert.json`` says which, and the next attempt retries only those."""

    def __init__(self, message: str, *, record: dict[str, object]) -> None:
        super().__init__(message)
        self.record = record
