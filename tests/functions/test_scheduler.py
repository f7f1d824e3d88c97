"""The scheduler: due fire times across triggers and time zones, and the timer's never-twice starts.

Expected fire times are computed independently here with ``zoneinfo`` from each trigger's local wall-clock
rule, then compared with what the scheduler derives.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from functions import runs
from functions import scheduler as scheduler_function
from functions.starts import start_run
from monitoring.definition import LoadedMonitor, MonitorSchedule
from monitoring.dispatch.due import GRACE, DueRun, arrival_runs, due_fire_times, recent_fire_times
from monitoring.names import instance_id, parse_instance_id, run_id
from monitoring.storage import blob
from monitoring.storage.definitions import definition_store
from tests.conftest import MONITOR, MONITOR_YAML, FraudData, user_function
from tests.durable_client import FakeDurableExtension
from tests.durable_harness import DurableHarness


def _monitor(trigger: dict[str, Any], name: str = "m", production: str = "az://data/sales/") -> LoadedMonitor:
    schedule = MonitorSchedule.model_validate({
        "name": name, "trigger": trigger,
        "create_monitor": {"monitoring_signals": {"drift": {
            "type": "data_drift", "production_data": {"input_data": {"path": production}},
            "reference_data": {"input_data": {"path": "az://data/training/"}}}}},
    })
    return LoadedMonitor(schedule=schedule, source=name, version="v1", base_dir=None)


def _local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone)).astimezone(UTC)


BERLIN_DAILY = {"type": "recurrence", "frequency": "day", "interval": 1, "schedule": {"hours": [3], "minutes": [15]},
                "time_zone": "Europe/Berlin"}


@pytest.mark.parametrize(("now", "expected"), [
    # Winter: 03:15 in Berlin is 02:15 UTC; at 02:14 UTC the latest is still the day before.
    (datetime(2026, 1, 20, 2, 14, tzinfo=UTC), _local("Europe/Berlin", 2026, 1, 19, 3, 15)),
    (datetime(2026, 1, 20, 2, 15, tzinfo=UTC), _local("Europe/Berlin", 2026, 1, 20, 3, 15)),
    # Summer time: the same local time is an hour earlier in UTC.
    (datetime(2026, 7, 1, 9, 0, tzinfo=UTC), _local("Europe/Berlin", 2026, 7, 1, 3, 15)),
])
def test_latest_fire_time_follows_the_trigger_time_zone(now: datetime, expected: datetime) -> None:
    assert recent_fire_times(_monitor(BERLIN_DAILY).schedule.trigger, now, 1) == [expected]


def test_after_downtime_only_the_latest_fire_time_runs_by_default() -> None:
    now = datetime(2026, 1, 25, 12, 0, tzinfo=UTC)  # five days after the app stopped
    due = due_fire_times(_monitor(BERLIN_DAILY).schedule.trigger, now)
    assert due == [(_local("Europe/Berlin", 2026, 1, 25, 3, 15), "catch_up")]


def test_max_catch_up_bounds_how_many_missed_fire_times_run() -> None:
    trigger = {**BERLIN_DAILY, "max_catch_up": 3}
    now = _local("Europe/Berlin", 2026, 1, 25, 3, 20)
    due = due_fire_times(_monitor(trigger).schedule.trigger, now)
    assert due == [(_local("Europe/Berlin", 2026, 1, day, 3, 15), reason)
                   for day, reason in ((23, "catch_up"), (24, "catch_up"), (25, "scheduled"))]


@pytest.mark.parametrize(("minutes_late", "runs_it"), [(5, True), (GRACE.total_seconds() // 60 + 5, False)])
def test_max_catch_up_zero_runs_only_a_fresh_fire_time(minutes_late: float, runs_it: bool) -> None:
    fire = _local("Europe/Berlin", 2026, 1, 25, 3, 15)
    due = due_fire_times(_monitor({**BERLIN_DAILY, "max_catch_up": 0}).schedule.trigger,
                         fire + timedelta(minutes=minutes_late))
    assert due == ([(fire, "scheduled")] if runs_it else [])


def test_cron_fire_times_cross_a_daylight_saving_change_in_local_time() -> None:
    trigger = _monitor({"type": "cron", "expression": "30 */6 * * *", "time_zone": "America/New_York",
                        "max_catch_up": 6}).schedule.trigger
    now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # US clocks went forward on 2026-03-08
    local_times = [(8, 0), (8, 6), (8, 12), (8, 18), (9, 0), (9, 6)]  # 08:00 EDT on the 9th is now
    expected = [_local("America/New_York", 2026, 3, day, hour, 30) for day, hour in local_times]
    assert [t for t, _ in due_fire_times(trigger, now)] == expected


def test_hourly_recurrence_and_a_future_start_time() -> None:
    hourly = _monitor({"type": "recurrence", "frequency": "hour", "interval": 2, "max_catch_up": 2}).schedule.trigger
    now = datetime(2026, 1, 10, 5, 30, tzinfo=UTC)
    assert recent_fire_times(hourly, now, 2) == [datetime(2026, 1, 10, 2, tzinfo=UTC),
                                                 datetime(2026, 1, 10, 4, tzinfo=UTC)]
    later = _monitor({**BERLIN_DAILY, "start_time": "2026-02-01T00:00:00"}).schedule.trigger
    assert due_fire_times(later, now) == []


def test_arrival_runs_go_to_the_monitors_of_that_dataset() -> None:
    named = _monitor({"type": "on_arrival", "dataset": "sales"}, name="named", production="az://data/other/")
    by_path = _monitor({"type": "on_arrival"}, name="by-path", production="az://data/sales/2026/")
    elsewhere = _monitor({"type": "on_arrival"}, name="elsewhere", production="az://data/returns/")
    scheduled = _monitor(BERLIN_DAILY, name="scheduled")
    end = datetime(2026, 1, 11, tzinfo=UTC)
    runs_ = arrival_runs([named, by_path, elsewhere, scheduled], dataset="sales", batch_end=end)
    assert [(r.monitor, r.fire_time, r.reason) for r in runs_] == [("named", end, "arrival"),
                                                                   ("by-path", end, "arrival")]
    assert due_fire_times(named.schedule.trigger, end) == []


def test_instance_ids_name_the_monitor_and_the_fire_time() -> None:
    fire = datetime(2026, 1, 31, 3, 15, tzinfo=UTC)
    assert instance_id("fraud-v2", fire) == "fraud-v2-20260131T0315Z"
    assert parse_instance_id("fraud-v2-20260131T0315Z") == ("fraud-v2", fire)
    assert parse_instance_id("not an instance") is None


# --------------------------------------------------------------------------------------------------
# The timer function, with a mocked Durable client


def _tick(extension: FakeDurableExtension) -> None:
    asyncio.run(user_function(scheduler_function.bp, "scheduler")(_Timer(), client=extension.client()))


class _Timer:
    past_due = False


@pytest.mark.azurite
def test_the_timer_starts_each_due_run_once_and_records_invalid_definitions(fraud_monitor: FraudData) -> None:
    monitors = blob.container_client(blob.MONITORS)
    monitors.upload_blob("broken.yaml", MONITOR_YAML.replace(f"name: {MONITOR}", "name: broken")
                         .replace("lookback_window_size", "lookback_windw_size"))
    extension = FakeDurableExtension()
    _tick(extension)
    expected = instance_id(MONITOR, fraud_monitor.fire_time)
    notices = [s for s in extension.starts if s[0] == "alert_followup"]
    assert len(notices) == 1  # the owners of the broken monitor hear of it, once per definition version
    assert notices[0][1].startswith("broken-")
    assert notices[0][1].endswith("-cannot-run")
    assert "lookback_windw_size" in notices[0][2]["reason"]
    extension.starts = [s for s in extension.starts if s[0] == "monitor_run"]
    assert [s[1] for s in extension.starts] == [expected]
    assert extension.starts[0][2] == DueRun(MONITOR, fraud_monitor.fire_time,
                                            definition_store().load(MONITOR).version,
                                            "scheduled" if _fresh(fraud_monitor) else "catch_up"
                                            ).request().model_dump(mode="json")
    error = blob.results_store().read_bytes("broken/definition-error.json")
    assert error is not None
    assert b"lookback_windw_size" in error
    assert b"did you mean `lookback_window_size`" in error

    _tick(extension)  # pending: not started again
    extension.set_instance(expected, "Running")
    _tick(extension)
    extension.set_instance(expected, "Completed")
    _tick(extension)
    extension.set_instance(expected, "Failed")
    _tick(extension)
    assert len(extension.starts) == 1

    monitors.upload_blob("broken.yaml", MONITOR_YAML.replace(f"name: {MONITOR}", "name: broken"), overwrite=True)
    _tick(extension)
    assert blob.results_store().read_bytes("broken/definition-error.json") is None
    assert sorted(s[1] for s in extension.starts) == sorted([expected, instance_id("broken", fraud_monitor.fire_time)])


def _fresh(data: FraudData) -> bool:
    return datetime.now(UTC) - data.fire_time <= GRACE


def test_a_start_that_loses_a_race_counts_as_started_and_a_rerun_is_explicit() -> None:
    extension = FakeDurableExtension()
    run = DueRun("m", datetime(2026, 1, 1, tzinfo=UTC), "v1")
    client = extension.client()

    async def nobody_has_it(instance: str, *args: Any, **kwargs: Any) -> Any:
        from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

        return DurableOrchestrationStatus.from_json("")

    extension.set_instance(run.instance_id, "Running")
    client.get_status = nobody_has_it  # the status read happened before another host started it
    assert asyncio.run(start_run(client, run)) == "active"
    assert extension.starts == []

    extension.set_instance(run.instance_id, "Completed")
    client = extension.client()
    assert asyncio.run(start_run(client, run)) == "finished"
    assert asyncio.run(start_run(client, run, rerun_finished=True)) == "restarted"
    assert [s[1] for s in extension.starts] == [run.instance_id]


@pytest.mark.azurite
def test_a_timer_tick_runs_a_monitor_end_to_end(fraud_monitor: FraudData) -> None:
    """monitors/ YAML + data/ parquet -> timer -> Durable orchestration -> results/ run.json and history."""
    extension = FakeDurableExtension(DurableHarness([runs.bp], batch=True))
    _tick(extension)
    iid = instance_id(MONITOR, fraud_monitor.fire_time)
    assert extension.instances[iid]["runtimeStatus"] == "Completed"
    store = blob.results_store()
    prefix = f"{MONITOR}/{run_id(fraud_monitor.fire_time)}"
    run = extension.results[iid].output
    assert run["status"] == "completed"
    assert store.read_bytes(f"{prefix}/run.json") is not None
    assert b"</html>" in (store.read_bytes(f"{prefix}/report.html") or b"")
    assert {p.rsplit("/", 1)[-1] for p in store.list(f"{prefix}/signals/")} == {"data-drift.json",
                                                                              "prediction-drift.json"}
    history = pl.read_parquet(io.BytesIO(store.read_bytes(f"{MONITOR}/history.parquet") or b""))
    assert set(history["signal"]) == {"data-drift", "prediction-drift"}
    assert history["fire_time"].unique().to_list() == [fraud_monitor.fire_time]
    _tick(extension)  # completed: the next tick starts nothing
    assert len(extension.starts) == 1
