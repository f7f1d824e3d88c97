"""``trigger``: a recurrence or a cron expression in a time zone, or our ``on_arrival`` extension."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitoring.definition.strict import Strict, _rekeyed

# --------------------------------------------------------------------------------------------------
# Trigger


WeekDay = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class RecurrencePattern(Strict):
    """``schedule`` of a recurrence trigger: the local times (and days) at which it fires."""

    hours: list[Annotated[int, Field(ge=0, le=23)]] | None = None
    minutes: list[Annotated[int, Field(ge=0, le=59)]] | None = None
    week_days: list[WeekDay] | None = None
    month_days: list[Annotated[int, Field(ge=1, le=31)]] | None = None

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
    time_zone: str = Field("UTC", alias="time_zone")
    start_time: datetime | None = None
    end_time: datetime | None = None
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
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "time_zone", "unknown time zone `{value}`; use an IANA name such as `Europe/Berlin` or `UTC`",
                {"value": value},
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class RecurrenceTrigger(_TriggerBase):
    """Fires every ``interval`` ``frequency`` units, at the ``schedule``'s local times."""

    type: Literal["recurrence"]
    frequency: Literal["minute", "hour", "day", "week", "month"]
    interval: int = Field(1, ge=1)
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
