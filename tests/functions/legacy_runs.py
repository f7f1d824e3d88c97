"""``monitor_run`` as deployed before orchestration versioning (commit 4847b3f), for the versioning tests.

Instances it started have no version; after a deployment the current ``functions.runs`` must finish them
with the same flat fan-out (Durable Functions "Orchestration versioning": in-flight instances created
before ``defaultVersion`` was set see a null or empty ``context.version``). ``plan_run`` answers as the old
one did: one batch size for the run, no per-signal sizes.
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from functions.runs import RETRY, _status
from monitoring.run.durable import (
    BatchOutcome,
    CompleteRequest,
    PlannedRun,
    RunOutcome,
    RunRequest,
    features_per_activity,
    plan_step,
)
from monitoring.storage.blob import results_store
from monitoring.storage.definitions import definition_store

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def monitor_run(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Plan, fan out the signal batches, fan in to ``alert``; returns the run's outcome."""
    request = RunRequest.model_validate(context.get_input())
    started_at = context.current_utc_datetime
    context.set_custom_status(_status(request, "planning"))
    planned = PlannedRun.model_validate(
        (yield context.call_activity_with_retry("plan_run", RETRY, request.model_dump(mode="json"))))

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
    """The old ``plan_run``: one batch size (``FEATURES_PER_ACTIVITY``) for every signal."""
    planned = plan_step(RunRequest.model_validate(request), definitions=definition_store(),
                        store=results_store(optimistic=False),
                        batch_size=features_per_activity())
    return planned.model_dump(mode="json", exclude={"signals": {"__all__": {"features_per_activity"}}})
