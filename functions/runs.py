"""Blueprint ``monitor_run``: one run of one monitor as a Durable orchestration.

``plan_run`` -> the signal batches -> ``alert`` with the plan and the batches that failed (the others'
results are in the store). The orchestrator only yields activities and sub-orchestrations and builds their
small inputs (see ``monitoring.run.durable``); it reads no clock but ``context.current_utc_datetime`` and
does no I/O, so every replay makes the same calls. A batch whose activity fails on every retry becomes a
failed signal in ``run.json`` (the run is ``partial``) instead of failing the run.

How the batches fan out depends on the instance's version (``context.version``, stamped from host.json's
``extensions.durableTask.defaultVersion`` when the instance is created; Durable Functions "Orchestration
versioning"):

* ``ORCHESTRATION_VERSION`` ("2.0"): one ``signal_run`` sub-orchestration per signal (a signal with more
  than ``BATCHES_PER_SUB_ORCHESTRATION`` batches gets one per run of that many), each scheduling its
  ``compute_signal`` activities. Every history stays small: the SDK replays a history from the start on
  each completion, so one flat history of n batches costs O(n^2) to replay, and splitting it into
  histories of at most 20 batches keeps the cost linear in n (Durable's best practices recommend
  sub-orchestrations for large fan-outs; bench/replay.py measures it). Sub-orchestration instance IDs are
  ``<parent instance>:<signal>:<run>``, so a re-run of the same parent reuses them.
* no version (instances created before versioning; the docs' "null or empty"): the flat fan-out they
  were started with, every ``compute_signal`` from the parent, kept as it was so they replay unchanged.
"""

import contextlib
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from monitoring.alerts.retry import AlertJob
from monitoring.names import iso_utc, run_id
from monitoring.run.batching import activity_memory_mb
from monitoring.run.durable import (
    BatchOutcome,
    BatchRef,
    ChunkOutcome,
    CompleteRequest,
    PlannedRun,
    RunOutcome,
    RunRequest,
    SignalChunk,
    compute_step,
    finish_step,
    plan_step,
)
from monitoring.run.durable_ranges import FeatureRanges, RangeRef, combine_step, range_step, summarize_step
from monitoring.storage.blob import results_store
from monitoring.storage.definitions import definition_store

bp = df.Blueprint()

#: The version new instances get: host.json's ``extensions.durableTask.defaultVersion`` (a test checks).
ORCHESTRATION_VERSION = "2.0"
#: The most ``compute_signal`` batches one ``signal_run`` history holds.
BATCHES_PER_SUB_ORCHESTRATION = 20
#: Every activity: up to three attempts, 5 s apart (a transient storage or worker failure is retried).
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=3)

#: What a fan-out step yields to Durable and returns: (batches whose activity failed, failed signals).
FanOut = Generator[Any, Any, tuple[list[BatchOutcome], int]]


def uses_sub_orchestrations(version: str | None) -> bool:
    """Whether an instance of ``version`` fans out through ``signal_run`` (every version from "2.0" on)."""
    return bool(version)


def sub_instance_id(parent: str, chunk: SignalChunk) -> str:
    """The instance ID of the ``signal_run`` of ``chunk``: derived from the parent's, so re-runs reuse it."""
    return f"{parent}:{chunk.signal}:{chunk.index}"


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
    total = sum(s.batches for s in planned.signals)
    if uses_sub_orchestrations(context.version):
        failures, failed_signals = yield from _by_sub_orchestrations(context, request, planned, total)
    else:
        failures, failed_signals = yield from _flat(context, request, planned)
    failed = failed_signals + len(failures)
    context.set_custom_status(_status(request, "finishing", done=total, total=total, failed=failed))
    complete = CompleteRequest(instance_id=context.instance_id, plan_path=planned.plan_path, started_at=started_at,
                               features_per_activity=planned.features_per_activity, failures=failures,
                               batches=planned.batch_counts())
    outcome = RunOutcome.model_validate(
        (yield context.call_activity_with_retry("alert", RETRY, complete.model_dump(mode="json"))))
    context.set_custom_status(_status(request, outcome.status, done=total, total=total, failed=failed))
    return outcome.model_dump(mode="json")


def _flat(context: df.DurableOrchestrationContext, request: RunRequest, planned: PlannedRun) -> FanOut:
    """Version 1 (no version): every batch from this orchestrator, waited for one completion at a time."""
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
    return failures, failed_signals


def _by_sub_orchestrations(context: df.DurableOrchestrationContext, request: RunRequest, planned: PlannedRun,
                           total: int) -> FanOut:
    """Version 2.0: one ``signal_run`` per signal (or run of its batches), each with the parent's version."""
    chunks = planned.chunks(BATCHES_PER_SUB_ORCHESTRATION)
    tasks = [context.call_sub_orchestrator("signal_run", chunk.model_dump(mode="json"),
                                           sub_instance_id(context.instance_id, chunk), context.version)
             for chunk in chunks]
    failures: list[BatchOutcome] = []
    failed_signals = done_batches = 0
    waiting = list(tasks)
    while waiting:
        context.set_custom_status(_status(request, "computing", done=done_batches, total=total,
                                          failed=failed_signals + len(failures)))
        done = yield context.task_any(waiting)
        waiting = [t for t in waiting if t is not done]
        chunk = chunks[next(i for i, t in enumerate(tasks) if t is done)]
        done_batches += chunk.count
        if isinstance(done.result, Exception):
            failures += [BatchOutcome.orchestration_failed(ref, str(done.result)) for ref in chunk.refs()]
            continue
        outcome = ChunkOutcome.model_validate(done.result)
        failures += outcome.failures
        failed_signals += outcome.failed_signals
    return failures, failed_signals


