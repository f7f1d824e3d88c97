"""Value ranges through the Durable fan-out: with an activity budget too small for one column, every
numerical drift feature is split into range activities, and the run equals the in-memory local run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions import runs
from monitoring.definition import load_text
from monitoring.dispatch.due import RunRequest
from monitoring.names import instance_id, run_id
from monitoring.run import bounded
from monitoring.run.local import run_local
from monitoring.storage import blob
from monitoring.storage.definitions import definition_store
from monitoring.storage.local import LocalStore
from tests.conftest import MONITOR, MONITOR_YAML, FraudData, generated_fraud, upload_fraud
from tests.durable_harness import DurableHarness
from tests.monitoring.data.test_ranges import assert_close

pytestmark = pytest.mark.azurite


@pytest.fixture(scope="module")
def large_files(tmp_path_factory: pytest.TempPathFactory) -> FraudData:
    """More than 10,000 rows a side, so that the asymptotic KS p-value lets features split."""
    return generated_fraud(tmp_path_factory, "fraud-large", days=8, drift_days=4, rows_per_day=1800,
                           training_rows=12_000)


@pytest.fixture
def large_monitor(storage: Any, large_files: FraudData) -> FraudData:
    upload_fraud(large_files)
    definition_store().put(load_text(MONITOR_YAML, "test"), MONITOR_YAML)
    return large_files


def _signals(run: dict[str, Any]) -> dict[str, Any]:
    return {name: {k: v for k, v in signal.items() if k not in ("duration_s", "started_at", "finished_at")}
            for name, signal in run["signals"].items()}


@pytest.mark.parametrize("batch", [False, True])
def test_range_activities_give_the_in_memory_run(large_monitor: FraudData, tmp_path: Any,
                                                 monkeypatch: pytest.MonkeyPatch, batch: bool) -> None:
    store = LocalStore(tmp_path)
    plan, local = run_local(definition_store().load(MONITOR), large_monitor.fire_time, store, memory_mb=100_000)
    monkeypatch.setenv("ACTIVITY_MEMORY_MB", "1")
    counted: list[str] = []
    streamed = bounded.streamed_distinct_counts
    monkeypatch.setattr(bounded, "streamed_distinct_counts",
                        lambda frame, column: counted.append(column) or streamed(frame, column))
    request = RunRequest(monitor=MONITOR, fire_time=large_monitor.fire_time).model_dump(mode="json")
    result = DurableHarness([runs.bp], batch=batch).run("monitor_run", instance_id(MONITOR, large_monitor.fire_time),
                                                        request)
    assert result.status == "Completed", result.error
    names = [c.name for c in result.calls]
    summarized = [c.input["batch"] for c in result.attempts("summarize_feature")]
    assert len(summarized) == sum(len(s["features"]) for s in local["signals"].values())  # one feature per batch
    split = {json.dumps(c.input["batch"], sort_keys=True) for c in result.attempts("range_share")}
    assert len(split) >= 4  # the numerical features of both signals
    assert names.count("range_share") >= 2 * len(split)  # each in several ranges
    assert names.count("combine_feature") == len(split)
    assert "compute_signal" in names  # the categorical features, one an activity ...
    assert {"merchant_category", "device_type"} <= set(counted)  # ... counted by a streaming group-by
    run = json.loads(blob.results_store().read_bytes(f"{MONITOR}/{run_id(large_monitor.fire_time)}/run.json")
                     or b"null")
    assert run["status"] == "completed"
    assert_close(_signals(run), _signals(local))
    assert run["breached"] == local["breached"]
    for name in local["signals"]:  # the full documents: histograms, details, nulls, profiles
        path = f"{plan.prefix}/signals/{name}.json"
        stored = json.loads(blob.results_store().read_bytes(path) or b"null")
        want = json.loads(store.read_bytes(path) or b"null")
        assert_close({k: v for k, v in stored.items() if k not in ("duration_s", "started_at", "finished_at")},
                     {k: v for k, v in want.items() if k not in ("duration_s", "started_at", "finished_at")})
