"""The embedded default: one whole run in-process over local files, the same steps as in Azure."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from monitoring.definition import LoadedMonitor
from monitoring.names import instance_id
from monitoring.results import report
from monitoring.run.bounded import budget_per_signal, compute_bounded, memory_budget_mb
from monitoring.run.custom import load_custom_signals
from monitoring.run.finish import complete_run
from monitoring.run.plan import RunPlan, SignalPlan, plan_run
from monitoring.run.shared_windows import SharedWindows
from monitoring.storage.base import Store
from signals import metrics
from signals.results import SignalResult

log = logging.getLogger(__name__)


def _preload() -> None:
    """What a run imports late (scipy.special for the tests, matplotlib for the report: ~0.9 s of CPU), loaded
    while the run plans, reads and sorts: polars and numpy release the GIL, so the imports overlap with
    them (on 2 cores they still share the CPU; bench/README.md, session 6, has the measurements)."""
    try:
        metrics.preload()
        report.preload()
    except Exception:  # a warm-up only: the step that needs a module imports it and fails there if it must
        log.warning("preloading the run's modules failed", exc_info=True)


#: The young generation's collection threshold during a local run (Python's default: 700 allocations).
RUN_GC_THRESHOLD = 100_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect the young generation every ``RUN_GC_THRESHOLD`` allocations while a run lasts, then restore the
    previous thresholds. A run allocates millions of short-lived objects (documents, pydantic models,
    matplotlib artists) and leaves few reference cycles, and each collection holds the GIL: at the default
    700 the collector took 0.22-0.32 s of a 1M x 30 run, at 100,000 it takes ~0.11 s (bench/README.md,
    session 7), with the same peak memory."""
    previous = gc.get_threshold()
    gc.set_threshold(RUN_GC_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@_fewer_collections()
def run_local(loaded: LoadedMonitor, fire_time: datetime, store: Store, *,
              asset_map: dict[str, str] | None = None, max_workers: int = 4,
              on_feature: Callable[[str, str], None] | None = None,
              on_plan: Callable[[RunPlan], None] | None = None,
              custom_signal_modules: Sequence[str] | None = None,
              memory_mb: int | None = None) -> tuple[RunPlan, dict[str, Any]]:
    """Plan, compute every signal in parallel threads, and complete the run as the Durable ``alert``
    activity does (results, report, latest.json, alerts). Returns the plan and run.json with the alert
    record under ``alert``; a failed alert channel is recorded there rather than raised.
    ``custom_signal_modules`` (default: the CUSTOM_SIGNAL_MODULES setting) are loaded first.

    ``memory_mb``: the run's memory budget (default ``MEMORY_BUDGET_MB``, else 40% of the machine), shared
    equally by the signals computed at once; each computes within its share (``monitoring.run.bounded``:
    column groups, value ranges). A window that several signals read with the same columns is read once
    and shared while it fits one share (``monitoring.run.shared_windows``).
    """
    started = datetime.now(UTC)
    preloading = threading.Thread(target=_preload, name="preload", daemon=True)
    preloading.start()
    load_custom_signals(custom_signal_modules)
    plan = plan_run(loaded, fire_time, asset_map=asset_map, store=store)
    if on_plan is not None:
        on_plan(plan)

    parallel = max(1, min(max_workers, len(plan.signals)))
    budget = budget_per_signal(memory_budget_mb(memory_mb), parallel)
    windows = SharedWindows(plan.signals, budget_mb=budget)

    def one(sp: SignalPlan) -> SignalResult:
        callback = (lambda feature: on_feature(sp.name, feature)) if on_feature else None
        try:
            return compute_bounded(sp, budget_mb=budget, on_feature=callback, store=store, windows=windows.read)
        finally:
            windows.release(sp.name)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = dict(zip([s.name for s in plan.signals], pool.map(one, plan.signals), strict=True))
    preloading.join()
    run = complete_run(plan, results, store, instance_id=instance_id(plan.monitor, plan.fire_time),
                       started_at=started, raise_on_alert_failure=False)
    return plan, run


__all__ = ["run_local"]
