"""The results contract: ``run.json``, ``signals/<name>.json`` and ``history.parquet`` per monitor.

Layout under the store: ``<monitor>/<fire time %Y%m%dT%H%MZ>/run.json`` and ``.../signals/<name>.json``,
and ``<monitor>/history.parquet`` with one row per (run, signal, feature, metric). Re-running a fire time
overwrites its documents and replaces its history rows, so retries never duplicate anything.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import polars as pl

from monitoring.store import Store
from monitoring.windows import iso_utc, parse_utc
from signals.results import SignalResult

HISTORY_SCHEMA = {
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


def run_id(fire_time: datetime) -> str:
    """The fire time as used in paths and instance IDs: ``%Y%m%dT%H%MZ`` in UTC."""
    return fire_time.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def run_prefix(monitor: str, fire_time: datetime) -> str:
    return f"{monitor}/{run_id(fire_time)}"


def signal_document(name: str, result: SignalResult, context: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a signal produced, histograms included."""
    return {"signal": name, **context, **result.model_dump(mode="json"), "breached": result.breached}


def signal_summary(result: SignalResult, context: Mapping[str, Any]) -> dict[str, Any]:
    """A signal's entry in run.json: its verdicts without histograms."""
    features = {
        feature: {"kind": fr.kind, "row_counts": fr.row_counts,
                  "metrics": {m: mr.model_dump(mode="json") for m, mr in fr.metrics.items()},
                  "breached": fr.breached}
        for feature, fr in result.features.items()
    }
    return {"type": result.type, "status": result.status, "error": result.error, "breached": result.breached,
            **context, "row_counts": result.row_counts, "notes": result.notes, "features": features}


def run_status(statuses: list[str]) -> str:
    """``failed`` when every signal failed, ``partial`` when some did, else ``completed``."""
    failed = sum(s == "failed" for s in statuses)
    if statuses and failed == len(statuses):
        return "failed"
    return "partial" if failed else "completed"


def build_run(*, monitor: str, fire_time: datetime, definition_version: str,
              signals: Mapping[str, tuple[SignalResult, Mapping[str, Any]]],
              started_at: datetime | None = None) -> dict[str, Any]:
    """The run.json document."""
    summaries = {name: signal_summary(result, ctx) for name, (result, ctx) in signals.items()}
    breached = any(s["breached"] and s.get("alert_enabled", True) for s in summaries.values())
    return {
        "monitor": monitor,
        "fire_time": iso_utc(fire_time),
        "run_id": run_id(fire_time),
        "definition_version": definition_version,
        "status": run_status([s["status"] for s in summaries.values()]),
        "breached": breached,
        "started_at": iso_utc(started_at or datetime.now(UTC)),
        "finished_at": iso_utc(datetime.now(UTC)),
        "signals": summaries,
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


def write_json(store: Store, path: str, document: Mapping[str, Any]) -> None:
    store.write_bytes(path, json.dumps(document, indent=2, allow_nan=False).encode(), content_type="application/json")


def read_json(store: Store, path: str) -> dict[str, Any] | None:
    data = store.read_bytes(path)
    return json.loads(data) if data is not None else None


__all__ = [
    "HISTORY_SCHEMA", "build_run", "history_rows", "read_json", "run_id", "run_prefix", "run_status",
    "signal_document", "signal_summary", "write_history", "write_json",
]
