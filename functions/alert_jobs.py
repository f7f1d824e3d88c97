"""Blueprint ``alert_followup``: a late re-attempt of a run's undelivered alert, or a "cannot run" notice.

The scheduler timer starts one instance per job (``AlertJob.job_id``), and ``monitor_run`` calls the
``alert_job`` activity itself when its plan fails; the activity runs ``monitoring.alerts.retry``.
The activity is not retried by Durable: the record keeps what failed, and the next tick's backoff decides
when to try again.
"""

from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df

from monitoring.alerts.retry import AlertJob, run_alert_job
from monitoring.storage.blob import results_store
from monitoring.storage.definitions import definition_store

bp = df.Blueprint()

ORCHESTRATOR = "alert_followup"


@bp.orchestration_trigger(context_name="context")
def alert_followup(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """One job, one activity; returns the alert record."""
    job = AlertJob.model_validate(context.get_input())
    return (yield context.call_activity("alert_job", job.model_dump(mode="json")))


@bp.activity_trigger(input_name="job")
def alert_job(job: dict) -> dict:
    """Re-attempt the undelivered channels of a run's alert, or send its cannot-run notice."""
    return run_alert_job(AlertJob.model_validate(job), store=results_store(), definitions=definition_store(),
                         now=datetime.now(UTC))
