"""Run real decorated Durable functions the way the Durable extension does, without a Functions host.

``DurableHarness`` plays the extension's part of the out-of-process protocol (DESIGN section 8): it builds
the orchestration history event by event (OrchestratorStarted 12, ExecutionStarted 0, TaskScheduled 4,
TaskCompleted 5, TaskFailed 6, TimerCreated 10, TimerFired 11, OrchestratorCompleted 13), hands it to
the decorated orchestrator through the SDK's real entry point (``Orchestrator.create``'s handle, called
with a ``func.OrchestrationContext`` exactly as the worker does), reads the actions it returns, runs the
new activities in-process through the worker's activity converter, appends their results, and replays
again until the orchestration completes or fails.

Faithful where it matters:

* Event IDs are allocated in the order the extension (DTFx) allocates them: one per new action, one per
  retry timer when a retried activity fails, one per re-scheduled attempt when that timer fires; the SDK
  replays the same order, so a mismatch surfaces as a stuck orchestration or an SDK duplicate-completion
  warning, both of which fail the harness.
* Retries (``call_activity_with_retry``) are run by the harness with a timer between attempts, including
  the extra timer after the last failed attempt the SDK waits for.
* Every replay must schedule exactly the work the history recorded, by name *and* input, in the same
  order; otherwise ``NonDeterminismError``. (DTFx itself compares names; comparing inputs too catches an
  orchestrator that reads the wall clock or anything else that changes between replays.)

By default one completion is delivered per episode (the most replays, so the strictest determinism
check); ``batch=True`` delivers everything outstanding at once, as a busy host does.
"""

from __future__ import annotations

import json
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote, urlparse

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.constants import DATETIME_STRING_FORMAT
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

ORCHESTRATOR_STARTED, EXECUTION_STARTED, TASK_SCHEDULED, TASK_COMPLETED, TASK_FAILED = 12, 0, 4, 5, 6
TIMER_CREATED, TIMER_FIRED, ORCHESTRATOR_COMPLETED = 10, 11, 13
CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY = 0, 1
_OUT_OF_PROC_MARKER = "$OutOfProcData$:"

#: ``faults(activity, input, attempt)`` -> an exception to raise instead of running the activity, or None.
FaultInjector = Callable[[str, Any, int], Exception | None]


class HarnessError(AssertionError):
    """The orchestration cannot go on: it waits for nothing, or the SDK saw an inconsistent history."""


class NonDeterminismError(HarnessError):
    """A replay scheduled different work than the history recorded: the orchestrator is not deterministic."""


@dataclass(frozen=True)
class ActivityCall:
    """One attempt of one activity, as the harness ran it."""

    name: str
    input: Any
    attempt: int
    task_id: int
    error: str | None = None


@dataclass
class OrchestrationResult:
    """How an orchestration ended, with everything a test may want to look at."""

    instance_id: str
    status: Literal["Completed", "Failed"]
    output: Any
    error: str | None
    custom_status: Any
    custom_statuses: list[Any]
    history: list[dict[str, Any]]
    calls: list[ActivityCall]
    episodes: int
    payload_bytes: dict[str, int] = field(default_factory=dict)

    def attempts(self, activity: str) -> list[ActivityCall]:
        return [c for c in self.calls if c.name == activity]


@dataclass
class _Attempt:
    task_id: int
    name: str
    input: str | None
    attempt: int
    max_attempts: int
    retried: bool


@dataclass
class _Timer:
    timer_id: int
    attempt: _Attempt


def _flatten(actions: list[Any]) -> list[dict[str, Any]]:
    """Actions in scheduling order, from V1 (lists per yield) or V2+ (compound actions) payloads."""
    out: list[dict[str, Any]] = []
    for item in actions:
        if isinstance(item, list):
            out.extend(_flatten(item))
        elif "compoundActions" in item:
            out.extend(_flatten(item["compoundActions"]))
        else:
            out.append(item)
    return out


