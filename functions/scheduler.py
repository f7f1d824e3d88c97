"""Blueprint ``scheduler``: every five minutes (``SCHEDULER_SCHEDULE``), start the runs that are due.

``monitoring.scheduler.Scheduler`` decides which (monitor, fire time) runs should exist; this timer only
starts those Durable does not know yet. Blocking storage calls run in a worker thread so the timer never
holds the host's event loop.
"""

import asyncio
import logging
from datetime import UTC, datetime
from functools import lru_cache

import azure.durable_functions as df
import azure.functions as func

from functions.starts import start_run
from monitoring.dispatch.due import Scheduler
from monitoring.storage.blob import RESULTS, BlobStore, container_client
from monitoring.storage.definitions import definition_store

bp = df.Blueprint()
log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _scheduler() -> Scheduler:
    """One per worker process, so the definitions' ETag cache survives between ticks."""
    return Scheduler(definition_store(), BlobStore(container_client(RESULTS), optimistic=False))


@bp.function_name("scheduler")
@bp.timer_trigger(arg_name="timer", schedule="%SCHEDULER_SCHEDULE%", run_on_startup=False, use_monitor=True)
@bp.durable_client_input(client_name="client")
async def scheduler(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Start every due run that Durable does not know yet."""
    due = await asyncio.to_thread(_scheduler().due, datetime.now(UTC))
    results = [await start_run(client, run) for run in due]
    started = [run.instance_id for run, result in zip(due, results, strict=True) if result == "started"]
    log.info("scheduler%s: %d run(s) due, started %s", " (past due)" if timer.past_due else "", len(due),
             ", ".join(started) or "none")
