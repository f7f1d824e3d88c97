"""The ``monitor_run`` orchestration, replayed through the Durable SDK with its real activities.

Results of the orchestrated run are checked against ``run_local`` on the same definition and data: the
local runner chains the same plan/compute/finalize steps without Durable, batches or stored parts, so any
difference is the orchestration's doing.
"""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import polars as pl
import pytest

from functions import runs
from monitoring.definition import load_text
from monitoring.dispatch.due import RunRequest
from monitoring.names import instance_id, run_id
from monitoring.run.durable import ChunkOutcome, SignalChunk
from monitoring.run.local import run_local
from monitoring.storage import blob
from monitoring.storage.definitions import definition_store
from monitoring.storage.local import LocalStore
from tests.conftest import MONITOR, FraudData
from tests.durable_harness import (
    SUB_CREATED,
    SUB_FAILED,
    TASK_SCHEDULED,
    DurableHarness,
    NonDeterminismError,
    OrchestrationResult,
    host_default_version,
)
from tests.functions import legacy_runs

pytestmark = pytest.mark.azurite


def _request(data: FraudData) -> dict[str, Any]:
    return RunRequest(monitor=MONITOR, fire_time=data.fire_time).model_dump(mode="json")


def _run(data: FraudData, **harness: Any) -> OrchestrationResult:
    return DurableHarness([runs.bp], **harness).run("monitor_run", instance_id(MONITOR, data.fire_time),
                                                    _request(data))


def _stored(path: str) -> Any:
    return json.loads(blob.results_store().read_bytes(path) or b"null")


def _metrics(run: dict[str, Any], signal: str) -> dict[tuple[str, str], float | None]:
    features = run["signals"][signal]["features"]
    return {(f, m): r["value"] for f, fr in features.items() for m, r in fr["metrics"].items()}


@pytest.fixture
def local_run(fraud_monitor: FraudData, tmp_path: Any) -> dict[str, Any]:
    """The same run by the local runner, for comparison."""
    loaded = definition_store().load(MONITOR)
    return run_local(loaded, fraud_monitor.fire_time, LocalStore(tmp_path))[1]


@pytest.mark.parametrize(("schema_version", "batch"), [(0, False), (1, True), (2, False)])
def test_all_signals_succeed_and_match_the_local_runner(fraud_monitor: FraudData, local_run: dict[str, Any],
                                                        schema_version: int, batch: bool) -> None:
    result = _run(fraud_monitor, schema_version=schema_version, batch=batch)
    assert result.status == "Completed", result.error
    prefix = f"{MONITOR}/{run_id(fraud_monitor.fire_time)}"
    run = _stored(f"{prefix}/run.json")
    assert result.output["status"] == run["status"] == "completed"
    assert result.output["run"].endswith(f"/results/{prefix}/run.json")
    assert [c.name for c in result.calls] == ["plan_run", "compute_signal", "compute_signal", "alert"]
    for signal in ("data-drift", "prediction-drift"):
        assert run["signals"][signal]["status"] == "completed"
        assert _metrics(run, signal) == _metrics(local_run, signal)
    assert run["breached"] == local_run["breached"]
    assert result.custom_status["stage"] == "completed"
    assert result.custom_status["batches_done"] == result.custom_status["batches_total"] == 2
    stages = [s["stage"] for s in result.custom_statuses if s]
    assert stages[0] == "planning"
    assert "computing" in stages
    history = pl.read_parquet(io.BytesIO(blob.results_store().read_bytes(f"{MONITOR}/history.parquet") or b""))
    metric_rows = sum(len(fr["metrics"]) for s in run["signals"].values() for fr in s["features"].values())
    assert history.height == metric_rows


