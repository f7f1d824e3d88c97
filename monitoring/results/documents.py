"""The documents of a run: run.json and the signal documents, built from signal results."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from monitoring.names import iso_utc, run_id
from signals.results import SignalResult


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
    """``failed`` when every signal failed, ``partial`` when some did, ``no_data`` when no signal failed or
    completed and at least one was skipped for lack of rows, else ``completed``.

    >>> run_status(["completed", "skipped"]), run_status(["skipped", "unsupported"]), run_status(["failed"])
    ('completed', 'no_data', 'failed')
    """
    failed = sum(s == "failed" for s in statuses)
    if statuses and failed == len(statuses):
        return "failed"
    if failed:
        return "partial"
    if "skipped" in statuses and "completed" not in statuses:
        return "no_data"
    return "completed"


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
