"""When a monitor fires: recurrence and cron triggers evaluated in the trigger's time zone.

Local wall-clock times that a DST change skips fire at the same wall time shifted forward by the gap
(02:30 on a spring-forward night fires at 03:30); times that occur twice fire once, at the first. Without
``start_time``, intervals and weeks count from Monday 2000-01-03 00:00 in the trigger's time zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from monitoring.names import as_utc

if TYPE_CHECKING:
    from monitoring.definition import CronTrigger, RecurrenceTrigger, Trigger
    from monitoring.definition.triggers import WeekDay

_WEEKDAYS: tuple[WeekDay, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DEFAULT_ANCHOR = datetime(2000, 1, 3)  # a Monday


def _anchor(trigger: RecurrenceTrigger) -> datetime:
    """Local (naive) time from which intervals count."""
    if trigger.start_time is None:
        return _DEFAULT_ANCHOR
    start = trigger.start_time
    return start.astimezone(trigger.zone).replace(tzinfo=None) if start.tzinfo else start


def _to_utc(local: datetime, trigger: Trigger) -> datetime:
    """Local wall time in the trigger's zone -> UTC; gap times move forward, repeated ones take the first."""
    # PEP 495: fold=0 reads a skipped time with the offset before the gap (so it lands after it) and a
    # repeated time as its first occurrence.
    return local.replace(tzinfo=trigger.zone, fold=0).astimezone(UTC)


def _months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def _recurrence_day_times(trigger: RecurrenceTrigger, day: date, anchor: datetime) -> Iterator[datetime]:
    pattern = trigger.schedule
    hours = (pattern.hours if pattern and pattern.hours is not None else None) or [anchor.hour]
    minutes = (pattern.minutes if pattern and pattern.minutes is not None else None) or [anchor.minute]
    if trigger.frequency == "day":
        if (day - anchor.date()).days % trigger.interval:
            return
    elif trigger.frequency == "week":
        days = (pattern.week_days if pattern and pattern.week_days else None) or [_WEEKDAYS[anchor.weekday()]]
        if _WEEKDAYS[day.weekday()] not in days:
            return
        week0 = anchor.date() - timedelta(days=anchor.weekday())
        week = day - timedelta(days=day.weekday())
        if ((week - week0).days // 7) % trigger.interval:
            return
    elif trigger.frequency == "month":
        month_days = (pattern.month_days if pattern and pattern.month_days else None) or [anchor.day]
        if day.day not in month_days or _months_between(anchor.date(), day) % trigger.interval:
            return
    for hour in sorted(hours):
        for minute in sorted(minutes):
            yield datetime.combine(day, time(hour, minute))


def _recurrence_times(trigger: RecurrenceTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    anchor = _anchor(trigger)
    if trigger.frequency in ("minute", "hour"):
        step = timedelta(minutes=trigger.interval) if trigger.frequency == "minute" else \
            timedelta(hours=trigger.interval)
        minutes = trigger.schedule.minutes if trigger.schedule and trigger.schedule.minutes else None
        origin = _to_utc(anchor, trigger)
        k = max(0, int((after - origin) / step))
        t = origin + k * step
        while t <= until:
            offsets = [timedelta(minutes=m - origin.minute) for m in minutes] if (
                minutes and trigger.frequency == "hour") else [timedelta(0)]
            for off in offsets:
                if after < t + off <= until:
                    yield t + off
            t += step
        return
    zone = trigger.zone
    first = (after.astimezone(zone) - timedelta(days=1)).date()
    last = (until.astimezone(zone) + timedelta(days=1)).date()
    day = first
    while day <= last:
        for local in _recurrence_day_times(trigger, day, anchor):
            utc = _to_utc(local, trigger)
            if after < utc <= until:
                yield utc
        day += timedelta(days=1)


def _cron_times(trigger: CronTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    from croniter import croniter

    it = croniter(trigger.expression, after.astimezone(trigger.zone))
    seen: set[datetime] = set()
    while True:
        t = it.get_next(datetime).astimezone(UTC)
        if t > until:
            return
        if t > after and t not in seen:
            seen.add(t)
            yield t


def fire_times(trigger: Trigger, after: datetime, until: datetime) -> list[datetime]:
    """Fire times in ``(after, until]``, in UTC, within the trigger's start and end times."""
    after, until = as_utc(after), as_utc(until)
    if trigger.type == "on_arrival":
        return []
    times = _recurrence_times(trigger, after, until) if trigger.type == "recurrence" else \
        _cron_times(trigger, after, until)
    start = _bound(trigger.start_time, trigger)
    end = _bound(trigger.end_time, trigger)
    return sorted({t for t in times if (start is None or t >= start) and (end is None or t <= end)})


def _bound(t: datetime | None, trigger: Trigger) -> datetime | None:
    if t is None:
        return None
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=trigger.zone).astimezone(UTC)


def _horizon(trigger: Trigger) -> timedelta:
    if trigger.type == "recurrence":
        unit = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1),
                "week": timedelta(days=7), "month": timedelta(days=31)}[trigger.frequency]
        return unit * (trigger.interval + 1) + timedelta(days=2)
    return timedelta(days=400)


def latest_fire_time(trigger: Trigger, at: datetime) -> datetime | None:
    """The latest fire time at or before ``at``, or None if the trigger never fired by then."""
    at = as_utc(at)
    if trigger.type == "cron":
        from croniter import croniter

        prev = croniter(trigger.expression, (at + timedelta(seconds=1)).astimezone(trigger.zone)).get_prev(datetime)
        prev = prev.astimezone(UTC)
        start, end = _bound(trigger.start_time, trigger), _bound(trigger.end_time, trigger)
        if end is not None and prev > end:
            return latest_fire_time(trigger, end)
        return None if start is not None and prev < start else prev
    times = fire_times(trigger, at - _horizon(trigger), at)
    return times[-1] if times else None


__all__ = ["fire_times", "latest_fire_time"]
