"""Data windows: which half-open time range [start, end) each side of a signal reads at a fire time.

Azure ML's arithmetic: ``end = fire time - offset``, ``start = end - size``. The production window's size
defaults from the trigger (reference facts 1.3); the reference is the whole dataset unless it has a
lookback (default size twice the production size, default offset the production size) or fixed dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitoring.definition.triggers import OnArrivalTrigger, RecurrenceTrigger
from monitoring.names import as_utc, iso_utc, parse_utc

if TYPE_CHECKING:
    from monitoring.definition import DataWindow, Trigger


@dataclass(frozen=True)
class Window:
    """A half-open time range; ``None`` on a side means unbounded (the whole dataset when both are)."""

    start: datetime | None = None
    end: datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    def to_dict(self) -> dict[str, str | None]:
        return {"start": _iso(self.start), "end": _iso(self.end)}

    @classmethod
    def from_dict(cls, data: dict[str, str | None] | None) -> Window:
        data = data or {}
        start, end = data.get("start"), data.get("end")
        return cls(parse_utc(start) if start else None, parse_utc(end) if end else None)

    def __str__(self) -> str:
        return f"[{_iso(self.start) or '-inf'}, {_iso(self.end) or '+inf'})"


def _iso(t: datetime | None) -> str | None:
    return iso_utc(t) if t is not None else None


def default_production_size(trigger: Trigger) -> timedelta:
    """Production window size D implied by the trigger, as Azure ML's SDK derives it."""
    if isinstance(trigger, OnArrivalTrigger):
        return trigger.window
    if isinstance(trigger, RecurrenceTrigger):
        per_unit = {"minute": None, "hour": None, "day": 1, "week": 7, "month": 30}[trigger.frequency]
        return timedelta(days=1) if per_unit is None else timedelta(days=per_unit * trigger.interval)
    return timedelta(days=7)


def production_window(data_window: DataWindow | None, trigger: Trigger, fire_time: datetime) -> Window:
    """The production window ending at ``fire_time - offset``; size and offset default from the trigger."""
    fire_time = as_utc(fire_time)
    fixed = _fixed(data_window)
    if fixed is not None:
        return fixed
    default = default_production_size(trigger)
    size = _duration(data_window.lookback_window_size if data_window else None, default)
    offset = _duration(data_window.lookback_window_offset if data_window else None, timedelta(0))
    end = fire_time - offset
    return Window(end - size, end)


def reference_window(data_window: DataWindow | None, trigger: Trigger, fire_time: datetime, *,
                     recent_production: bool = False) -> Window:
    """The reference window: fixed dates, a lookback, or (no ``data_window``) the whole dataset.

    ``recent_production``: the reference is the production data itself (no ``reference_data``), so it
    defaults to the lookback Azure ML uses for recent past production data: size 2D, offset D.
    """
    fire_time = as_utc(fire_time)
    fixed = _fixed(data_window)
    if fixed is not None:
        return fixed
    has_lookback = data_window is not None and (
        data_window.lookback_window_size is not None or data_window.lookback_window_offset is not None)
    if not has_lookback and not recent_production:
        return Window()
    production_size = default_production_size(trigger)
    size = _duration(data_window.lookback_window_size if data_window else None, 2 * production_size)
    offset = _duration(data_window.lookback_window_offset if data_window else None, production_size)
    end = fire_time - offset
    return Window(end - size, end)


def _fixed(data_window: DataWindow | None) -> Window | None:
    """The window of ``window_start``/``window_end`` (the definition gives both or neither)."""
    if data_window is None or data_window.window_start is None or data_window.window_end is None:
        return None
    return Window(as_utc(data_window.window_start), as_utc(data_window.window_end))


def _duration(value: timedelta | str | None, default: timedelta) -> timedelta:
    """A lookback size or offset; ``None`` and ``"default"`` take the default."""
    return value if isinstance(value, timedelta) else default


__all__ = [
    "Window", "as_utc", "default_production_size", "iso_utc", "parse_utc", "production_window", "reference_window",
]
