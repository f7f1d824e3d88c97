"""The errors a user can cause, each with a message that names the problem and the fix.

Every exception a user can see (the CLI prints it, the HTTP API answers it, alert.json records it) derives
from :class:`MonitoringError`, a ``ValueError``. ``signals/`` cannot import this module: its errors are
plain ``ValueError``/``TypeError``/``LookupError`` that the runner turns into a failed signal, and
``monitoring.run`` converts the ones it re-raises (importance: :class:`SignalError`).
"""

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


class IngestProblem(DataError):
    """An upload cannot join its dataset; the message is the reason recorded in ``<name>.error.json``."""


class ConfigurationError(MonitoringError):
    """A setting or an asset mapping the run needs is missing or wrong."""


class SignalError(MonitoringError):
    """A signal cannot be computed on the data it was given."""


class RequestError(MonitoringError):
    """A request names something malformed (a monitor name, a run ID, a time); the message says which."""


class DefinitionTooLarge(RequestError):
    """A posted definition is larger than the HTTP API accepts."""


class NotFound(MonitoringError):
    """What a request names does not exist (the HTTP API answers 404)."""


class DefinitionNotFound(NotFound):
    """No definition of that monitor is in the definition store."""


class RunNotFound(NotFound):
    """Neither Durable nor the results store knows that run."""


class WriteConflict(MonitoringError):
    """A conditional write lost a race: the document changed since this store read it."""


class SendError(MonitoringError):
    """A channel could not deliver this time; alert.json records it and the next attempt retries it."""


class AlertDeliveryError(MonitoringError):
    """Some channel of a run failed; ``alert.json`` says which, and the next attempt retries only those."""

    def __init__(self, message: str, *, record: dict[str, object]) -> None:
        super().__init__(message)
        self.record = record
