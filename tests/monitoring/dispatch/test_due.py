"""``is_enabled: false`` on a schedule: the scheduler and the arrival trigger fire nothing for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitoring.definition import LoadedMonitor, MonitorSchedule
from monitoring.dispatch.due import arrival_runs, due_runs

DAILY = {"type": "recurrence", "frequency": "day", "interval": 1, "schedule": {"hours": [3], "minutes": [0]}}
NOW = datetime(2026, 1, 10, 3, 5, tzinfo=UTC)


def _monitor(name: str, trigger: dict[str, Any], **extra: Any) -> LoadedMonitor:
    schedule = MonitorSchedule.model_validate({
        "name": name, "trigger": trigger, **extra,
        "create_monitor": {"monitoring_signals": {"drift": {
            "type": "data_drift", "production_data": {"input_data": {"path": "az://data/sales/"}},
            "reference_data": {"input_data": {"path": "az://data/training/"}}}}},
    })
    return LoadedMonitor(schedule=schedule, source=name, version="v1", base_dir=None)


def test_a_disabled_schedule_is_not_due() -> None:
    monitors = [_monitor("on", DAILY), _monitor("off", DAILY, is_enabled=False),
                _monitor("explicit", DAILY, is_enabled=True)]
    runs = due_runs(monitors, NOW)
    assert sorted({r.monitor for r in runs}) == ["explicit", "on"]
    assert [r.fire_time for r in runs if r.monitor == "on"] == [datetime(2026, 1, 10, 3, tzinfo=UTC)]


def test_a_disabled_arrival_monitor_takes_no_batch() -> None:
    arrival = {"type": "on_arrival", "dataset": "sales"}
    monitors = [_monitor("on", arrival), _monitor("off", arrival, is_enabled=False)]
    runs = arrival_runs(monitors, dataset="sales", batch_end=NOW)
    assert [r.monitor for r in runs] == ["on"]
