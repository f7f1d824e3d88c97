"""``trigger``: a recurrence or a cron expression in a time zone, or our ``on_arrival`` extension."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from tzlocal.windows_tz import win_tz

from monitoring.definition.strict import Strict, _rekeyed, note

#: Dates a definition may name: wide enough for any real schedule or data, narrow enough that adding the
#: longest duration or interval to them never overflows.
EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(2200, 1, 1)


def _bounded_date(value: datetime) -> datetime:
    naive = value.replace(tzinfo=None)
    if not EARLIEST <= naive <= LATEST:
        raise PydanticCustomError(
            "date_range", "{value} is out of range: dates must be between {low} and {high}",
            {"value": value.isoformat(), "low": EARLIEST.date().isoformat(), "high": LATEST.date().isoformat()},
        )
    return value


BoundedDatetime = Annotated[datetime, AfterValidator(_bounded_date)]


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


def iana_zone(value: str) -> str | None:
    """The IANA name of a time zone given as an IANA name in any case (``utc``) or as a Windows name
    (``Pacific Standard Time``, Azure ML's docs), using the CLDR mapping ``tzlocal`` ships; None if unknown."""
    if value.lower() == "utc":
        return "UTC"
    exact = _zones_by_lower_name().get(value.lower())
    if exact:
        return exact
    windows = {k.lower(): v for k, v in win_tz.items()}.get(value.lower())
    return "UTC" if windows == "Etc/UTC" else windows


def _one_or_many_schema(item: dict[str, Any]) -> Any:
    return WithJsonSchema({"anyOf": [item, {"type": "array", "items": item}, {"type": "null"}]})

# --------------------------------------------------------------------------------------------------
# Trigger


WeekDay = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class RecurrencePattern(Strict):
    """``schedule`` of a recurrence trigger: the local times (and days) at which it fires."""

    hours: Annotated[list[Annotated[int, Field(ge=0, le=23)]] | None,
                     _one_or_many_schema({"type": "integer", "minimum": 0, "maximum": 23})] = None
    minutes: Annotated[list[Annotated[int, Field(ge=0, le=59)]] | None,
                       _one_or_many_schema({"type": "integer", "minimum": 0, "maximum": 59})] = None
    week_days: Annotated[list[WeekDay] | None, _one_or_many_schema({"type": "string"})] = None
    month_days: Annotated[list[Annotated[int, Field(ge=1, le=31)]] | None,
                          _one_or_many_schema({"type": "integer", "minimum": 1, "maximum": 31})] = None

    @field_validator("hours", "minutes", "month_days", "week_days", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None or isinstance(value, list):
            return value
        if isinstance(value, str):
            return [value.lower()]
        return [value]

    @field_validator("week_days", mode="before")
    @classmethod
    def _lower_days(cls, value: Any) -> Any:
        return [v.lower() if isinstance(v, str) else v for v in value] if isinstance(value, list) else value


class _TriggerBase(Strict):
    accepted_names: ClassVar[dict[str, dict[str, Any] | str]] = {"timezone": "time_zone"}

    time_zone: str = Field("UTC", alias="time_zone", description=(
        "IANA name (`Europe/Berlin`, `UTC` in any case) or Windows name (`Pacific Standard Time`)."))
    start_time: BoundedDatetime | None = None
    end_time: BoundedDatetime | None = None
    max_catch_up: int = Field(
        1, ge=0, le=1000,
        description="Our extension: how many missed fire times the scheduler starts after downtime.",
    )

    @model_validator(mode="before")
    @classmethod
    def _timezone_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "timezone" in data and "time_zone" not in data:
            return _rekeyed(("time_zone" if k == "timezone" else k, v, (data, k)) for k, v in data.items())
        return data

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone = iana_zone(value.strip())
        try:
            ZoneInfo(zone or value)
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            raise PydanticCustomError(
                "time_zone", "unknown time zone `{value}`; use an IANA name such as `Europe/Berlin` or `UTC`, "
                "or a Windows name such as `Pacific Standard Time`", {"value": value},
            )
        if zone.lower() != value.strip().lower():
            note(f"`trigger.time_zone: {value}` is the Windows name of `{zone}`; read as `{zone}`.")
        return zone

    @model_validator(mode="after")
    def _ordered(self) -> _TriggerBase:
        if self.start_time is not None and self.end_time is not None:
            start, end = self.start_time.replace(tzinfo=None), self.end_time.replace(tzinfo=None)
            if start >= end:
                raise PydanticCustomError(
                    "trigger_times", "start_time {start} is not before end_time {end}: the schedule never fires",
                    {"start": self.start_time.isoformat(), "end": self.end_time.isoformat()},
                )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class RecurrenceTrigger(_TriggerBase):
    """Fires every ``interval`` ``frequency`` units, at the ``schedule``'s local times."""

    accepted_names: ClassVar[dict[str, dict[str, Any] | str]] = {**_TriggerBase.accepted_names,
                                                                 "pattern": "schedule"}

    type: Literal["recurrence"]
    frequency: Literal["minute", "hour", "day", "week", "month"]
    interval: int = Field(1, ge=1, le=1000)
    schedule: RecurrencePattern | None = None

    @model_validator(mode="before")
    @classmethod
    def _pattern_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "pattern" in data and "schedule" not in data:
            return _rekeyed(("schedule" if k == "pattern" else k, v, (data, k)) for k, v in data.items())
        return data


class CronTrigger(_TriggerBase):
    """Fires at the times of a five-field cron ``expression`` in ``time_zone``."""

    type: Literal["cron"]
    expression: str

    @field_validator("expression")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise PydanticCustomError(
                "cron", "`{value}` is not a five-field cron expression (minute hour day month weekday)",
                {"value": value},
            )
        return value


class OnArrivalTrigger(_TriggerBase):
    """Our extension: run when a batch of data arrives through the ``incoming`` container."""

    type: Literal["on_arrival"]
    dataset: str | None = Field(None, description="Dataset folder whose arrivals start a run.")
    window: timedelta = Field(timedelta(days=1), description="Production window size per arrival.")


Trigger = Annotated[
    Union[RecurrenceTrigger, CronTrigger, OnArrivalTrigger], Field(discriminator="type")
]
