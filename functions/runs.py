"""Blueprint ``monitor_run``: one run of one monitor as a Durable orchestration.

``plan_run`` -> one ``compute_signal`` per (signal, batch of ``FEATURES_PER_ACTIVITY`` features), all at
once -> ``alert`` with the plan and the batches that failed (the others' results are in the store). The
orchestrator only yields activities and builds their small inputs (see ``monitoring.steps``); it reads no
clock but ``context.current_utc_datetime`` and does no I/O, so every replay makes the same calls. A batch
whose activity fails on every retry becomes a failed signal in ``run.json`` (the run is ``partial``)
instead of failing the run: the orchestrator waits with ``task_any`` one completion at a time rather than
``task_all``, which would throw at the first failure and drop the batches still running.
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from monitoring.alerts.retry import AlertJob
from monitoring.names import iso_utc, run_id
from monitoring.run.durable import (
    BatchOutcome,
    BatchRef,
    CompleteRequest,
    PlannedRun,
    RunOutcome,
    RunRequest,
    compute_step,
    finish_step,
    plan_step,
)
from monitoring.storage.blob import results_store
from monitoring.storage.definitions import definition_store

bp = df.Blueprint()

#: Every activity: up to three attempts, 5 s apart (a transient storage or worker failure is retried).
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=3)


def _status(request: RunRequest, stage: str, *, done: int = 0, total: int = 0, failed: int = 0) -> dict[str, Any]:
    return {"monitor": request.monitor, "fire_time": request.fire_time.isoformat(), "stage": stage,
            "batches_done": done, "batches_total": total, "batches_failed": failed}


@bp.orchestration_trigger(context_name="context")
def monitor_run(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Plan, fan out the signal batches, fan in to ``alert``; returns the run's outcome."""
    request = RunRequest.model_validate(context.get_input())
    started_at = context.current_utc_datetime
    context.set_custom_status(_status(request, "planning"))
    try:
        planned = PlannedRun.model_validate(
            (yield context.call_activity_with_retry("plan_run", RETRY, request.model_dump(mode="json"))))
    except Exception as exc:  # the plan failed every attempt: tell the owners, then fail the run
        notice = AlertJob(kind="cannot_run", monitor=request.monitor, run_id=run_id(request.fire_time),
                          fire_time=iso_utc(request.fire_time), instance_id=context.instance_id, reason=str(exc))
        yield context.call_activity_with_retry("alert_job", RETRY, notice.model_dump(mode="json"))
        raise

    refs = planned.batch_refs()
    tasks = [context.call_activity_with_retry("compute_signal", RETRY, ref.model_dump(mode="json")) for ref in refs]
    failures: list[BatchOutcome] = []
    failed_signals = 0
    waiting = list(tasks)
    while waiting:
        context.set_custom_status(_status(request, "computing", done=len(tasks) - len(waiting), total=len(tasks),
                                          failed=failed_signals + len(failures)))
        done = yield context.task_any(waiting)
        waiting = [t for t in waiting if t is not done]
        ref = refs[next(i for i, t in enumerate(tasks) if t is done)]
        if isinstance(done.result, Exception):
            failures.append(BatchOutcome.activity_failed(ref, str(done.result), attempts=RETRY.max_number_of_attempts))
        elif BatchOutcome.model_validate(done.result).status == "failed":
            failed_signals += 1

    failed = failed_signals + len(failures)
    context.set_custom_status(_status(request, "finishing", done=len(tasks), total=len(tasks), failed=failed))
    complete = CompleteRequest(instance_id=context.instance_id, plan_path=planned.plan_path, started_at=started_at,
                               features_per_activity=planned.features_per_activity, failures=failures)
    outcome = RunOutcome.model_validate(
        (yield context.call_activity_with_retry("alert", RETRY, complete.model_dump(mode="json"))))
    context.set_custom_status(_status(request, outcome.status, done=len(tasks), total=len(tasks), failed=failed))
    return outcome.model_dump(mode="json")


@bp.activity_trigger(input_name="request")
def plan_run(request: dict) -> dict:
    """Resolve the run's windows, data and features; store the plan; return its reference."""
    planned = plan_step(RunRequest.model_validate(request), definitions=definition_store(),
                        store=results_store(optimistic=False))
    return planned.model_dump(mode="json")


@bp.activity_trigger(input_name="batch")
def compute_signal(batch: dict) -> dict:
    """Compute one batch of one signal; store the full result; return its summary."""
    return compute_step(BatchRef.model_validate(batch), store=results_store(optimistic=False)).model_dump(mode="json")


@bp.activity_trigger(input_name="request")
def alert(request: dict) -> dict:
    """Merge each signal's batches and complete the run (run.json, history, and the alert email)."""
    return finish_step(CompleteRequest.model_validate(request), store=results_store()).model_dump(mode="json")
