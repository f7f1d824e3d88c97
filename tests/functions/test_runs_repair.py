"""On Blob Storage: a run of ``monitor_run`` repairs a corrupt history.parquet or latest.json and alerts."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from functions import runs
from monitoring.dispatch.due import RunRequest
from monitoring.names import instance_id, run_id
from monitoring.storage import blob
from tests.conftest import MONITOR, FraudData
from tests.durable_harness import DurableHarness

pytestmark = pytest.mark.azurite


def _run(fire: Any) -> Any:
    request = RunRequest(monitor=MONITOR, fire_time=fire).model_dump(mode="json")
    return DurableHarness([runs.bp]).run("monitor_run", instance_id(MONITOR, fire), request)


@pytest.mark.parametrize(("document", "damage"), [("history.parquet", "truncated"), ("latest.json", "garbage"),
                                                  ("history.parquet", "garbage")])
def test_a_corrupt_document_on_blob_is_kept_rebuilt_and_the_run_alerts(
        fraud_monitor: FraudData, document: str, damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACS_ENDPOINT", raising=False)
    earlier, fire = fraud_monitor.fire_time - timedelta(days=1), fraud_monitor.fire_time
    assert _run(earlier).status == "Completed"
    store = blob.results_store()
    path = f"{MONITOR}/{document}"
    original = store.read_bytes(path) or b""
    damaged = original[: len(original) // 3] if damage == "truncated" else b"PAR1\x00garbage{"
    store.write_bytes(path, damaged)

    result = _run(fire)

    assert result.status == "Completed", result.error
    assert len(result.attempts("alert")) == 1  # repaired in the first attempt, not by Durable's retries
    kept = [p for p in store.list(f"{MONITOR}/") if ".corrupt-" in p]
    assert len(kept) == 1
    assert kept[0].startswith(f"{MONITOR}/{document.split('.')[0]}.corrupt-")
    assert store.read_bytes(kept[0]) == damaged
    run = json.loads(store.read_bytes(f"{MONITOR}/{run_id(fire)}/run.json") or b"{}")
    assert kept[0] in run["notes"][0]
    alert = json.loads(store.read_bytes(f"{MONITOR}/{run_id(fire)}/alert.json") or b"{}")
    assert alert["channels"]["email"]["status"] == "sent"
    history = pl.read_parquet(io.BytesIO(store.read_bytes(f"{MONITOR}/history.parquet") or b""))
    assert history["fire_time"].unique().len() == 2
    assert json.loads(store.read_bytes(f"{MONITOR}/latest.json") or b"{}")["run_id"] == run_id(fire)