class DurableHarness:
    """The Durable extension in a test: replays orchestrations of the given blueprints to completion."""

    def __init__(self, blueprints: Iterable[df.Blueprint], *, start: datetime | None = None, batch: bool = False,
                 schema_version: int = 0, faults: FaultInjector | None = None, max_episodes: int = 1_000) -> None:
        app = df.DFApp()
        for bp in blueprints:
            app.register_functions(bp)
        self.orchestrators: dict[str, Any] = {}
        self.activities: dict[str, tuple[Callable[..., Any], str]] = {}
        for function in app.get_functions():
            trigger = function.get_trigger()
            if trigger.get_binding_name() == "orchestrationTrigger":
                self.orchestrators[function.get_function_name()] = function.get_user_function()
            elif trigger.get_binding_name() == "activityTrigger":
                self.activities[function.get_function_name()] = (function.get_user_function(), trigger.name)
        self.start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.batch = batch
        self.schema_version = schema_version
        self.faults = faults
        self.max_episodes = max_episodes

    # -- events ------------------------------------------------------------------------------------

    def _event(self, event_type: int, clock: datetime, event_id: int = -1, **fields: Any) -> dict[str, Any]:
        return {"EventType": event_type, "EventId": event_id, "IsPlayed": False,
                "Timestamp": clock.strftime(DATETIME_STRING_FORMAT), **fields}

    # -- the two halves of the protocol ------------------------------------------------------------

    def _replay(self, handle: Callable[[Any], str], body: dict[str, Any]) -> dict[str, Any]:
        """One episode: the SDK replays the history and returns the orchestrator's state."""
        context = func.OrchestrationContext(json.dumps(body))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                state = json.loads(handle(context))
            except Exception as exc:  # the SDK reports an orchestrator exception with its state attached
                text = str(exc)
                if _OUT_OF_PROC_MARKER not in text:
                    raise
                state = json.loads(text.split(_OUT_OF_PROC_MARKER, 1)[1])
        duplicates = [str(w.message) for w in caught if "duplicate Task completion" in str(w.message)]
        if duplicates:
            raise HarnessError(f"the SDK matched a completion to no open task (event IDs out of step): {duplicates}")
        return state

    def _run_activity(self, work: _Attempt) -> tuple[str | None, BaseException | None]:
        """Run one attempt through the worker's activity converter: (result JSON, None) or (None, error)."""
        if work.name not in self.activities:
            return None, LookupError(f"no activity named {work.name!r} is registered")
        function, parameter = self.activities[work.name]
        value = ActivityTriggerConverter.decode(meta.Datum(type="json", value=work.input or "null"),
                                                trigger_metadata=None)
        try:
            fault = self.faults(work.name, value, work.attempt) if self.faults else None
            if fault is not None:
                raise fault
            result = function(**{parameter: value})
            return ActivityTriggerConverter.encode(result, expected_type=None).value, None
        except Exception as exc:  # noqa: BLE001 - an activity failure is a history event, as in the extension
            return None, exc

    # -- the loop ----------------------------------------------------------------------------------

    def run(self, orchestrator: str, instance_id: str, input_: Any = None) -> OrchestrationResult:
        """Start ``orchestrator`` as ``instance_id`` with ``input_`` and replay it until it ends."""
        handle = self.orchestrators[orchestrator]
        input_json = json.dumps(input_) if input_ is not None else None
        clock = self.start
        history = [self._event(ORCHESTRATOR_STARTED, clock),
                   self._event(EXECUTION_STARTED, clock, Name=orchestrator, Version="", Input=input_json)]
        played = 0
        recorded: list[tuple[str, str | None]] = []
        pending: deque[_Attempt | _Timer] = deque()
        calls: list[ActivityCall] = []
        statuses: list[Any] = []
        sizes: dict[str, int] = {"input": len(input_json or "")}
        next_id = 0

        for episode in range(1, self.max_episodes + 1):
            body = {"history": [dict(e, IsPlayed=i < played) for i, e in enumerate(history)],
                    "instanceId": instance_id, "isReplaying": played > 0, "parentInstanceId": None,
                    "input": input_json, "upperSchemaVersion": self.schema_version}
            state = self._replay(handle, body)
            actions = _flatten(state.get("actions") or [])
            calls_now = [(a.get("functionName"), a.get("input")) for a in actions]
            if calls_now[:len(recorded)] != recorded:
                first = next((i for i, (a, b) in enumerate(zip(calls_now, recorded, strict=False)) if a != b),
                             len(calls_now))
                got = calls_now[first] if first < len(calls_now) else "nothing"
                raise NonDeterminismError(
                    f"episode {episode}: action {first} was {recorded[first]} in the history but the replay "
                    f"scheduled {got}")
            for action in actions[len(recorded):]:
                if action.get("actionType") not in (CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY):
                    raise HarnessError(f"the harness runs activities only, not action {action}")
                name, payload = action["functionName"], action.get("input")
                recorded.append((name, payload))
                history.append(self._event(TASK_SCHEDULED, clock, next_id, Name=name, Version="", Input=payload))
                sizes[name] = max(sizes.get(name, 0), len(payload or ""))
                retry = action.get("retryOptions")
                pending.append(_Attempt(next_id, name, payload, 1, retry["maxNumberOfAttempts"] if retry else 1,
                                        retried=retry is not None))
                next_id += 1
            history.append(self._event(ORCHESTRATOR_COMPLETED, clock))
            statuses.append(state.get("customStatus"))
            if state.get("isDone") or state.get("error"):
                output = state.get("output")
                sizes["output"] = len(json.dumps(output)) if output is not None else 0
                return OrchestrationResult(
                    instance_id, "Failed" if state.get("error") else "Completed", output, state.get("error"),
                    statuses[-1], statuses, history, calls, episode, sizes)
            if not pending:
                raise HarnessError(f"episode {episode}: the orchestrator waits, but nothing it scheduled is pending")

            played = len(history)
            clock += timedelta(seconds=1)
            stamp = clock.strftime(DATETIME_STRING_FORMAT)
            history.append(self._event(ORCHESTRATOR_STARTED, clock))
            deliveries = list(pending) if self.batch else [pending[0]]
            for _ in deliveries:
                pending.popleft()
            for work in deliveries:
                if isinstance(work, _Timer):
                    history.append(self._event(TIMER_FIRED, clock, TimerId=work.timer_id, FireAt=stamp))
                    failed = work.attempt
                    if failed.attempt < failed.max_attempts:
                        again = _Attempt(next_id, failed.name, failed.input, failed.attempt + 1, failed.max_attempts,
                                         retried=True)
                        history.append(self._event(TASK_SCHEDULED, clock, next_id, Name=again.name, Version="",
                                                           Input=again.input))
                        pending.append(again)
                        next_id += 1
                    continue
                result, error = self._run_activity(work)
                calls.append(ActivityCall(work.name, json.loads(work.input) if work.input else None, work.attempt,
                                          work.task_id, None if error is None else f"{type(error).__name__}: {error}"))
                if error is None:
                    sizes[f"{work.name} result"] = max(sizes.get(f"{work.name} result", 0), len(result or ""))
                    history.append(self._event(TASK_COMPLETED, clock, TaskScheduledId=work.task_id, Result=result))
                    continue
                history.append(self._event(
                    TASK_FAILED, clock, TaskScheduledId=work.task_id,
                    Reason=f"Activity function '{work.name}' failed: {type(error).__name__}: {error}",
                    Details="".join(traceback.format_exception(error)).strip()))
                if work.retried:
                    history.append(self._event(TIMER_CREATED, clock, next_id, FireAt=stamp))
                    pending.append(_Timer(next_id, work))
                    next_id += 1
        raise HarnessError(f"{orchestrator} did not finish within {self.max_episodes} episodes")


