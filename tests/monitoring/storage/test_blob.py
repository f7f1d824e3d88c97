"""The results store and the definition store over Azurite."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from monitoring.definition import load_text
from monitoring.errors import DefinitionError, DefinitionNotFound, MonitoringError, WriteConflict
from monitoring.run.finish import update_latest
from monitoring.storage import blob
from monitoring.storage.base import Store
from monitoring.storage.blob import BlobStore
from monitoring.storage.definitions import DefinitionStore
from tests.conftest import MONITOR, MONITOR_YAML

pytestmark = pytest.mark.azurite


def test_blob_store_keeps_the_store_contract(storage: Any) -> None:
    store = BlobStore(blob.container_client(blob.RESULTS), prefix="runs")
    assert isinstance(store, Store)
    assert store.read_bytes("m/a.json") is None
    store.write_bytes("m/a.json", b"{}", content_type="application/json")
    store.write_bytes("m/b/c.txt", b"one")
    store.write_bytes("m/b/c.txt", b"two")
    assert store.read_bytes("m/b/c.txt") == b"two"
    assert store.list("m/") == ["m/a.json", "m/b/c.txt"]
    assert [b.name for b in blob.container_client(blob.RESULTS).list_blobs()] == ["runs/m/a.json", "runs/m/b/c.txt"]
    props = blob.container_client(blob.RESULTS).get_blob_client("runs/m/a.json").get_blob_properties()
    assert props.content_settings.content_type == "application/json"
    assert store.location("m/a.json").endswith("/results/runs/m/a.json")
    assert store.delete("m/a.json") is True
    assert store.delete("m/a.json") is False
    with pytest.raises(MonitoringError, match="unsafe store path"):
        store.write_bytes("../outside.json", b"")


def test_a_write_after_a_read_fails_if_someone_else_wrote_in_between(storage: Any) -> None:
    first, second = BlobStore(blob.container_client(blob.RESULTS)), BlobStore(blob.container_client(blob.RESULTS))
    assert first.read_bytes("m/history.parquet") is None
    assert second.read_bytes("m/history.parquet") is None
    first.write_bytes("m/history.parquet", b"first")
    with pytest.raises(WriteConflict):
        second.write_bytes("m/history.parquet", b"second")
    assert second.read_bytes("m/history.parquet") == b"first"
    second.write_bytes("m/history.parquet", b"first+second")  # after reading again it goes through
    assert first.read_bytes("m/history.parquet") == b"first+second"


def test_concurrent_read_modify_writes_lose_nothing(storage: Any) -> None:
    """Eight writers append to one document at once; each retries on conflict, like finish_step."""
    def append(item: str) -> None:
        store = BlobStore(blob.container_client(blob.RESULTS))
        while True:
            current = store.read_bytes("m/list.txt") or b""
            try:
                store.write_bytes("m/list.txt", current + item.encode() + b"\n")
                return
            except WriteConflict:
                continue

    threads = [threading.Thread(target=append, args=(f"item{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = BlobStore(blob.container_client(blob.RESULTS)).read_bytes("m/list.txt") or b""
    assert sorted(stored.decode().split()) == sorted(f"item{i}" for i in range(8))


def test_latest_points_at_the_latest_fire_time_even_when_runs_finish_out_of_order(storage: Any) -> None:
    store = BlobStore(blob.container_client(blob.RESULTS))
    runs = {day: {"monitor": "m", "run_id": f"202601{day:02d}T0315Z", "status": "completed", "breached": False,
                  "fire_time": datetime(2026, 1, day, 3, 15, tzinfo=UTC).isoformat().replace("+00:00", "Z"),
                  "finished_at": "2026-01-31T00:00:00Z"} for day in (5, 6)}
    assert update_latest(store, runs[6], instance_id="m-6")
    assert not update_latest(BlobStore(blob.container_client(blob.RESULTS)), runs[5], instance_id="m-5")
    assert b"20260106T0315Z" in (store.read_bytes("m/latest.json") or b"")


def test_definitions_are_parsed_once_per_blob_version(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    definitions = DefinitionStore(blob.container_client(blob.MONITORS))
    definitions.put(load_text(MONITOR_YAML, "test"), MONITOR_YAML)
    parsed: list[str] = []
    original = DefinitionStore._parse

    def counting(self: DefinitionStore, name: str, etag: str, modified: Any) -> Any:
        parsed.append(name)
        return original(self, name, etag, modified)

    monkeypatch.setattr(DefinitionStore, "_parse", counting)
    fresh = DefinitionStore(blob.container_client(blob.MONITORS))
    assert [d.name for d in fresh.load_all()] == [MONITOR]
    assert [d.name for d in fresh.load_all()] == [MONITOR]
    assert parsed == [f"{MONITOR}.yaml"]
    changed = MONITOR_YAML.replace("hours: 3", "hours: 4")
    blob.container_client(blob.MONITORS).upload_blob(f"{MONITOR}.yaml", changed, overwrite=True)
    assert fresh.load(MONITOR).schedule.trigger.schedule.hours == [4]
    assert parsed == [f"{MONITOR}.yaml", f"{MONITOR}.yaml"]


def test_one_monitor_name_has_one_definition(storage: Any) -> None:
    definitions = DefinitionStore(blob.container_client(blob.MONITORS))
    definitions.put(load_text(MONITOR_YAML, "test"), MONITOR_YAML)
    blob.container_client(blob.MONITORS).upload_blob("zz-copy.yml", MONITOR_YAML)  # uploaded by hand
    entries = {d.blob: d for d in definitions.load_all()}
    assert entries[f"{MONITOR}.yaml"].monitor is not None
    assert entries["zz-copy.yml"].error is not None
    assert f"already defined by {MONITOR}.yaml" in entries["zz-copy.yml"].error.problems[0]
    with pytest.raises(DefinitionError):
        definitions.load("zz-copy")
    with pytest.raises(DefinitionNotFound, match="python -m monitoring apply"):
        definitions.load("nope")
    blob.container_client(blob.MONITORS).delete_blob(f"{MONITOR}.yaml")
    with pytest.raises(MonitoringError, match=r"already defined by monitors/zz-copy\.yml"):
        definitions.put(load_text(MONITOR_YAML, "test"), MONITOR_YAML)


def test_a_missing_container_is_created_on_first_write(azurite: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_CONNECTION_STRING", azurite.connection_string)
    blob.service_client.cache_clear()
    container = blob.container_client("fresh-results")
    try:
        assert DefinitionStore(container).load_all() == []
        BlobStore(container).write_bytes("m/run.json", b"{}")
        assert container.exists()
    finally:
        container.delete_container()
        blob.service_client.cache_clear()