@pytest.mark.parametrize("failing_attempts", [1, 3])
def test_a_signal_failing_after_retries_is_recorded_and_the_run_is_partial(
        fraud_monitor: FraudData, local_run: dict[str, Any], failing_attempts: int) -> None:
    def faults(activity: str, value: Any, attempt: int) -> Exception | None:
        if activity == "compute_signal" and value["signal"] == "prediction-drift" and attempt <= failing_attempts:
            return ConnectionResetError(f"worker lost (attempt {attempt})")
        return None

    result = _run(fraud_monitor, faults=faults)
    assert result.status == "Completed", result.error
    attempts = [c for c in result.attempts("compute_signal") if c.input["signal"] == "prediction-drift"]
    max_attempts = runs.RETRY.max_number_of_attempts
    assert len(attempts) == min(failing_attempts + 1, max_attempts)
    assert len({c.task_id for c in attempts}) == len(attempts)  # each retry is a new scheduled task
    run = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/run.json")
    assert _metrics(run, "data-drift") == _metrics(local_run, "data-drift")
    prediction = run["signals"]["prediction-drift"]
    if failing_attempts < max_attempts:
        assert run["status"] == "completed"
        assert _metrics(run, "prediction-drift") == _metrics(local_run, "prediction-drift")
        return
    assert run["status"] == result.output["status"] == "partial"
    assert prediction["status"] == "failed"
    assert f"failed after {max_attempts} attempts" in prediction["error"]
    assert f"worker lost (attempt {max_attempts})" in prediction["error"]
    assert result.output["signals"] == {"data-drift": "completed", "prediction-drift": "failed"}
    assert result.custom_status["batches_failed"] == 1


def test_feature_batches_merge_into_the_single_batch_result(fraud_monitor: FraudData, local_run: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "3")
    result = _run(fraud_monitor, batch=True)
    assert result.status == "Completed", result.error
    features = {s: len(local_run["signals"][s]["features"]) for s in ("data-drift", "prediction-drift")}
    batches = [c.input for c in result.attempts("compute_signal")]
    assert len(batches) == sum(math.ceil(n / 3) for n in features.values())
    assert {b["signal"] for b in batches if b["batches"] > 1} == {"data-drift"}
    run = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/run.json")
    for signal in features:
        assert _metrics(run, signal) == _metrics(local_run, signal)
        assert list(run["signals"][signal]["features"]) == list(local_run["signals"][signal]["features"])
    document = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/signals/data-drift.json")
    assert set(document["features"]) == set(local_run["signals"]["data-drift"]["features"])
    assert all(fr["histogram"] for fr in document["features"].values())


def test_running_the_same_instance_again_overwrites_and_duplicates_nothing(fraud_monitor: FraudData) -> None:
    store = blob.results_store()
    first = _run(fraud_monitor)
    blobs_after_first = store.list(f"{MONITOR}/")
    history_first = pl.read_parquet(io.BytesIO(store.read_bytes(f"{MONITOR}/history.parquet") or b""))
    run_first = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/run.json")
    alert_first = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/alert.json")
    second = _run(fraud_monitor)
    assert first.status == second.status == "Completed"
    assert store.list(f"{MONITOR}/") == blobs_after_first
    history_second = pl.read_parquet(io.BytesIO(store.read_bytes(f"{MONITOR}/history.parquet") or b""))
    keys = ["fire_time", "signal", "feature", "metric"]
    assert history_second.sort(keys).equals(history_first.sort(keys))
    run_second = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/run.json")
    assert run_second["signals"] == run_first["signals"]
    assert _stored(f"{MONITOR}/latest.json")["run_id"] == run_id(fraud_monitor.fire_time)
    # the re-run replays the alert activity: the email it sent the first time is not sent again
    email_first = alert_first["channels"]["email"]
    email_second = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/alert.json")["channels"]["email"]
    assert email_first["status"] == email_second["status"] == "sent"
    assert email_second["attempts"] == email_first["attempts"] == 1
    assert email_second["sent_at"] == email_first["sent_at"]
    assert alert_first["instance_id"] == instance_id(MONITOR, fraud_monitor.fire_time)
    assert len([b for b in store.list("") if b.endswith(".eml")]) == 1


