"""A corrupt history.parquet or latest.json is kept aside, rebuilt from the run documents, and noted."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from monitoring.definition import load_file
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 6, 1, 3, 15, tzinfo=UTC)
FIRES = [FIRE - timedelta(days=2), FIRE - timedelta(days=1), FIRE]
DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "garbage": lambda data: b"\x00\xffnot a document at all" * 7,
    "empty": lambda data: b"",
}


@pytest.fixture
def demo(demo_folder: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ACS_ENDPOINT", "ACS_CONNECTION_STRING", "MONITORING_OUTBOX", "ALERT_DEFAULT_RECIPIENTS"):
        monkeypatch.delenv(name, raising=False)
    return demo_folder(end=FIRE, rows_per_day=300, training_rows=2000)


def _metric_rows(run: dict) -> int:
    return sum(len(fr["metrics"]) for s in run["signals"].values() for fr in s.get("features", {}).values())


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("document", ["history.parquet", "latest.json"])
def test_a_damaged_document_is_kept_rebuilt_and_the_run_alerts(demo: Path, document: str, damage: str) -> None:
    store = LocalStore(demo / "results")
    loaded = load_file(demo / "monitor.yaml")
    runs = [run_local(loaded, fire, store)[1] for fire in FIRES[:2]]
    folder = demo / "results" / loaded.schedule.name
    target = folder / document
    original = target.read_bytes()
    damaged = DAMAGE[damage](original)
    target.write_bytes(damaged)

    _, run = run_local(loaded, FIRES[2], store)
    runs.append(run)

    assert run["status"] == "completed"
    assert run["alert"]["channels"]["email"]["status"] == "sent"
    assert len(list((demo / "results" / "_outbox").glob("*.eml"))) == 3
    stem, suffix = document.split(".")
    kept = list(folder.glob(f"{stem}.corrupt-*.{suffix}"))
    assert [p.read_bytes() for p in kept] == [damaged]  # kept byte for byte, never deleted
    stored_run = json.loads((folder / run["run_id"] / "run.json").read_text())
    assert len(stored_run["notes"]) == 1
    assert document in stored_run["notes"][0]
    assert kept[0].name in stored_run["notes"][0]
    history = pl.read_parquet(io.BytesIO((folder / "history.parquet").read_bytes()))
    assert history.height == sum(_metric_rows(r) for r in runs)
    assert history["fire_time"].unique().sort().to_list() == FIRES
    latest = json.loads((folder / "latest.json").read_text())
    assert latest["run_id"] == run["run_id"]


def test_an_intact_history_is_not_moved_aside(demo: Path) -> None:
    store = LocalStore(demo / "results")
    loaded = load_file(demo / "monitor.yaml")
    for fire in FIRES[:2]:
        _, run = run_local(loaded, fire, store)
    folder = demo / "results" / loaded.schedule.name
    assert not list(folder.glob("*.corrupt-*"))
    assert "notes" not in json.loads((folder / run["run_id"] / "run.json").read_text())


def test_a_rebuilt_latest_keeps_pointing_at_the_later_run(demo: Path) -> None:
    store = LocalStore(demo / "results")
    loaded = load_file(demo / "monitor.yaml")
    run_local(loaded, FIRES[2], store)
    folder = demo / "results" / loaded.schedule.name
    (folder / "latest.json").write_text("{not json")
    run_local(loaded, FIRES[0], store)  # a catch-up run finishing after a later one
    latest = json.loads((folder / "latest.json").read_text())
    assert latest["fire_time"].startswith("2026-06-01T03:15")
    assert len(list(folder.glob("latest.corrupt-*.json"))) == 1
