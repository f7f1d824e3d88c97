"""deliver_alerts end to end on the outbox: on_change over consecutive runs, recipients, the record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monitoring.alerts import deliver_alerts
from monitoring.errors import ConfigurationError, MonitoringError
from monitoring.storage.local import LocalStore
from tests.monitoring.alerts.conftest import MakeRun, Sleeps, write_run

AMOUNT = ("data-drift", "amount", "normalized_wasserstein_distance")
SCORE = ("prediction-drift", "fraud_score", "normalized_wasserstein_distance")
TEAM = {"emails": ["ml-team@example.com"]}


def _deliver(run: dict[str, Any], store: LocalStore, sleeps: Sleeps, notification: dict[str, Any] | None = None,
             **options: Any) -> dict[str, Any]:
    write_run(store, run)  # as finalize_run does before the alert step
    return deliver_alerts(run, TEAM if notification is None else notification, store,
                          instance_id=f"{run['monitor']}-{run['run_id']}", sleep=sleeps, **options)


def _outbox(tmp_path: Path) -> list[str]:
    folder = tmp_path / "results" / "_outbox"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_on_change_over_consecutive_runs(tmp_path: Path, results: LocalStore, make_run: MakeRun,
                                         sleeps: Sleeps) -> None:
    on_change = {**TEAM, "mode": "on_change"}
    first = _deliver(make_run("20261126T0315Z", breaches=[AMOUNT]), results, sleeps, on_change)
    second = _deliver(make_run("20261127T0315Z", breaches={AMOUNT: 0.8}), results, sleeps, on_change)
    third = _deliver(make_run("20261128T0315Z", breaches=[AMOUNT, SCORE]), results, sleeps, on_change)
    fourth = _deliver(make_run("20261129T0315Z"), results, sleeps, on_change)

    assert [r["status"] for r in (first, second, third, fourth)] == ["sent", "suppressed", "sent", "sent"]
    assert second["reason"].startswith("unchanged since run 20261126T0315Z")
    assert second["channels"] == {}
    assert third["previous_run_id"] == "20261127T0315Z"
    assert fourth["subject"].endswith("(resolved)")
    assert _outbox(tmp_path) == [f"fraud-detection-demo-{r}.eml"
                                 for r in ("20261126T0315Z", "20261128T0315Z", "20261129T0315Z")]
    third_text = (tmp_path / "results" / "_outbox" / "fraud-detection-demo-20261128T0315Z.eml").read_text()
    assert "fraud_score (new)" in third_text
    assert "amount (new)" not in third_text


def test_every_run_sends_each_breaching_run(tmp_path: Path, results: LocalStore, make_run: MakeRun,
                                            sleeps: Sleeps) -> None:
    _deliver(make_run("20261126T0315Z", breaches=[AMOUNT]), results, sleeps)
    _deliver(make_run("20261127T0315Z", breaches=[AMOUNT]), results, sleeps)
    quiet = _deliver(make_run("20261128T0315Z"), results, sleeps)
    assert len(_outbox(tmp_path)) == 2
    assert quiet["status"] == "not_needed"
    stored = json.loads(results.read_bytes("fraud-detection-demo/20261128T0315Z/alert.json") or b"{}")
    assert stored["reason"] == "no alert-enabled signal breached or failed"


def test_default_recipients_cover_monitors_without_emails(monkeypatch: pytest.MonkeyPatch, results: LocalStore,
                                                          make_run: MakeRun, sleeps: Sleeps) -> None:
    monkeypatch.setenv("ALERT_DEFAULT_RECIPIENTS", "ops@example.com; ML@example.com, ml@example.com")
    record = _deliver(make_run("20261128T0315Z", breaches=[AMOUNT]), results, sleeps, {})
    assert record["channels"]["email"]["recipients"] == ["ops@example.com", "ML@example.com"]

    monkeypatch.setenv("ALERT_DEFAULT_RECIPIENTS", "ops@example.com, not-an-address")
    record = _deliver(make_run("20261129T0315Z", breaches=[AMOUNT]), results, sleeps, {}, raise_on_failure=False)
    assert record["channels"]["email"]["status"] == "failed"
    assert "`not-an-address`" in record["channels"]["email"]["error"]


def test_no_recipients_skips_the_email_until_some_are_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          results: LocalStore, make_run: MakeRun,
                                                          sleeps: Sleeps) -> None:
    from monitoring.alerts import deliver

    charts: list[str] = []
    draw = deliver.worst_feature_chart
    monkeypatch.setattr(deliver, "worst_feature_chart", lambda *a: charts.append("drawn") or draw(*a))
    run = make_run("20261128T0315Z", breaches=[AMOUNT])
    record = _deliver(run, results, sleeps, {})
    assert (record["status"], record["channels"]["email"]["status"]) == ("skipped", "skipped")
    assert "ALERT_DEFAULT_RECIPIENTS" in record["channels"]["email"]["error"]
    assert _outbox(tmp_path) == []
    assert charts == []  # an email nobody gets draws no chart (0.26 s of matplotlib per run)

    monkeypatch.setenv("ALERT_DEFAULT_RECIPIENTS", "ops@example.com")
    assert _deliver(run, results, sleeps, {})["status"] == "sent"
    assert charts == ["drawn"]


def test_a_rerun_that_no_longer_breaches_retires_a_failed_channel(monkeypatch: pytest.MonkeyPatch,
                                                                  results: LocalStore, make_run: MakeRun,
                                                                  sleeps: Sleeps) -> None:
    hook = {**TEAM, "webhooks": [{"setting": "UNSET_HOOK", "format": "json"}]}
    failed = _deliver(make_run("20261128T0315Z", breaches=[AMOUNT]), results, sleeps, hook, raise_on_failure=False)
    assert failed["channels"]["webhook:UNSET_HOOK:json"]["status"] == "failed"

    rerun = _deliver(make_run("20261128T0315Z"), results, sleeps, hook)
    assert rerun["channels"]["webhook:UNSET_HOOK:json"]["status"] == "skipped"
    assert rerun["channels"]["email"]["status"] == "sent"  # what was delivered stays on record
    assert rerun["status"] == "sent"


def test_the_first_instance_id_is_kept(results: LocalStore, make_run: MakeRun, sleeps: Sleeps) -> None:
    run = make_run("20261128T0315Z", breaches=[AMOUNT])
    first = deliver_alerts(run, TEAM, results, instance_id="fraud-detection-demo-20261128T0315Z", sleep=sleeps)
    again = deliver_alerts(run, TEAM, results, instance_id="manual-rerun-1", sleep=sleeps)
    assert again["instance_id"] == first["instance_id"]
    assert again["channels"]["email"]["operation_id"] == first["channels"]["email"]["operation_id"]


def test_a_corrupt_record_holds_the_alert_back(results: LocalStore, make_run: MakeRun, sleeps: Sleeps) -> None:
    results.write_bytes("fraud-detection-demo/20261128T0315Z/alert.json", b"{not json")
    with pytest.raises(MonitoringError, match="Delete the file to send them again"):
        _deliver(make_run("20261128T0315Z", breaches=[AMOUNT]), results, sleeps)


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"instance_id": " "}, MonitoringError, "instance_id is required"),
    ({"alert_notification": {"mode": "sometimes"}}, ConfigurationError, "alert_notification is not valid"),
    ({"run": {"monitor": "m"}}, MonitoringError, "run.json lacks run_id, fire_time, signals"),
    ({"run": {"monitor": "../etc", "run_id": "x", "fire_time": "", "signals": {}}}, MonitoringError,
     "expected a monitor name"),
])
def test_bad_arguments_fail_up_front(results: LocalStore, make_run: MakeRun, change: dict[str, Any],
                                     error: type[Exception], message: str) -> None:
    arguments: dict[str, Any] = {"run": make_run("20261128T0315Z"), "alert_notification": TEAM, "store": results,
                                 "instance_id": "fraud-detection-demo-20261128T0315Z", **change}
    with pytest.raises(error, match=message):
        deliver_alerts(**arguments)
