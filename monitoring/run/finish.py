"""The end of a run: everything that happens once all of a monitor's signals have a result.

One function, called by the Durable ``alert`` activity with the merged results, so that each side effect
of a finished run has one home, in the order the local runner (``monitoring.local``) follows: the run's
documents and history, its HTML report, the monitor's ``latest.json`` (what ``list`` shows without
scanning every run), and the alerts, whose operation ID derives from ``instance_id`` so a retried activity
never sends twice. The local runner calls it too, so both paths finish a run the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from monitoring.alerts import deliver_alerts
from monitoring.results.documents import build_run, signal_document
from monitoring.results.history import write_history
from monitoring.results.overview import write_overview
from monitoring.results.report import write_report
from monitoring.run.plan import RunPlan
from monitoring.storage.base import Store, read_json, write_json
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
    run = finalize_run(plan, results, store, started_at=started_at)
    report = write_report(store, plan.prefix, run)
    try:
        write_overview(store, plan.monitor)
    except Exception:
        log.exception("could not write the overview of monitor %s", plan.monitor)
    update_latest(store, run, instance_id=instance_id)
    alert = deliver_alerts(run, plan.alert_notification, store, instance_id=instance_id, report_location=report,
                           raise_on_failure=raise_on_alert_failure)
    failed = [name for name, sig in run["signals"].items() if sig["status"] == "failed"]
    log.info("run %s of monitor %s: %s%s%s", instance_id, plan.monitor, run["status"],
             ", breached" if run["breached"] else "", f", failed signals: {', '.join(failed)}" if failed else "")
    return {**run, "alert": alert}


def latest_path(monitor: str) -> str:
    return f"{monitor}/latest.json"


def update_latest(store: Store, run: Mapping[str, Any], *, instance_id: str) -> bool:
    """Point ``<monitor>/latest.json`` at this run unless a later fire time already finished (catch-up runs
    can finish out of order). True if it now points here."""
    path = latest_path(run["monitor"])
    current = read_json(store, path)
    if current is not None and current.get("fire_time", "") > run["fire_time"]:
        return False
    write_json(store, path, {
        "monitor": run["monitor"], "run_id": run["run_id"], "fire_time": run["fire_time"],
        "status": run["status"], "breached": run["breached"], "finished_at": run["finished_at"],
        "instance_id": instance_id, "run": store.location(f"{run['monitor']}/{run['run_id']}/run.json"),
    })
    return True


__all__ = ["complete_run", "latest_path", "update_latest"]

def finalize_run(plan: RunPlan, results: Mapping[str, SignalResult], store: Store, *,
                 started_at: datetime | None = None) -> dict[str, Any]:
    """Write every signal's document, run.json and the history rows; return run.json."""
    by_name = {p.name: p for p in plan.signals}
    for name, result in results.items():
        write_json(store, f"{plan.prefix}/signals/{name}.json",
                   signal_document(name, result, by_name[name].context()))
    run = build_run(monitor=plan.monitor, fire_time=plan.fire_time, definition_version=plan.definition_version,
                    signals={name: (results[name], by_name[name].context()) for name in results},
                    started_at=started_at)
    write_json(store, f"{plan.prefix}/run.json", run)
    write_history(store, plan.monitor, run)
    return run
