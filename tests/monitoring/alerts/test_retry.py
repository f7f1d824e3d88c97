"""Which undelivered alerts the scheduler re-attempts, and when (``monitoring.alerts.retry``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.alerts import deliver_alerts
from monitoring.alerts.record import load_record, pending_path, save_record
from monitoring.alerts.retry import backoff, due_alert_jobs, run_alert_job
from monitoring.names import iso_utc
from monitoring.storage.base import write_json
from monitoring.storage.local import LocalStore
from tests.monitoring.alerts.conftest import MONITOR, MakeRun, Sleeps, write_run
from tests.monitoring.alerts.fakes import FakeAcs

RUN_ID = "20261128T0315Z"
TEAM = {"emails": ["ml-team@example.com"]}
BREACH = [("data-drift", "amount", "normalized_wasserstein_distance")]


def _interrupted(results: LocalStore, make_run: MakeRun, sleeps: Sleeps, *, minutes_ago: float) -> datetime:
    """A run whose email ACS accepted, recorded as ``sending``: the host died before writing ``sent``."""
    run = make_run(RUN_ID, breaches=BREACH)
    write_run(results, run)
    write_json(results, f"{MONITOR}/{RUN_ID}/plan.json", {"alert_notification": TEAM})
    deliver_alerts(run, TEAM, results, instance_id=f"{MONITOR}-{RUN_ID}", sleep=sleeps)
    record = load_record(results, MONITOR, RUN_ID)
    assert record is not None
    now = datetime.now(UTC)
    record.channels["email"].mark("sending")
    record.channels["email"].updated_at = iso_utc(now - timedelta(minutes=minutes_ago))
    record.summarise()
    save_record(results, record)
    return now


def test_a_send_interrupted_long_ago_is_checked_with_the_service_not_resent(
        results: LocalStore, make_run: MakeRun, sleeps: Sleeps, acs_env: FakeAcs) -> None:
    now = _interrupted(results, make_run, sleeps, minutes_ago=20)
    assert results.read_bytes(pending_path(MONITOR, RUN_ID)) is not None
    jobs = due_alert_jobs(results, [MONITOR], now)
    assert [(j.run_id, j.attempt) for j in jobs] == [(RUN_ID, 1)]
    record = run_alert_job(jobs[0], store=results, definitions=None, now=now)
    assert record["channels"]["email"]["status"] == "sent"
    assert len(acs_env.posts) == 1  # asked the service about its operation; no second POST
    assert acs_env.duplicate_posts == 0
    assert results.read_bytes(pending_path(MONITOR, RUN_ID)) is None
    assert due_alert_jobs(results, [MONITOR], now + timedelta(hours=2)) == []


def test_a_send_in_flight_is_left_alone(results: LocalStore, make_run: MakeRun, sleeps: Sleeps,
                                        acs_env: FakeAcs) -> None:
    now = _interrupted(results, make_run, sleeps, minutes_ago=2)
    assert due_alert_jobs(results, [MONITOR], now) == []
    assert len(due_alert_jobs(results, [MONITOR], now + timedelta(minutes=14))) == 1  # ALERT_STUCK_MINUTES=15


def test_a_stuck_timeout_is_a_setting(results: LocalStore, make_run: MakeRun, sleeps: Sleeps, acs_env: FakeAcs,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    now = _interrupted(results, make_run, sleeps, minutes_ago=2)
    monkeypatch.setenv("ALERT_STUCK_MINUTES", "1")
    assert len(due_alert_jobs(results, [MONITOR], now)) == 1


def test_backoff_doubles_with_jitter_up_to_two_hours() -> None:
    assert [backoff(n, jitter=1.0) for n in range(7)] == [timedelta(minutes=m) for m in (5, 10, 20, 40, 80, 120,
                                                                                         120)]
    waits = {backoff(3) for _ in range(50)}
    assert len(waits) > 1
    assert all(timedelta(minutes=32) <= w <= timedelta(minutes=48) for w in waits)