@bp.orchestration_trigger(context_name="context")
def signal_run(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """One signal's batches (or a run of them): all at once, then the outcome once every one has ended.

    It waits with ``task_all`` (constant work per replay, where a ``task_any`` loop re-checks every pending
    task on every completion); ``task_all`` throws at the first batch that fails every retry, and the loop
    then waits again for those still running, so no batch is dropped.
    """
    chunk = SignalChunk.model_validate(context.get_input())
    refs = chunk.refs()
    if chunk.ranged:
        return (yield from _ranged(context, refs))
    tasks = [context.call_activity_with_retry("compute_signal", RETRY, ref.model_dump(mode="json")) for ref in refs]
    yield from _all(context, tasks)
    failures = [BatchOutcome.activity_failed(ref, str(t.result), attempts=RETRY.max_number_of_attempts)
                for ref, t in zip(refs, tasks, strict=True) if isinstance(t.result, Exception)]
    failed_signals = sum(1 for t in tasks if not isinstance(t.result, Exception)
                         and BatchOutcome.model_validate(t.result).status == "failed")
    return ChunkOutcome(failed_signals=failed_signals, failures=failures).model_dump(mode="json")


def _all(context: df.DurableOrchestrationContext, tasks: list[Any]) -> Generator[Any, Any, None]:
    """Wait until every task has ended; one failing every retry does not stop the wait for the others."""
    waiting = tasks
    while waiting:
        with contextlib.suppress(Exception):  # a task failed every retry: its caller records it
            yield context.task_all(waiting)
        waiting = [t for t in waiting if not t.is_completed]


def _ranged(context: df.DurableOrchestrationContext, refs: list[BatchRef]) -> Generator[Any, Any, dict[str, Any]]:
    """A ranged signal's batches, one feature each: ``summarize_feature`` for all; then every range of every
    split feature (``range_share``) and ``compute_signal`` for those not split, all at once; then
    ``combine_feature`` for each split feature whose ranges all succeeded (``monitoring.run.durable_ranges``)."""
    summaries = [context.call_activity_with_retry("summarize_feature", RETRY, ref.model_dump(mode="json"))
                 for ref in refs]
    yield from _all(context, summaries)
    failed: dict[int, str] = {r.batch: str(t.result) for r, t in zip(refs, summaries, strict=True)
                              if isinstance(t.result, Exception)}
    split = {r.batch: FeatureRanges.model_validate(t.result).ranges for r, t in zip(refs, summaries, strict=True)
             if r.batch not in failed}
    whole = {r.batch: context.call_activity_with_retry("compute_signal", RETRY, r.model_dump(mode="json"))
             for r in refs if split.get(r.batch) == 0}
    shares = {r.batch: [context.call_activity_with_retry("range_share", RETRY,
                                                          RangeRef(batch=r, index=j).model_dump(mode="json"))
                        for j in range(split[r.batch])] for r in refs if split.get(r.batch)}
    yield from _all(context, [*whole.values(), *(t for ts in shares.values() for t in ts)])
    failed |= {b: str(next(t.result for t in ts if isinstance(t.result, Exception))) for b, ts in shares.items()
               if any(isinstance(t.result, Exception) for t in ts)}
    combined = {r.batch: context.call_activity_with_retry("combine_feature", RETRY, r.model_dump(mode="json"))
                for r in refs if r.batch in shares and r.batch not in failed}
    yield from _all(context, list(combined.values()))
    ended = whole | combined
    failed |= {b: str(t.result) for b, t in ended.items() if isinstance(t.result, Exception)}
    failures = [BatchOutcome.activity_failed(r, failed[r.batch], attempts=RETRY.max_number_of_attempts)
                for r in refs if r.batch in failed]
    failed_signals = sum(1 for b, t in ended.items() if b not in failed
                         and BatchOutcome.model_validate(t.result).status == "failed")
    return ChunkOutcome(failed_signals=failed_signals, failures=failures).model_dump(mode="json")


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


@bp.activity_trigger(input_name="batch")
def summarize_feature(batch: dict) -> dict:
    """Phase 1 of a value-range feature: its counts and range boundaries, stored; how many ranges."""
    return summarize_step(BatchRef.model_validate(batch), store=results_store(optimistic=False),
                          budget_mb=activity_memory_mb()).model_dump(mode="json")


@bp.activity_trigger(input_name="part")
def range_share(part: dict) -> str:
    """Phase 2 of one value range of one feature: its share of the ECDF comparison, stored; where."""
    return range_step(RangeRef.model_validate(part), store=results_store(optimistic=False))


@bp.activity_trigger(input_name="batch")
def combine_feature(batch: dict) -> dict:
    """The exact result of a value-range feature from its ranges' shares, stored as the batch's result."""
    return combine_step(BatchRef.model_validate(batch), store=results_store(optimistic=False)).model_dump(mode="json")


@bp.activity_trigger(input_name="request")
def alert(request: dict) -> dict:
    """Merge each signal's batches and complete the run (run.json, history, and the alert email)."""
    return finish_step(CompleteRequest.model_validate(request), store=results_store()).model_dump(mode="json")
