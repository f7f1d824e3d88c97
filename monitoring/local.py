"""The embedded default: one whole run in-process over local files, the same steps as in Azure."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from monitoring.loader import LoadedMonitor
from monitoring.report import write_report
from monitoring.runner import RunPlan, SignalPlan, compute_signal, finalize_run, plan_run
from monitoring.store import Store
from signals.results import SignalResult


def run_local(loaded: LoadedMonitor, fire_time: datetime, store: Store, *,
              asset_map: dict[str, str] | None = None, max_workers: int = 4,
              on_feature: Callable[[str, str], None] | None = None,
              on_plan: Callable[[RunPlan], None] | None = None) -> tuple[RunPlan, dict[str, Any]]:
    """Plan, compute every signal in parallel threads, finalize and write the report; return plan and run.json."""
    started = datetime.now(UTC)
    plan = plan_run(loaded, fire_time, asset_map=asset_map)
    if on_plan is not None:
        on_plan(plan)

    def one(sp: SignalPlan) -> SignalResult:
        callback = (lambda feature: on_feature(sp.name, feature)) if on_feature else None
        return compute_signal(sp, on_feature=callback)

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(plan.signals)))) as pool:
        results = dict(zip([s.name for s in plan.signals], pool.map(one, plan.signals), strict=True))
    run = finalize_run(plan, results, store, started_at=started)
    write_report(store, plan.prefix, run)
    return plan, run


__all__ = ["run_local"]
