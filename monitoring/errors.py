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


__all__ = ["ConfigurationError", "DataError", "DefinitionError", "MonitoringError", "SignalError"]
