"""The end of a run: everything that happens once all of a monitor's signals have a result.

One function, called by the Durable ``alert`` activity with the merged results, so that each side effect
of a finished run has one home, in the order the local runner (``monitoring.local``) follows: the run's
documents and history, its HTML report, the monitor's ``latest.json`` (what ``list`` shows without
scanning every run), and the alerts, whose operation ID derives from ``instance_id`` so a retried activity
never sends twice. The local runner calls it too, so both paths finish a run the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from monitoring.alerts import deliver_alerts
from monitoring.results.documents import build_run, signal_document
from monitoring.results.history import write_history
from monitoring.results.overview import write_overview
from monitoring.results.repair import move_aside, run_documents
from monitoring.results.report import write_report
from monitoring.run.plan import RunPlan
from monitoring.storage.base import Store, locked, write_json
from signals.results import SignalResult

log = logging.getLogger(__name__)


def complete_run(plan: RunPlan, results: Mapping[str, SignalResult], store: Store, *, instance_id: str,
                 started_at: datetime | None = None, raise_on_alert_failure: bool = True) -> dict[str, Any]:
    """Write run.json, the signal documents, the history rows and the report, then deliver the alerts;
    return run.json with the alert record under ``alert``.

    Safe to repeat for one ``instance_id``: every document is overwritten, the run's history rows are
    replaced, and alert.json makes each channel send at most once, so a retried activity or a re-run of
    the fire time leaves exactly one copy of each and one email. A channel that fails is recorded and,
    with ``raise_on_alert_failure``, raised after the results are safe, so Durable retries the delivery.
    """
    notes: list[str] = []
    run = finalize_run(plan, results, store, started_at=started_at, notes=notes)
    report = write_report(store, plan.prefix, run)
    try:
        write_overview(store, plan.monitor)
    except Exception:
        log.exception("could not write the overview of monitor %s", plan.monitor)
    update_latest(store, run, instance_id=instance_id, notes=notes)
    if notes != run.get("notes", []):
        run = {**run, "notes": notes}
        write_json(store, f"{plan.prefix}/run.json", run)
    alert = deliver_alerts(run, plan.alert_notification, store, instance_id=instance_id, report_location=report,
                           raise_on_failure=raise_on_alert_failure)
    failed = [name for name, sig in run["signals"].items() if sig["status"] == "failed"]
    log.info("run %s of monitor %s: %s%s%s", instance_id, plan.monitor, run["status"],
             ", breached" if run["breached"] else "", f", failed signals: {', '.join(failed)}" if failed else "")
    return {**run, "alert": alert}


def latest_path(monitor: str) -> str:
    return f"{monitor}/latest.json"


def _latest_document(store: Store, run: Mapping[str, Any], instance_id: str | None) -> dict[str, Any]:
    return {
        "monitor": run["monitor"], "run_id": run["run_id"], "fire_time": run["fire_time"],
        "status": run["status"], "breached": run["breached"], "finished_at": run.get("finished_at"),
        "instance_id": instance_id or f"{run['monitor']}-{run['run_id']}",
        "run": store.location(f"{run['monitor']}/{run['run_id']}/run.json"),
    }


def _read_latest(store: Store, path: str, monitor: str, notes: list[str] | None) -> dict[str, Any] | None:
    """latest.json; one that is not a JSON object is kept aside and rebuilt from the latest run document."""
    data = store.read_bytes(path)
    if data is None:
        return None
    try:
        current = json.loads(data)
        if not isinstance(current, dict) or not isinstance(current.get("fire_time", ""), str):
            raise ValueError("not a JSON object with a fire_time")
        return current
    except ValueError as exc:
        note = move_aside(store, path, data, f"{type(exc).__name__}: {str(exc)[:200]}")
        if notes is not None:
            notes.append(note)
    runs = sorted(run_documents(store, monitor), key=lambda r: str(r["fire_time"]))
    return _latest_document(store, runs[-1], None) if runs else None


def update_latest(store: Store, run: Mapping[str, Any], *, instance_id: str, notes: list[str] | None = None) -> bool:
    """Point ``<monitor>/latest.json`` at this run unless a later fire time already finished (catch-up runs
    can finish out of order). True if it now points here. An unreadable latest.json is kept aside and
    rebuilt (``monitoring.results.repair``), with a line in ``notes``."""
    path = latest_path(run["monitor"])
    with locked(store, path):
        current = _read_latest(store, path, run["monitor"], notes)
        if current is not None and current.get("fire_time", "") > run["fire_time"]:
            write_json(store, path, current)  # a rebuilt pointer is stored too; an intact one is unchanged
            return False
        write_json(store, path, _latest_document(store, run, instance_id))
    return True


__all__ = ["complete_run", "latest_path", "update_latest"]

def finalize_run(plan: RunPlan, results: Mapping[str, SignalResult], store: Store, *,
                 started_at: datetime | None = None, notes: list[str] | None = None) -> dict[str, Any]:
    """Write every signal's document, run.json and the history rows; return run.json.

    A history.parquet that had to be rebuilt adds a line to ``notes`` and to run.json's ``notes``."""
    by_name = {p.name: p for p in plan.signals}
    for name, result in results.items():
        write_json(store, f"{plan.prefix}/signals/{name}.json",
                   signal_document(name, result, by_name[name].context()))
    run = build_run(monitor=plan.monitor, fire_time=plan.fire_time, definition_version=plan.definition_version,
                    signals={name: (results[name], by_name[name].context()) for name in results},
                    started_at=started_at)
    write_json(store, f"{plan.prefix}/run.json", run)
    repairs: list[str] = []
    write_history(store, plan.monitor, run, notes=repairs)
    if repairs:
        run = {**run, "notes": repairs}
        write_json(store, f"{plan.prefix}/run.json", run)
    if notes is not None:
        notes.extend(repairs)
    return run
