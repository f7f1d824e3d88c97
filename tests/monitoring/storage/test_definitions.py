"""The local folder of monitor definitions: the same contract as the ``monitors`` container."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitoring.definition import load_text
from monitoring.dispatch.due import Scheduler, definition_error_path
from monitoring.errors import DefinitionError, MonitoringError
from monitoring.storage.definitions import DefinitionNotFound, FolderDefinitionStore
from monitoring.storage.local import LocalStore

YAML = """\
name: {name}
trigger:
  type: recurrence
  frequency: day
  interval: 1
  schedule: {{hours: [3], minutes: [15]}}
create_monitor:
  monitoring_signals:
    drift:
      type: data_drift
      production_data: {{input_data: {{path: ./prod, type: uri_folder}}, data_column_names: {{timestamp: ts}}}}
      reference_data: {{input_data: {{path: ./ref, type: uri_folder}}}}
"""


def test_put_then_load_round_trips_and_parses_once_per_version(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = FolderDefinitionStore(tmp_path)
    text = YAML.format(name="alpha")
    store.put(load_text(text, "alpha.yaml"), text)
    assert (tmp_path / "alpha.yaml").read_text() == text
    parsed: list[str] = []
    original = FolderDefinitionStore._parse

    def counting(self: FolderDefinitionStore, blob: str, etag: str, modified: datetime | None) -> object:
        parsed.append(blob)
        return original(self, blob, etag, modified)

    monkeypatch.setattr(FolderDefinitionStore, "_parse", counting)
    fresh = FolderDefinitionStore(tmp_path)
    assert fresh.load("alpha").schedule.name == "alpha"
    fresh.load_all()
    assert parsed == ["alpha.yaml"]
    (tmp_path / "alpha.yaml").write_text(text + "\n")
    os.utime(tmp_path / "alpha.yaml", ns=(0, 10**18))  # a new version even within the clock's resolution
    fresh.load_all()
    assert parsed == ["alpha.yaml", "alpha.yaml"]


def test_invalid_missing_and_duplicate_definitions(tmp_path: Path) -> None:
    store = FolderDefinitionStore(tmp_path)
    (tmp_path / "broken.yml").write_text("name: broken\ntrigger: {type: recurrence, frequency: day, interva: 1}\n")
    (tmp_path / "a.yaml").write_text(YAML.format(name="same"))
    (tmp_path / "b.yaml").write_text(YAML.format(name="same"))
    (tmp_path / "notes.txt").write_text("not a definition")
    entries = {e.blob: e for e in store.load_all()}
    assert set(entries) == {"a.yaml", "b.yaml", "broken.yml"}
    assert entries["broken.yml"].error is not None
    assert entries["broken.yml"].name == "broken"
    assert entries["b.yaml"].error is not None
    assert "already defined by a.yaml" in entries["b.yaml"].error.problems[0]
    with pytest.raises(DefinitionError):
        store.load("broken")
    with pytest.raises(DefinitionNotFound, match="python -m monitoring apply"):
        store.load("nobody")
    text = YAML.format(name="same")
    with pytest.raises(MonitoringError, match=r"already defined by .*a\.yaml"):
        store.put(load_text(text, "x"), text)


def test_scheduler_over_a_folder_records_and_clears_a_definition_error(tmp_path: Path) -> None:
    folder, results = tmp_path / "monitors", LocalStore(tmp_path / "results")
    folder.mkdir()
    (folder / "m.yaml").write_text(YAML.format(name="m").replace("interval: 1", "interva: 1"))
    scheduler = Scheduler(FolderDefinitionStore(folder), results)
    now = datetime(2026, 3, 2, 3, 20, tzinfo=UTC)
    assert scheduler.due(now) == []
    assert results.read_bytes(definition_error_path("m")) is not None
    (folder / "m.yaml").write_text(YAML.format(name="m"))
    os.utime(folder / "m.yaml", ns=(0, 10**18))
    due = scheduler.due(now)
    assert [(d.monitor, d.fire_time) for d in due] == [("m", datetime(2026, 3, 2, 3, 15, tzinfo=UTC))]
    assert results.read_bytes(definition_error_path("m")) is None


def test_local_store_delete(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.write_bytes("m/x.json", b"{}")
    assert store.delete("m/x.json") is True
    assert store.read_bytes("m/x.json") is None
    assert store.delete("m/x.json") is False
