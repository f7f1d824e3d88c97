"""Rows whose timestamp cannot be read are in no window: the signal says how many, never drops them silently."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from monitoring.definition import load_text
from monitoring.run.compute import compute_signal
from monitoring.run.plan import plan_run
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 3, 10, tzinfo=UTC)


def _plan(tmp_path: Path, times: list[str]) -> tuple[dict[str, Any], LocalStore]:
    rng = np.random.default_rng(3)
    (tmp_path / "ref").mkdir()
    (tmp_path / "prod").mkdir()
    pl.DataFrame({"x": rng.normal(size=500)}).write_parquet(tmp_path / "ref" / "r.parquet")
    pl.DataFrame({"ts": times, "x": rng.normal(size=len(times))}).write_parquet(tmp_path / "prod" / "p.parquet")
    document = {"name": "ts", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                "create_monitor": {"monitoring_signals": {"drift": {
                    "type": "data_drift", "features": ["x"],
                    "production_data": {"input_data": {"path": "prod/"}, "data_window": {"lookback_window_size": "P7D"},
                                        "data_column_names": {"timestamp": "ts"}},
                    "reference_data": {"input_data": {"path": "ref/"}}}}}}
    return document, LocalStore(tmp_path / "results")


def test_unparsable_production_timestamps_are_a_note_and_a_count(tmp_path: Path) -> None:
    good = [(FIRE - timedelta(hours=h)).isoformat() for h in range(1, 151)]
    bad = ["not a time", "31/02/2026", "yesterday"] * 10
    document, store = _plan(tmp_path, good + bad)
    plan = plan_run(load_text(json.dumps(document), "ts.yaml", base_dir=tmp_path), FIRE, store=store)
    result = compute_signal(plan.signals[0], store=store)
    assert result.status == "completed", result.error
    assert result.row_counts["production"] == 150
    assert result.row_counts["unparsed_timestamps_production"] == len(bad)
    assert "unparsed_timestamps_reference" not in result.row_counts
    assert f"{len(bad)} rows of production had unparsable timestamps and were left out" in result.notes


def test_a_window_of_only_unparsable_timestamps_is_skipped_with_the_count(tmp_path: Path) -> None:
    document, store = _plan(tmp_path, ["soon", "later"])
    plan = plan_run(load_text(json.dumps(document), "ts.yaml", base_dir=tmp_path), FIRE, store=store)
    result = compute_signal(plan.signals[0], store=store)
    assert result.status == "skipped"
    assert result.row_counts["unparsed_timestamps_production"] == 2
    assert "2 rows of production had unparsable timestamps and were left out" in result.notes


def test_parsable_timestamps_add_no_note(tmp_path: Path) -> None:
    document, store = _plan(tmp_path, [(FIRE - timedelta(hours=h)).isoformat() for h in range(1, 50)])
    plan = plan_run(load_text(json.dumps(document), "ts.yaml", base_dir=tmp_path), FIRE, store=store)
    result = compute_signal(plan.signals[0], store=store)
    assert result.status == "completed"
    assert not [n for n in result.notes if "unparsable" in n]
    assert set(result.row_counts) == {"production", "reference"}
