"""``history.parquet``: one row per run, signal, feature and metric, for trends."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import polars as pl

from monitoring.names import parse_utc
from monitoring.storage.base import Store

HISTORY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "fire_time": pl.Datetime("us", "UTC"),
    "signal": pl.String,
    "signal_type": pl.String,
    "feature": pl.String,
    "kind": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "threshold": pl.Float64,
    "breached": pl.Boolean,
    "production_rows": pl.Int64,
    "reference_rows": pl.Int64,
}


def history_rows(run: Mapping[str, Any]) -> pl.DataFrame:
    """One row per (signal, feature, metric) of a run.json document."""
    fire_time = parse_utc(run["fire_time"])
    rows = []
    for name, sig in run["signals"].items():
        for feature, fr in sig.get("features", {}).items():
            for metric, mr in fr["metrics"].items():
                rows.append({
                    "fire_time": fire_time, "signal": name, "signal_type": sig["type"], "feature": feature,
                    "kind": fr["kind"], "metric": metric, "value": mr["value"], "threshold": mr["threshold"],
                    "breached": mr["breached"], "production_rows": fr["row_counts"].get("production"),
                    "reference_rows": fr["row_counts"].get("reference"),
                })
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA)


def write_history(store: Store, monitor: str, run: Mapping[str, Any]) -> pl.DataFrame:
    """Replace this run's rows in the monitor's history.parquet and return the new history."""
    path = f"{monitor}/history.parquet"
    new = history_rows(run)
    existing = store.read_bytes(path)
    if existing is not None:
        fire_time = parse_utc(run["fire_time"])
        old = pl.read_parquet(io.BytesIO(existing)).filter(pl.col("fire_time") != fire_time)
        new = pl.concat([old, new], how="diagonal_relaxed")
    new = new.sort("fire_time", "signal", "feature", "metric")
    buffer = io.BytesIO()
    new.write_parquet(buffer)
    store.write_bytes(path, buffer.getvalue())
    return new
