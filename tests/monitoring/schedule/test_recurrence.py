"""Fire times of recurrence and cron triggers, checked against hand-written expectations and croniter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitoring.definition import CronTrigger, RecurrenceTrigger
from monitoring.schedule.recurrence import fire_times, latest_fire_time


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rec(**kwargs: object) -> RecurrenceTrigger:
    return RecurrenceTrigger(type="recurrence", **kwargs)


def test_daily_at_a_local_time() -> None:
    trigger = rec(frequency="day", interval=1, schedule={"hours": 3, "minutes": 15})
    assert fire_times(trigger, utc(2026, 1, 1), utc(2026, 1, 4)) == [
        utc(2026, 1, 1, 3, 15), utc(2026, 1, 2, 3, 15), utc(2026, 1, 3, 3, 15)]
    assert latest_fire_time(trigger, utc(2026, 1, 31, 15, 15)) == utc(2026, 1, 31, 3, 15)
    assert latest_fire_time(trigger, utc(2026, 1, 31, 3, 15)) == utc(2026, 1, 31, 3, 15)  # at counts
    assert latest_fire_time(trigger, utc(2026, 1, 31, 3, 14)) == utc(2026, 1, 30, 3, 15)


def test_fire_times_are_half_open_after_and_closed_until() -> None:
    trigger = rec(frequency="day", schedule={"hours": 0, "minutes": 0})
    assert fire_times(trigger, utc(2026, 1, 1), utc(2026, 1, 3)) == [utc(2026, 1, 2), utc(2026, 1, 3)]


def test_several_hours_and_minutes_a_day() -> None:
    trigger = rec(frequency="day", schedule={"hours": [6, 18], "minutes": [0, 30]})
    times = fire_times(trigger, utc(2026, 5, 1), utc(2026, 5, 2))
    assert [t.strftime("%H:%M") for t in times] == ["06:00", "06:30", "18:00", "18:30"]


def test_every_other_day_counts_from_start_time() -> None:
    trigger = rec(frequency="day", interval=2, start_time=datetime(2026, 3, 1, 8, 0), time_zone="UTC")
    assert fire_times(trigger, utc(2026, 2, 27), utc(2026, 3, 6)) == [
        utc(2026, 3, 1, 8), utc(2026, 3, 3, 8), utc(2026, 3, 5, 8)]


def test_minutes_and_hours() -> None:
    every_15 = rec(frequency="minute", interval=15)
    assert len(fire_times(every_15, utc(2026, 1, 1), utc(2026, 1, 1, 2))) == 8
    six_hourly = rec(frequency="hour", interval=6)
    assert fire_times(six_hourly, utc(2026, 1, 1), utc(2026, 1, 2)) == [
        utc(2026, 1, 1, 6), utc(2026, 1, 1, 12), utc(2026, 1, 1, 18), utc(2026, 1, 2)]
    hourly_at_20 = rec(frequency="hour", interval=1, schedule={"minutes": [20]})
    assert fire_times(hourly_at_20, utc(2026, 1, 1), utc(2026, 1, 1, 3)) == [
        utc(2026, 1, 1, 0, 20), utc(2026, 1, 1, 1, 20), utc(2026, 1, 1, 2, 20)]


def test_weekly_on_named_days_and_every_other_week() -> None:
    trigger = rec(frequency="week", schedule={"week_days": ["Monday", "friday"], "hours": 9, "minutes": 0})
    times = fire_times(trigger, utc(2026, 6, 1), utc(2026, 6, 15))
    assert [t.strftime("%a %d") for t in times] == ["Mon 01", "Fri 05", "Mon 08", "Fri 12"]
    biweekly = rec(frequency="week", interval=2, start_time=datetime(2026, 6, 1, 9, 0),
                   schedule={"week_days": ["monday"], "hours": 9, "minutes": 0})
    assert [t.day for t in fire_times(biweekly, utc(2026, 5, 31), utc(2026, 7, 1))] == [1, 15, 29]


def test_month_ends_fire_only_in_months_with_that_day() -> None:
    trigger = rec(frequency="month", schedule={"month_days": [31], "hours": 0, "minutes": 0})
    times = fire_times(trigger, utc(2026, 1, 1), utc(2026, 12, 31, 23))
    assert [t.month for t in times] == [1, 3, 5, 7, 8, 10, 12]
    assert latest_fire_time(trigger, utc(2026, 3, 15)) == utc(2026, 1, 31)


def test_spring_forward_fires_once_after_the_gap() -> None:
    trigger = rec(frequency="day", schedule={"hours": 2, "minutes": 30}, time_zone="Europe/Berlin")
    times = fire_times(trigger, utc(2026, 3, 28), utc(2026, 3, 31))
    berlin = [t.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d %H:%M") for t in times]
    assert berlin == ["28 02:30", "29 03:30", "30 02:30"]
    assert times[1] - times[0] == timedelta(hours=24)  # 02:30 CET and 03:30 CEST are both 01:30 UTC
    assert times[2] - times[1] == timedelta(hours=23)


def test_fall_back_fires_once_at_the_first_occurrence() -> None:
    trigger = rec(frequency="day", schedule={"hours": 2, "minutes": 30}, time_zone="Europe/Berlin")
    times = fire_times(trigger, utc(2026, 10, 24), utc(2026, 10, 27))
    assert times == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_local_time_zone_shifts_the_utc_time_with_dst() -> None:
    trigger = rec(frequency="day", schedule={"hours": 9, "minutes": 0}, time_zone="America/New_York")
    assert latest_fire_time(trigger, utc(2026, 1, 15, 23)) == utc(2026, 1, 15, 14)
    assert latest_fire_time(trigger, utc(2026, 7, 15, 23)) == utc(2026, 7, 15, 13)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_cron_matches_croniter_in_the_trigger_zone(zone: str) -> None:
    from croniter import croniter

    trigger = CronTrigger(type="cron", expression="15 3 * * 1-5", time_zone=zone)
    start, end = utc(2026, 3, 1), utc(2026, 4, 15)
    it = croniter("15 3 * * 1-5", start.astimezone(ZoneInfo(zone)))
    expected = []
    while (t := it.get_next(datetime).astimezone(UTC)) <= end:
        expected.append(t)
    assert fire_times(trigger, start, end) == expected
    assert latest_fire_time(trigger, expected[-1] + timedelta(minutes=1)) == expected[-1]
    assert latest_fire_time(trigger, expected[-1]) == expected[-1]


def test_start_and_end_time_bound_the_fire_times() -> None:
    trigger = rec(frequency="day", schedule={"hours": 0, "minutes": 0},
                  start_time=datetime(2026, 1, 3, tzinfo=UTC), end_time=datetime(2026, 1, 5, tzinfo=UTC))
    assert fire_times(trigger, utc(2026, 1, 1), utc(2026, 1, 10)) == [utc(2026, 1, 3), utc(2026, 1, 4), utc(2026, 1, 5)]
    assert latest_fire_time(trigger, utc(2026, 1, 2)) is None
    cron = CronTrigger(type="cron", expression="0 0 * * *", end_time=datetime(2026, 1, 5, tzinfo=UTC))
    assert latest_fire_time(cron, utc(2026, 2, 1)) == utc(2026, 1, 5)
