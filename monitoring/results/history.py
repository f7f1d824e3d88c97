"""``history.parquet``: one row per run, signal, feature and metric, for trends."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import polars as pl

from monitoring.names import parse_utc
from monitoring.results.repair import move_aside, run_documents
from monitoring.storage.base import Store, locked

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


def _read_history(data: bytes) -> pl.DataFrame:
    """The stored history; raises if it is not a parquet file with this schema's columns."""
    frame = pl.read_parquet(io.BytesIO(data))
    missing = [c for c in HISTORY_SCHEMA if c not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}")
    return frame


def rebuild_history(store: Store, monitor: str) -> pl.DataFrame:
    """The history as the run documents of ``monitor`` say it is."""
    frames = [history_rows(run) for run in run_documents(store, monitor)]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(schema=HISTORY_SCHEMA)


def write_history(store: Store, monitor: str, run: Mapping[str, Any], *, notes: list[str] | None = None
                  ) -> pl.DataFrame:
    """Replace this run's rows in the monitor's history.parquet and return the new history.

    A history that cannot be read is kept aside and rebuilt from the run documents (``repair``); what
    happened is appended to ``notes``. The read and write hold the store's lock where it has one.
    """
    path = f"{monitor}/history.parquet"
    new = history_rows(run)
    fire_time = parse_utc(run["fire_time"])
    with locked(store, path):
        existing = store.read_bytes(path)
        old: pl.DataFrame | None = None
        if existing is not None:
            try:
                old = _read_history(existing)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is repaired, whatever the parser says
                note = move_aside(store, path, existing, f"{type(exc).__name__}: {str(exc)[:200]}")
                if notes is not None:
                    notes.append(note)
                old = rebuild_history(store, monitor)
        if old is not None:
            new = pl.concat([old.filter(pl.col("fire_time") != fire_time), new], how="diagonal_relaxed")
        new = new.sort("fire_time", "signal", "feature", "metric")
        buffer = io.BytesIO()
        new.write_parquet(buffer)
        store.write_bytes(path, buffer.getvalue())
    return new
