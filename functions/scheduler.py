"""Blueprint ``scheduler``: every five minutes (``SCHEDULER_SCHEDULE``), start the runs that are due,
then the alert follow-ups (re-attempts of undelivered alerts, cannot-run notices; ``functions.alert_jobs``).

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

from functions.alert_jobs import ORCHESTRATOR as ALERT_FOLLOWUP
from functions.starts import start_run
from monitoring.alerts.retry import AlertJob, due_alert_jobs, notice_job
from monitoring.dispatch.due import Scheduler
from monitoring.storage.blob import RESULTS, BlobStore, container_client
from monitoring.storage.definitions import definition_store

bp = df.Blueprint()
log = logging.getLogger(__name__)


def clock() -> datetime:
    """The tick's time (a function, so a test can move it)."""
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def _scheduler() -> Scheduler:
    """One per worker process, so the definitions' ETag cache survives between ticks."""
    return Scheduler(definition_store(), BlobStore(container_client(RESULTS), optimistic=False))


@bp.function_name("scheduler")
@bp.timer_trigger(arg_name="timer", schedule="%SCHEDULER_SCHEDULE%", run_on_startup=False, use_monitor=True)
@bp.durable_client_input(client_name="client")
async def scheduler(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Start every due run that Durable does not know yet."""
    now = clock()
    due = await asyncio.to_thread(_scheduler().due, now)
    results = [await start_run(client, run) for run in due]
    started = [run.instance_id for run, result in zip(due, results, strict=True) if result == "started"]
    log.info("scheduler%s: %d run(s) due, started %s", " (past due)" if timer.past_due else "", len(due),
             ", ".join(started) or "none")
    jobs = await asyncio.to_thread(_alert_jobs, now)
    followed = [job.job_id for job in jobs if await start_job(client, job)]
    if jobs:
        log.info("scheduler: %d alert job(s) due, started %s", len(jobs), ", ".join(followed) or "none")


def _alert_jobs(now: datetime) -> list[AlertJob]:
    """Cannot-run notices for definitions found invalid by this tick, then the due alert re-attempts."""
    scheduler = _scheduler()
    notices = [notice_job(monitor, problem, now) for monitor, problem in scheduler.take_invalid()]
    return notices + due_alert_jobs(scheduler.results, scheduler.monitor_names(), now)


async def start_job(client: df.DurableOrchestrationClient, job: AlertJob) -> bool:
    """Start the ``alert_followup`` of ``job`` unless Durable knows its instance (one per retry round)."""
    status = await client.get_status(job.job_id)
    if status is not None and status.runtime_status is not None:
        return False
    try:
        await client.start_new(ALERT_FOLLOWUP, job.job_id, job.model_dump(mode="json"))
    except Exception as exc:
        if "already exists" in str(exc).lower():
            return False
        raise
    return True
