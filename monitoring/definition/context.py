"""What a signal's planning hooks see of the run (``monitoring.definition.signals``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from signals.kinds import Task


class DataColumns(Protocol):
    """One side's data as the planning hooks see it (``monitoring.data.refs.DataRef`` is one)."""

    @property
    def source(self) -> str: ...

    def columns(self) -> list[str]: ...


@dataclass(frozen=True)
class PlanContext:
    """What a signal's planning hooks see of the run: the target's ``ml_task``, both sides' data (windows
    resolved), and the plan's notes, to which a hook may add."""

    ml_task: str | None
    production: DataColumns
    reference: DataColumns
    notes: list[str]


def _task(model_type: Task | None, ml_task: str | None) -> Task | None:
    """The model's task: the signal's ``model_type``, else the monitoring target's ``ml_task``."""
    if model_type:
        return model_type
    return "classification" if ml_task == "classification" else "regression" if ml_task == "regression" else None
