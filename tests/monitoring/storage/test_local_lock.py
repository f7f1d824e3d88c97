"""Several processes finishing runs into one local results folder lose nothing (``LocalStore.lock``)."""

from __future__ import annotations

import io
import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from monitoring.names import iso_utc, run_id
from monitoring.results.history import write_history
from monitoring.run.finish import update_latest
from monitoring.storage.local import LocalStore

PROCESSES, RUNS_EACH, FEATURES = 4, 12, 5
START = datetime(2026, 1, 1, 3, 15, tzinfo=UTC)


def run_document(index: int) -> dict[str, Any]:
    """A finished run with ``FEATURES`` metric rows at fire time ``START + index days``."""
    fire = START + timedelta(days=index)
    features = {f"f{k}": {"kind": "numerical", "row_counts": {"production": 10, "reference": 20},
                          "metrics": {"normalized_wasserstein_distance":
                                      {"value": index + k / 10, "threshold": 0.1, "breached": True}}}
                for k in range(FEATURES)}
    return {"monitor": "m", "run_id": run_id(fire), "fire_time": iso_utc(fire), "status": "completed",
            "breached": True, "finished_at": iso_utc(fire), "signals": {"drift": {"type": "data_drift",
                                                                                  "features": features}}}


def finish_runs(root: str, worker: int) -> None:
    """One process: finish its share of the runs (history rows and latest.json) into ``root``."""
    store = LocalStore(root)
    for i in range(RUNS_EACH):
        run = run_document(worker * RUNS_EACH + i)
        (Path(root) / "m" / run["run_id"]).mkdir(parents=True, exist_ok=True)
        write_history(store, "m", run)
        update_latest(store, run, instance_id=f"m-{run['run_id']}")


def test_concurrent_processes_lose_no_history_row(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=finish_runs, args=(str(tmp_path), w)) for w in range(PROCESSES)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    history = pl.read_parquet(io.BytesIO((tmp_path / "m" / "history.parquet").read_bytes()))
    expected = {iso_utc(START + timedelta(days=i)) for i in range(PROCESSES * RUNS_EACH)}
    assert history.height == PROCESSES * RUNS_EACH * FEATURES
    assert {iso_utc(t) for t in history["fire_time"].to_list()} == expected
    latest = json.loads((tmp_path / "m" / "latest.json").read_text())
    assert latest["fire_time"] == max(expected)
    assert not LocalStore(tmp_path).list("m/.")  # the lock files are hidden from the store's listing
    assert all(not p.startswith("m/.") for p in LocalStore(tmp_path).list("m/"))
