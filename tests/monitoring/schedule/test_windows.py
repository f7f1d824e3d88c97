"""Window arithmetic: Azure ML's defaults and its documented example."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.definition import CronTrigger, DataWindow, OnArrivalTrigger, RecurrenceTrigger
from monitoring.schedule.windows import Window, default_production_size, production_window, reference_window

FIRE = datetime(2026, 1, 31, 15, 15, tzinfo=UTC)
DAILY = RecurrenceTrigger(type="recurrence", frequency="day", interval=1)


@pytest.mark.parametrize(("trigger", "days"), [
    (RecurrenceTrigger(type="recurrence", frequency="minute", interval=5), 1),
    (RecurrenceTrigger(type="recurrence", frequency="hour", interval=3), 1),
    (RecurrenceTrigger(type="recurrence", frequency="day", interval=2), 2),
    (RecurrenceTrigger(type="recurrence", frequency="week", interval=1), 7),
    (RecurrenceTrigger(type="recurrence", frequency="month", interval=2), 60),
    (CronTrigger(type="cron", expression="0 0 * * *"), 7),
    (OnArrivalTrigger(type="on_arrival", window=timedelta(hours=6)), 0.25),
])
def test_default_production_size_follows_the_trigger(trigger: object, days: float) -> None:
    assert default_production_size(trigger) == timedelta(days=days)


def test_documented_example_production_p7d_and_reference_p24d_offset_p7d() -> None:
    """Azure ML's concept page says this reference reads Jan 1 15:15 .. Jan 24 15:15, which is 23 days, not
    24: its own formula (start = end - size) gives Dec 31, and so do we."""
    prod = production_window(DataWindow(lookback_window_size="P7D", lookback_window_offset="P0D"), DAILY, FIRE)
    assert prod == Window(datetime(2026, 1, 24, 15, 15, tzinfo=UTC), FIRE)
    ref = reference_window(DataWindow(lookback_window_size="P24D", lookback_window_offset="P7D"), DAILY, FIRE)
    assert ref == Window(datetime(2025, 12, 31, 15, 15, tzinfo=UTC), datetime(2026, 1, 24, 15, 15, tzinfo=UTC))
    assert ref.end - ref.start == timedelta(days=24)


def test_defaults_without_data_window() -> None:
    assert production_window(None, DAILY, FIRE) == Window(FIRE - timedelta(days=1), FIRE)
    assert reference_window(None, DAILY, FIRE) == Window()  # the whole dataset
    assert not Window().bounded
    recent = reference_window(None, DAILY, FIRE, recent_production=True)
    assert recent == Window(FIRE - timedelta(days=3), FIRE - timedelta(days=1))


def test_default_keywords_and_fixed_windows() -> None:
    ref = reference_window(DataWindow(lookback_window_size="default", lookback_window_offset="default"), DAILY, FIRE)
    assert ref == Window(FIRE - timedelta(days=3), FIRE - timedelta(days=1))
    fixed = DataWindow(window_start=datetime(2025, 1, 1), window_end=datetime(2025, 7, 1))
    expected = Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
    assert reference_window(fixed, DAILY, FIRE) == expected


def test_window_round_trips_through_json_dicts() -> None:
    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    assert window.to_dict() == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    assert Window.from_dict(window.to_dict()) == window
    assert str(Window()) == "[-inf, +inf)"
