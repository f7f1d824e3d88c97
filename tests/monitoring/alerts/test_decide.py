"""Deciding whether a run alerts: breaches worst first, failures, alert_enabled, every_run and on_change."""

from __future__ import annotations

import math
from typing import Any

import pytest

from monitoring.alerts.decide import breaches, decide, exceedance, failures, previous_run
from monitoring.definition import AlertNotification
from monitoring.storage.local import LocalStore
from tests.monitoring.alerts.conftest import MakeRun, write_run

AMOUNT = ("data-drift", "amount", "normalized_wasserstein_distance")
DEVICE = ("data-drift", "device_type", "jensen_shannon_distance")
SCORE = ("prediction-drift", "fraud_score", "normalized_wasserstein_distance")


def _metric(value: float, threshold: float, direction: str) -> dict[str, Any]:
    breached = value < threshold if direction == "greater_is_better" else value > threshold
    return {"value": value, "threshold": threshold, "direction": direction, "breached": breached, "reason": None}


@pytest.mark.parametrize(("value", "threshold", "expected"), [
    (0.3, 0.1, 2.0),         # three times a distance threshold
    (0.01, 0.05, 0.8),       # a p-value far below 0.05
    (0.85, 0.9, 0.0555556),  # NDCG just under its threshold
    (0.02, 0.0, math.inf),   # "any amount is too much"
    (0.0, 0.0, 0.0),
])
def test_exceedance_is_relative_to_the_threshold(value: float, threshold: float, expected: float) -> None:
    assert exceedance(value, threshold) == pytest.approx(expected, rel=1e-5)


def test_breaches_sort_worst_first_across_metric_scales() -> None:
    run = {"signals": {"s": {"type": "data_drift", "status": "completed", "alert_enabled": True, "features": {
        "a": {"metrics": {"jensen_shannon_distance": _metric(0.15, 0.1, "less_is_better")}},          # 0.5
        "b": {"metrics": {"two_sample_kolmogorov_smirnov_test": _metric(1e-9, 0.05, "greater_is_better")}},  # ~1
        "c": {"metrics": {"normalized_wasserstein_distance": _metric(0.46, 0.1, "less_is_better")}},  # 3.6
        "d": {"metrics": {"null_value_rate": _metric(0.001, 0.0, "less_is_better")}},                 # inf
        "e": {"metrics": {"jensen_shannon_distance": _metric(0.05, 0.1, "less_is_better")}},          # not breached
    }}}}
    assert [b.feature for b in breaches(run)] == ["d", "c", "b", "a"]


def test_alert_disabled_signals_neither_breach_nor_fail(make_run: MakeRun) -> None:
    run = make_run("20261128T0315Z", breaches=[AMOUNT], failed=["prediction-drift"],
                   disabled=["data-drift", "prediction-drift"])
    decision = decide(run, AlertNotification())
    assert not decision.alert
    assert decision.reason == "no alert-enabled signal breached or failed"


def test_every_run_alerts_on_breach_and_on_failure(make_run: MakeRun) -> None:
    breached = decide(make_run("20261128T0315Z", breaches=[AMOUNT, DEVICE]), AlertNotification())
    assert breached.alert
    assert breached.reason == "1 signal breached"
    assert [b.key for b in breached.breaches] == [AMOUNT, DEVICE]

    failed_run = make_run("20261128T0315Z", failed=["prediction-drift"])
    assert [f.signal for f in failures(failed_run)] == ["prediction-drift"]
    assert decide(failed_run, AlertNotification()).reason == "1 signal failed"
    assert not decide(failed_run, AlertNotification(alert_on_failure=False)).alert


def test_a_signal_skipped_for_no_data_alerts_unless_the_monitor_says_not_to(make_run: MakeRun) -> None:
    """Issue 10: a broken data pipeline is the most common thing a monitor must catch (alert_on_no_data)."""
    run = make_run("20261128T0315Z")
    run["signals"]["data-drift"].update(status="skipped", error="the production window has no rows", features={})
    run["signals"]["prediction-drift"].update(status="unsupported", error="needs a tokenizer", features={})
    for name in ("data-quality", "feature-attribution-drift", "model-performance", "custom-signal"):
        run["signals"].pop(name, None)
    for sig in run["signals"].values():
        sig["features"] = {} if sig["status"] != "completed" else sig["features"]
    decision = decide(run, AlertNotification())
    assert decision.alert
    assert [(f.signal, f.status) for f in decision.failures] == [("data-drift", "skipped")]
    assert "1 signal had no data" in decision.reason
    assert not decide(run, AlertNotification(alert_on_no_data=False)).alert


def test_previous_run_is_the_latest_earlier_run_json(results: LocalStore, make_run: MakeRun) -> None:
    for run_id in ("20261126T0315Z", "20261127T0315Z", "20261129T0315Z"):
        write_run(results, make_run(run_id))
    results.write_bytes("fraud-detection-demo/20261127T0400Z/signals/x.json", b"{}")  # a folder without run.json
    assert previous_run(results, "fraud-detection-demo", "20261128T0315Z")["run_id"] == "20261127T0315Z"
    assert previous_run(results, "fraud-detection-demo", "20261126T0315Z") is None
    assert previous_run(results, "other-monitor", "20261128T0315Z") is None


def test_on_change_compares_breach_sets_with_the_previous_run(make_run: MakeRun) -> None:
    on_change = AlertNotification(mode="on_change")
    first = make_run("20261126T0315Z", breaches=[AMOUNT])
    same = make_run("20261127T0315Z", breaches={AMOUNT: 0.9})  # a different value is not a change
    more = make_run("20261128T0315Z", breaches=[AMOUNT, SCORE])
    clear = make_run("20261129T0315Z")

    assert decide(first, on_change, previous=None).alert  # the first run compares with nothing
    unchanged = decide(same, on_change, previous=first)
    assert not unchanged.alert
    assert unchanged.reason.startswith("unchanged since run 20261126T0315Z")
    changed = decide(more, on_change, previous=same)
    assert changed.alert
    assert changed.new_keys == {SCORE}
    resolved = decide(clear, on_change, previous=more)
    assert resolved.alert
    assert resolved.resolved
    assert not decide(make_run("20261130T0315Z"), on_change, previous=clear).alert


def test_on_change_counts_a_new_failure_as_a_change(make_run: MakeRun) -> None:
    on_change = AlertNotification(mode="on_change")
    before = make_run("20261127T0315Z", breaches=[AMOUNT])
    after = make_run("20261128T0315Z", breaches=[AMOUNT], failed=["prediction-drift"])
    assert decide(after, on_change, previous=before).alert
    assert not decide(after, on_change.model_copy(update={"alert_on_failure": False}), previous=before).alert
