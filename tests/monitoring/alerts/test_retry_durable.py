"""Undelivered alerts, later: through the Durable SDK (``monitor_run``, the scheduler timer and
``alert_followup``) against Azurite and the fake ACS.

An ACS outage longer than the alert activity's retries leaves the run Failed with its email ``failed``;
the scheduler re-attempts only that channel after a backoff, exactly once per round, and never again once
delivered. A run whose plan fails tells the owners "monitor cannot run", once per fire time.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from functions import alert_jobs, runs
from functions import scheduler as scheduler_function
from monitoring.alerts.record import pending_path
from monitoring.dispatch.due import RunRequest
from monitoring.names import instance_id, run_id
from monitoring.storage import blob
from tests.conftest import MONITOR, MONITOR_YAML, FraudData, user_function
from tests.durable_client import FakeDurableExtension
from tests.durable_harness import DurableHarness
from tests.monitoring.alerts.fakes import FakeAcs, Scripted

pytestmark = pytest.mark.azurite

#: A Retry-After far beyond any wait budget: each send attempt ends at once, recorded as failed.
OUTAGE = Scripted(429, {"Retry-After": "3600"}, {"error": {"code": "TooManyRequests", "message": "throttled"}})


class _Timer:
    past_due = False


def _harness() -> DurableHarness:
    return DurableHarness([runs.bp, alert_jobs.bp])


def _tick(extension: FakeDurableExtension, at: datetime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One scheduler tick at ``at``; the instance IDs it started."""
    before = len(extension.starts)
    monkeypatch.setattr(scheduler_function, "clock", lambda: at)
    asyncio.run(user_function(scheduler_function.bp, "scheduler")(_Timer(), client=extension.client()))
    return [s[1] for s in extension.starts[before:]]


def _record(fire: datetime) -> dict[str, Any]:
    return json.loads(blob.results_store().read_bytes(f"{MONITOR}/{run_id(fire)}/alert.json") or b"{}")


def _run(fire: datetime) -> Any:
    request = RunRequest(monitor=MONITOR, fire_time=fire).model_dump(mode="json")
    return _harness().run("monitor_run", instance_id(MONITOR, fire), request)


def test_an_alert_lost_to_an_outage_is_retried_later_once(fraud_monitor: FraudData, acs_env: FakeAcs,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fire = fraud_monitor.fire_time
    acs_env.script = [OUTAGE] * 20
    result = _run(fire)
    assert result.status == "Failed"  # the alert activity failed all its attempts
    assert len(result.attempts("alert")) == runs.RETRY.max_number_of_attempts
    assert acs_env.sends == []
    record = _record(fire)
    assert record["channels"]["email"]["status"] == "failed"
    assert blob.results_store().read_bytes(pending_path(MONITOR, run_id(fire))) is not None
    acs_env.script = []  # the outage is over

    extension = FakeDurableExtension(_harness())
    extension.set_instance(instance_id(MONITOR, fire), "Failed")  # the scheduler never restarts the run
    failed_at = datetime.fromisoformat(record["channels"]["email"]["updated_at"])
    assert _tick(extension, failed_at + timedelta(minutes=1), monkeypatch) == []  # backoff: not yet
    started = _tick(extension, failed_at + timedelta(minutes=6), monkeypatch)
    assert started == [f"{MONITOR}-{run_id(fire)}-alert-retry-1"]
    assert extension.results[started[0]].status == "Completed"
    assert len(acs_env.sends) == 1
    record = _record(fire)
    assert record["channels"]["email"]["status"] == "sent"
    assert record["retries"] == 1
    assert blob.results_store().read_bytes(pending_path(MONITOR, run_id(fire))) is None
    next_fire = fire + timedelta(days=1)  # the daily monitor's next run: its own email, not a retry
    for later in (timedelta(hours=1), timedelta(hours=5)):
        assert _tick(extension, min(failed_at + later, next_fire - timedelta(minutes=1)), monkeypatch) == []
    assert len(acs_env.sends) == 1
    assert acs_env.duplicate_posts == 0


def test_retries_stop_after_the_window_and_say_so(fraud_monitor: FraudData, acs_env: FakeAcs,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_RETRY_HOURS", "1")
    fire = fraud_monitor.fire_time
    acs_env.script = [OUTAGE] * 200
    assert _run(fire).status == "Failed"
    extension = FakeDurableExtension(_harness())
    extension.set_instance(instance_id(MONITOR, fire), "Failed")
    # the daily monitor's next run (due 3 h after a run that starts after 00:15 UTC) exists already: the
    # ticks below see only the retries
    extension.set_instance(instance_id(MONITOR, fire + timedelta(days=1)), "Completed")
    created = datetime.fromisoformat(_record(fire)["created_at"])
    rounds = [_tick(extension, created + timedelta(minutes=m), monkeypatch) for m in range(6, 62, 4)]
    retried = [r for r in rounds if r]
    assert 1 <= len(retried) <= 4  # 5, 10, 20, 40 minutes apart (±20 %) within the hour
    assert _tick(extension, created + timedelta(minutes=61), monkeypatch) == []
    record = _record(fire)
    assert record["gave_up_at"] is not None
    assert "gave up" in record["channels"]["email"]["error"]
    assert blob.results_store().read_bytes(pending_path(MONITOR, run_id(fire))) is None
    assert _tick(extension, created + timedelta(hours=3), monkeypatch) == []
    assert acs_env.sends == []


def test_a_failed_plan_tells_the_owners_once_per_fire_time(fraud_monitor: FraudData, acs_env: FakeAcs,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_DEFAULT_RECIPIENTS", "owners@example.com")
    broken = MONITOR_YAML.replace("lookback_window_size", "lookback_windw_size")
    blob.container_client(blob.MONITORS).upload_blob(f"{MONITOR}.yaml", broken, overwrite=True)
    fire = fraud_monitor.fire_time
    first = _run(fire)
    assert first.status == "Failed"
    assert [c.name for c in first.calls].count("alert_job") == 1
    assert len(acs_env.sends) == 1
    message = acs_env.sends[0].json()
    assert message["content"]["subject"].startswith(f"[{MONITOR}] monitor cannot run: ")
    assert "lookback_windw_size" in message["content"]["plainText"]
    assert [r["address"] for r in message["recipients"]["to"]] == ["owners@example.com"]
    again = _run(fire)  # the same fire time once more (a manual re-run)
    assert again.status == "Failed"
    assert len(acs_env.sends) == 1
    assert _record(fire)["mode"] == "cannot_run"
    other = _run(fire - timedelta(days=1))
    assert other.status == "Failed"
    assert len(acs_env.sends) == 2  # another fire time is another notice