class FakeDurableExtension:
    """The extension's management API (start and status) in memory, for the functions that use a client.

    ``client()`` is a real ``DurableOrchestrationClient`` built from binding data like the host's, with only
    its two HTTP calls replaced: the SDK's URL building, status parsing and response helpers all run. An
    orchestration started through it runs to completion in ``harness`` when one is given, else stays
    ``Pending``. A start for an instance that is pending or running is refused like the extension does.
    """

    RPC = "http://127.0.0.1:17071/durabletask/"
    WEBHOOK = "http://localhost:7071/runtime/webhooks/durabletask/instances/INSTANCEID"

    def __init__(self, harness: DurableHarness | None = None) -> None:
        self.harness = harness
        self.instances: dict[str, dict[str, Any]] = {}
        self.starts: list[tuple[str, str, Any]] = []
        self.results: dict[str, OrchestrationResult] = {}

    def client(self) -> df.DurableOrchestrationClient:
        urls = {"id": "INSTANCEID", "statusQueryGetUri": f"{self.WEBHOOK}?code=KEY",
                "sendEventPostUri": f"{self.WEBHOOK}/raiseEvent/{{eventName}}?code=KEY",
                "terminatePostUri": f"{self.WEBHOOK}/terminate?reason={{text}}&code=KEY",
                "rewindPostUri": f"{self.WEBHOOK}/rewind?reason={{text}}&code=KEY",
                "purgeHistoryDeleteUri": f"{self.WEBHOOK}?code=KEY",
                "restartPostUri": f"{self.WEBHOOK}/restart?code=KEY"}
        bindings = {"taskHubName": "test", "creationUrls": {}, "managementUrls": urls, "rpcBaseUrl": self.RPC}
        client = df.DurableOrchestrationClient(json.dumps(bindings))
        client._get_async_request = self._get
        client._post_async_request = self._post
        return client

    def set_instance(self, instance_id: str, runtime_status: str, **fields: Any) -> None:
        """Pretend the extension already has an instance (e.g. a running or completed one)."""
        now = datetime.now(UTC).strftime(DATETIME_STRING_FORMAT)
        self.instances[instance_id] = {"name": "monitor_run", "instanceId": instance_id, "createdTime": now,
                                       "lastUpdatedTime": now, "runtimeStatus": runtime_status, **fields}

    async def _get(self, url: str, function_invocation_id: str | None = None) -> list[Any]:
        path = urlparse(url).path
        instance_id = unquote(path.split("/instances/", 1)[1]) if "/instances/" in path else ""
        record = self.instances.get(instance_id)
        return [200, record] if record is not None else [404, ""]

    async def _post(self, url: str, data: Any = None, trace_parent: str | None = None, trace_state: str | None = None,
                    function_invocation_id: str | None = None) -> list[Any]:
        name, _, instance_id = urlparse(url).path.split("/orchestrators/", 1)[1].partition("/")
        instance_id = unquote(instance_id)
        existing = self.instances.get(instance_id)
        if existing is not None and existing["runtimeStatus"] in ("Pending", "Running"):
            return [409, f"An Orchestration instance with the status {existing['runtimeStatus']} already exists."]
        input_ = json.loads(data) if isinstance(data, str) else data
        self.starts.append((name, instance_id, input_))
        self.set_instance(instance_id, "Pending", name=name, input=input_)
        if self.harness is not None:
            result = self.harness.run(name, instance_id, input_)
            self.results[instance_id] = result
            self.instances[instance_id].update(runtimeStatus=result.status, output=result.output,
                                               customStatus=result.custom_status)
        return [202, {"id": instance_id}]


__all__ = [
    "ActivityCall", "DurableHarness", "FakeDurableExtension", "FaultInjector", "HarnessError", "NonDeterminismError",
    "OrchestrationResult",
]