def test_payloads_are_references_whose_size_does_not_grow_with_the_number_of_features(
        storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 600-feature monitor moves messages no larger than a 6-feature one (and far below 64 KB)."""
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "200")
    fire = datetime(2026, 1, 5, tzinfo=UTC)
    sizes = {}
    for width in (6, 600):
        name = f"w{width:04d}"  # one length for every width, so the paths inside messages are as long
        frame = pl.DataFrame({f"f{i:03d}": [float((r * (i + 7)) % 23) for r in range(60)] for i in range(width)})
        data = blob.container_client(blob.DATA)
        data.upload_blob(f"{name}/production/2026/01/04/part.parquet", _parquet(frame))
        data.upload_blob(f"{name}/reference/part.parquet", _parquet(frame))
        text = (f"name: {name}\ntrigger: {{type: recurrence, frequency: day}}\ncreate_monitor:\n"
                f"  monitoring_signals:\n    drift:\n      type: data_drift\n      features: all_features\n"
                f"      production_data: {{input_data: {{path: 'az://data/{name}/production/'}}}}\n"
                f"      reference_data: {{input_data: {{path: 'az://data/{name}/reference/'}}}}\n")
        definition_store().put(load_text(text, name), text)
        request = RunRequest(monitor=name, fire_time=fire).model_dump(mode="json")
        result = DurableHarness([runs.bp], batch=True).run("monitor_run", instance_id(name, fire), request)
        assert result.status == "Completed", result.error
        run = _stored(f"{name}/{run_id(fire)}/run.json")
        assert run["status"] == "completed", run["signals"]["drift"]["error"]
        assert len(run["signals"]["drift"]["features"]) == width
        sizes[width] = result.payload_bytes
    print(f"largest Durable message by kind (bytes): {sizes}")  # the measurement, shown with -s
    assert max(sizes[600].values()) < 4096
    for kind in ("input", "plan_run", "plan_run result", "compute_signal", "alert", "alert result", "output"):
        assert sizes[600][kind] == sizes[6][kind], kind
    assert sizes[600]["compute_signal result"] <= sizes[6]["compute_signal result"] + 4  # "features": 6 -> 200
    # What the references spare Durable: one batch's full result (histograms included), as stored.
    part = blob.results_store().read_bytes(f"w0600/{run_id(fire)}/parts/drift/0.json") or b""
    print(f"full result of one 200-feature batch: {len(part)} bytes")
    assert len(part) > 64 * 1024


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


wall_clock = df.Blueprint()


@wall_clock.orchestration_trigger(context_name="context")
def wall_clock_run(context: df.DurableOrchestrationContext) -> Any:
    """``monitor_run``'s first steps, but timing the run with the machine's clock instead of the context's."""
    request = dict(context.get_input())
    planned = yield context.call_activity("plan_run", request)
    started = datetime.now(UTC).isoformat()  # differs on every replay
    outcome = yield context.call_activity("compute_signal", {**planned, "started": started})
    return outcome


def test_an_orchestrator_reading_the_wall_clock_fails_the_harness(fraud_monitor: FraudData) -> None:
    harness = DurableHarness([runs.bp, wall_clock])
    with pytest.raises(NonDeterminismError, match="compute_signal"):
        harness.run("wall_clock_run", "wall-clock-1", _request(fraud_monitor))


# --------------------------------------------------------------------------------------------------
# Fan-out through sub-orchestrations, and versioning


def test_host_json_default_version_is_the_orchestrators_version() -> None:
    """Durable Functions "Orchestration versioning": new instances get host.json's defaultVersion."""
    assert host_default_version() == runs.ORCHESTRATION_VERSION
    assert runs.uses_sub_orchestrations(runs.ORCHESTRATION_VERSION)
    assert not runs.uses_sub_orchestrations("")
    assert not runs.uses_sub_orchestrations(None)


def _created(result: OrchestrationResult) -> list[dict[str, Any]]:
    return [e for e in result.history if e["EventType"] == SUB_CREATED]


def test_a_new_instance_fans_out_through_one_sub_orchestration_per_signal(fraud_monitor: FraudData) -> None:
    result = _run(fraud_monitor)
    assert result.status == "Completed", result.error
    parent = instance_id(MONITOR, fraud_monitor.fire_time)
    assert result.version == runs.ORCHESTRATION_VERSION
    created = _created(result)
    assert [(e["Name"], e["InstanceId"], e["Version"]) for e in created] == [
        ("signal_run", f"{parent}:{s}:0", runs.ORCHESTRATION_VERSION) for s in ("data-drift", "prediction-drift")]
    scheduled = [e["Name"] for e in result.history if e["EventType"] == TASK_SCHEDULED]
    assert scheduled == ["plan_run", "alert"]  # no compute_signal in the parent's history
    assert [c.version for c in result.children] == [runs.ORCHESTRATION_VERSION] * 2
    assert {c.instance_id for c in result.attempts("compute_signal")} == {e["InstanceId"] for e in created}


def test_a_wide_signal_splits_into_runs_of_batches_and_matches_the_local_runner(
        fraud_monitor: FraudData, local_run: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "1")
    monkeypatch.setattr(runs, "BATCHES_PER_SUB_ORCHESTRATION", 2)
    features = len(local_run["signals"]["data-drift"]["features"])

    def faults(activity: str, value: Any, attempt: int) -> Exception | None:
        if activity == "compute_signal" and value["signal"] == "data-drift" and value["batch"] == 1:
            return ConnectionResetError(f"worker lost (attempt {attempt})")
        return None

    def slow(activity: str, value: Any) -> bool:  # batch 0 still runs when its neighbour has failed for good
        return activity == "compute_signal" and value["signal"] == "data-drift" and value["batch"] == 0

    result = _run(fraud_monitor, faults=faults, slow=slow)
    assert result.status == "Completed", result.error
    parent = instance_id(MONITOR, fraud_monitor.fire_time)
    drift = [e["InstanceId"] for e in _created(result) if ":data-drift:" in e["InstanceId"]]
    assert drift == [f"{parent}:data-drift:{k}" for k in range(math.ceil(features / 2))]
    assert max(len(c.history) for c in result.children) < 40
    # the batch that failed every retry did not stop its neighbours in the same sub-orchestration
    ran = {c.input["batch"] for c in result.attempts("compute_signal") if c.input["signal"] == "data-drift"}
    assert ran == set(range(features))
    run = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/run.json")
    assert run["status"] == "partial"
    assert run["signals"]["data-drift"]["status"] == "failed"
    assert "features batch 2 of" in run["signals"]["data-drift"]["error"]
    assert _metrics(run, "prediction-drift") == _metrics(local_run, "prediction-drift")


broken = df.Blueprint()


@broken.orchestration_trigger(context_name="context")
def signal_run(context: df.DurableOrchestrationContext) -> Any:
    """A ``signal_run`` that fails as a whole for one signal."""
    chunk = SignalChunk.model_validate(context.get_input())
    if chunk.signal == "prediction-drift":
        raise RuntimeError("sub-orchestration lost")
    yield context.task_all([context.call_activity("compute_signal", ref.model_dump(mode="json"))
                            for ref in chunk.refs()])
    return ChunkOutcome().model_dump(mode="json")


def test_a_failed_sub_orchestration_fails_its_signal_and_the_run_is_partial(
        fraud_monitor: FraudData, local_run: dict[str, Any]) -> None:
    result = DurableHarness([runs.bp, broken]).run("monitor_run", instance_id(MONITOR, fraud_monitor.fire_time),
                                                   _request(fraud_monitor))
    assert result.status == "Completed", result.error
    assert any(e["EventType"] == SUB_FAILED for e in result.history)
    run = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/run.json")
    assert run["status"] == "partial"
    assert "sub-orchestration lost" in run["signals"]["prediction-drift"]["error"]
    assert _metrics(run, "data-drift") == _metrics(local_run, "data-drift")


@pytest.mark.parametrize("deployed_after", [1, 2, 4])
def test_an_instance_in_flight_before_versioning_is_finished_by_the_new_code(
        fraud_monitor: FraudData, local_run: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        deployed_after: int) -> None:
    """The old code (tests/functions/legacy_runs.py) starts an instance with no version; after
    ``deployed_after`` episodes the current code is deployed and replays the old history to the end."""
    monkeypatch.setenv("FEATURES_PER_ACTIVITY", "3")
    harness = DurableHarness([runs.bp, legacy_runs.bp], version="", deploy=(deployed_after, [runs.bp]))
    result = harness.run("monitor_run", instance_id(MONITOR, fraud_monitor.fire_time), _request(fraud_monitor))
    assert result.status == "Completed", result.error
    assert result.version == ""
    assert not _created(result)  # the flat fan-out it was started with
    assert len(result.attempts("compute_signal")) > 2
    run = _stored(f"{MONITOR}/{run_id(fraud_monitor.fire_time)}/run.json")
    for signal in ("data-drift", "prediction-drift"):
        assert _metrics(run, signal) == _metrics(local_run, signal)


def test_a_version_blind_orchestrator_breaks_the_in_flight_instance(
        fraud_monitor: FraudData, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the branch on ``context.version`` prevents: the new shape replayed over the old history."""
    monkeypatch.setattr(runs, "uses_sub_orchestrations", lambda version: True)
    harness = DurableHarness([runs.bp, legacy_runs.bp], version="", deploy=(2, [runs.bp]))
    with pytest.raises(NonDeterminismError, match="signal_run"):
        harness.run("monitor_run", instance_id(MONITOR, fraud_monitor.fire_time), _request(fraud_monitor))
