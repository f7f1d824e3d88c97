"""Run real decorated Durable functions the way the Durable extension does, without a Functions host.

``DurableHarness`` plays the extension's part of the out-of-process protocol (DESIGN section 8): it builds
the orchestration history event by event (OrchestratorStarted 12, ExecutionStarted 0, TaskScheduled 4,
TaskCompleted 5, TaskFailed 6, SubOrchestrationInstanceCreated 7, SubOrchestrationInstanceCompleted 8,
SubOrchestrationInstanceFailed 9, TimerCreated 10, TimerFired 11, OrchestratorCompleted 13), hands it to
the decorated orchestrator through the SDK's real entry point (``Orchestrator.create``'s handle, called
with a ``func.OrchestrationContext`` exactly as the worker does), reads the actions it returns, runs the
new activities in-process through the worker's activity converter, runs each new sub-orchestration as an
instance of its own (its own history, ``parentInstanceId`` set) to completion, appends their results, and
replays again until the orchestration completes or fails.

Faithful where it matters:

* Event IDs are allocated in the order the extension (DTFx) allocates them: one per new action, one per
  retry timer when a retried task fails, one per re-scheduled attempt when that timer fires; the SDK
  replays the same order (it matches completions by ``TaskScheduledId``, for activities and
  sub-orchestrations alike), so a mismatch surfaces as a stuck orchestration or an SDK duplicate-completion
  warning, both of which fail the harness.
* Retries (``call_activity_with_retry``, ``call_sub_orchestrator_with_retry``) are run by the harness with
  a timer between attempts, including the extra timer after the last failed attempt the SDK waits for.
* Every replay must schedule exactly the work the history recorded, by name *and* input, in the same
  order; otherwise ``NonDeterminismError``. (DTFx itself compares names; comparing inputs too catches an
  orchestrator that reads the wall clock or anything else that changes between replays.)
* Versions: ExecutionStarted carries the instance's version, by default host.json's
  ``extensions.durableTask.defaultVersion`` as the extension stamps it; a sub-orchestration gets the version
  its action names, else the default. ``deploy=(episode, blueprints)`` swaps the code after that episode,
  as a deployment does to an instance in flight.

By default one completion is delivered per episode (the most replays, so the strictest determinism
check), oldest first except that work ``slow(name, input)`` names comes last (an activity that outlasts
the others); ``batch=True`` delivers everything outstanding at once, as a busy host does. The CPU time the SDK
and the orchestrator spend replaying (``replay_cpu_s``) is measured for the benchmarks.
"""

from __future__ import annotations

import json
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.constants import DATETIME_STRING_FORMAT
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

ORCHESTRATOR_STARTED, EXECUTION_STARTED, TASK_SCHEDULED, TASK_COMPLETED, TASK_FAILED = 12, 0, 4, 5, 6
SUB_CREATED, SUB_COMPLETED, SUB_FAILED = 7, 8, 9
TIMER_CREATED, TIMER_FIRED, ORCHESTRATOR_COMPLETED = 10, 11, 13
CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY, CALL_SUB, CALL_SUB_WITH_RETRY = 0, 1, 2, 3
_OUT_OF_PROC_MARKER = "$OutOfProcData$:"
HOST_JSON = Path(__file__).resolve().parents[1] / "host.json"

#: ``faults(activity, input, attempt)`` -> an exception to raise instead of running the activity, or None.
FaultInjector = Callable[[str, Any, int], Exception | None]


def host_default_version() -> str:
    """host.json's ``extensions.durableTask.defaultVersion`` ("" when unset: instances get no version)."""
    return str(json.loads(HOST_JSON.read_text())["extensions"]["durableTask"].get("defaultVersion") or "")


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
    instance_id: str = ""


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
    version: str = ""
    replay_cpu_s: float = 0.0
    children: list[OrchestrationResult] = field(default_factory=list)

    def attempts(self, activity: str) -> list[ActivityCall]:
        return [c for c in self.calls if c.name == activity]

    def instances(self) -> list[OrchestrationResult]:
        """This instance and every sub-orchestration under it, depth first."""
        return [self, *(i for child in self.children for i in child.instances())]

    def total_replay_cpu_s(self) -> float:
        return sum(i.replay_cpu_s for i in self.instances())


@dataclass
class _Attempt:
    task_id: int
    name: str
    input: str | None
    attempt: int
    max_attempts: int
    retried: bool
    sub_instance: str | None = None  # a sub-orchestration's instance ID; None for an activity
    version: str | None = None


@dataclass
class _Timer:
    timer_id: int
    attempt: _Attempt


@dataclass
class _Instance:
    """One orchestration instance in progress: its history and the work it waits for."""

    name: str
    instance_id: str
    input_json: str | None
    version: str
    parent: str | None
    history: list[dict[str, Any]]
    result: OrchestrationResult
    recorded: list[tuple[str, str | None]] = field(default_factory=list)
    pending: deque[_Attempt | _Timer] = field(default_factory=deque)
    next_id: int = 0
    played_json: list[str] = field(default_factory=list)


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


def _functions(blueprints: Iterable[df.Blueprint]) -> tuple[dict[str, Any], dict[str, tuple[Callable[..., Any], str]]]:
    """(orchestrators by name, activities by name -> (function, parameter)); a later blueprint overrides."""
    orchestrators: dict[str, Any] = {}
    activities: dict[str, tuple[Callable[..., Any], str]] = {}
    for bp in blueprints:
        app = df.DFApp()
        app.register_functions(bp)
        for function in app.get_functions():
            trigger = function.get_trigger()
            if trigger.get_binding_name() == "orchestrationTrigger":
                orchestrators[function.get_function_name()] = function.get_user_function()
            elif trigger.get_binding_name() == "activityTrigger":
                activities[function.get_function_name()] = (function.get_user_function(), trigger.name)
    return orchestrators, activities


def _event(event_type: int, clock: datetime, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    return {"EventType": event_type, "EventId": event_id, "IsPlayed": False,
            "Timestamp": clock.strftime(DATETIME_STRING_FORMAT), **fields}


class DurableHarness:
    """The Durable extension in a test: replays orchestrations of the given blueprints to completion."""

    def __init__(self, blueprints: Iterable[df.Blueprint], *, start: datetime | None = None, batch: bool = False,
                 schema_version: int = 0, faults: FaultInjector | None = None, max_episodes: int = 5_000,
                 version: str | None = None, deploy: tuple[int, Iterable[df.Blueprint]] | None = None,
                 slow: Callable[[str, Any], bool] | None = None) -> None:
        self.orchestrators, self.activities = _functions(blueprints)
        self.start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.batch = batch
        self.schema_version = schema_version
        self.faults = faults
        self.max_episodes = max_episodes
        self.version = host_default_version() if version is None else version
        self.deploy = (deploy[0], list(deploy[1])) if deploy else None
        self.slow = slow

    # -- the two halves of the protocol ------------------------------------------------------------

    def _replay(self, run: _Instance, played: int) -> dict[str, Any]:
        """One episode: the SDK replays the history and returns the orchestrator's state."""
        while len(run.played_json) < played:  # each event's JSON once it is played: the host's side stays cheap
            run.played_json.append(json.dumps(dict(run.history[len(run.played_json)], IsPlayed=True)))
        events = run.played_json[:played] + [json.dumps(e) for e in run.history[played:]]
        rest = {"instanceId": run.instance_id, "isReplaying": played > 0, "parentInstanceId": run.parent,
                "input": run.input_json, "upperSchemaVersion": self.schema_version}
        text = '{"history": [' + ", ".join(events) + "], " + json.dumps(rest)[1:]  # what the host sends
        handle = self.orchestrators[run.name]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.process_time()
            try:
                state = json.loads(handle(func.OrchestrationContext(text)))
            except Exception as exc:  # the SDK reports an orchestrator exception with its state attached
                message = str(exc)
                if _OUT_OF_PROC_MARKER not in message:
                    raise
                state = json.loads(message.split(_OUT_OF_PROC_MARKER, 1)[1])
            finally:
                run.result.replay_cpu_s += time.process_time() - started
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

    # -- one instance --------------------------------------------------------------------------------

    def run(self, orchestrator: str, instance_id: str, input_: Any = None, *, version: str | None = None,
            parent: str | None = None, calls: list[ActivityCall] | None = None) -> OrchestrationResult:
        """Start ``orchestrator`` as ``instance_id`` with ``input_`` and replay it until it ends."""
        input_json = json.dumps(input_) if input_ is not None else None
        version = self.version if version is None else version
        clock = self.start
        history = [_event(ORCHESTRATOR_STARTED, clock),
                   _event(EXECUTION_STARTED, clock, Name=orchestrator, Version=version, Input=input_json)]
        result = OrchestrationResult(instance_id, "Completed", None, None, None, [], history,
                                     [] if calls is None else calls, 0, {"input": len(input_json or "")}, version)
        run = _Instance(orchestrator, instance_id, input_json, version, parent, history, result)
        played = 0
        for episode in range(1, self.max_episodes + 1):
            if self.deploy and parent is None and episode == self.deploy[0] + 1:
                self.orchestrators, self.activities = _functions(self.deploy[1])
            state = self._replay(run, played)
            self._record_actions(run, _flatten(state.get("actions") or []), clock, episode)
            history.append(_event(ORCHESTRATOR_COMPLETED, clock))
            result.custom_statuses.append(state.get("customStatus"))
            if state.get("isDone") or state.get("error"):
                output = state.get("output")
                result.payload_bytes["output"] = len(json.dumps(output)) if output is not None else 0
                result.status = "Failed" if state.get("error") else "Completed"
                result.output, result.error, result.episodes = output, state.get("error"), episode
                result.custom_status = result.custom_statuses[-1]
                return result
            if not run.pending:
                raise HarnessError(f"episode {episode}: the orchestrator waits, but nothing it scheduled is pending")
            played = len(history)
            clock += timedelta(seconds=1)
            history.append(_event(ORCHESTRATOR_STARTED, clock))
            deliveries = self._next(run)
            for work in deliveries:
                self._deliver(run, work, clock)
        raise HarnessError(f"{orchestrator} did not finish within {self.max_episodes} episodes")

    def _next(self, run: _Instance) -> list[_Attempt | _Timer]:
        """What arrives this episode: everything (``batch``), else the oldest work that is not ``slow``."""
        if self.batch:
            deliveries = list(run.pending)
            run.pending.clear()
            return deliveries
        for index, work in enumerate(run.pending):
            if index == len(run.pending) - 1 or not (isinstance(work, _Attempt) and self.slow is not None
                                                     and self.slow(work.name, json.loads(work.input or "null"))):
                del run.pending[index]
                return [work]
        raise HarnessError("nothing pending")

    def _record_actions(self, run: _Instance, actions: list[dict[str, Any]], clock: datetime, episode: int) -> None:
        """Check the replay against the history; append the new actions' events and queue their work."""
        calls_now = [(a.get("functionName"), a.get("input")) for a in actions]
        if calls_now[:len(run.recorded)] != run.recorded:
            first = next((i for i, (a, b) in enumerate(zip(calls_now, run.recorded, strict=False)) if a != b),
                         len(calls_now))
            got = calls_now[first] if first < len(calls_now) else "nothing"
            raise NonDeterminismError(
                f"{run.instance_id} episode {episode}: action {first} was {run.recorded[first]} in the history but "
                f"the replay scheduled {got}")
        for action in actions[len(run.recorded):]:
            kind = action.get("actionType")
            if kind not in (CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY, CALL_SUB, CALL_SUB_WITH_RETRY):
                raise HarnessError(f"the harness runs activities and sub-orchestrations only, not action {action}")
            name, payload = action["functionName"], action.get("input")
            run.recorded.append((name, payload))
            retry = action.get("retryOptions")
            work = _Attempt(run.next_id, name, payload, 1, retry["maxNumberOfAttempts"] if retry else 1,
                            retried=retry is not None)
            if kind in (CALL_SUB, CALL_SUB_WITH_RETRY):
                work.sub_instance = action.get("instanceId") or f"{run.instance_id}:{run.next_id}"
                work.version = action.get("version")
            self._schedule(run, work, clock)
            run.result.payload_bytes[name] = max(run.result.payload_bytes.get(name, 0), len(payload or ""))

    def _schedule(self, run: _Instance, work: _Attempt, clock: datetime) -> None:
        if work.sub_instance is None:
            run.history.append(_event(TASK_SCHEDULED, clock, work.task_id, Name=work.name, Version="",
                                      Input=work.input))
        else:
            run.history.append(_event(SUB_CREATED, clock, work.task_id, Name=work.name, InstanceId=work.sub_instance,
                                      Version=work.version or self.version, Input=work.input))
        run.pending.append(work)
        run.next_id = max(run.next_id, work.task_id + 1)

    def _deliver(self, run: _Instance, work: _Attempt | _Timer, clock: datetime) -> None:
        """Complete one piece of work: fire a timer (and re-schedule), or run an activity or a sub-orchestration."""
        stamp = clock.strftime(DATETIME_STRING_FORMAT)
        if isinstance(work, _Timer):
            run.history.append(_event(TIMER_FIRED, clock, TimerId=work.timer_id, FireAt=stamp))
            failed = work.attempt
            if failed.attempt < failed.max_attempts:
                self._schedule(run, _Attempt(run.next_id, failed.name, failed.input, failed.attempt + 1,
                                             failed.max_attempts, True, failed.sub_instance, failed.version), clock)
            return
        if work.sub_instance is not None:
            result, error, details = self._run_sub(run, work)
            ok, failed_type = SUB_COMPLETED, SUB_FAILED
            reason = f"Orchestrator function '{work.name}' failed: {error}"
        else:
            result, exc = self._run_activity(work)
            run.result.calls.append(ActivityCall(
                work.name, json.loads(work.input) if work.input else None, work.attempt, work.task_id,
                None if exc is None else f"{type(exc).__name__}: {exc}", run.instance_id))
            error = None if exc is None else f"{type(exc).__name__}: {exc}"
            details = "" if exc is None else "".join(traceback.format_exception(exc)).strip()
            ok, failed_type = TASK_COMPLETED, TASK_FAILED
            reason = f"Activity function '{work.name}' failed: {error}"
        if error is None:
            key = f"{work.name} result"
            run.result.payload_bytes[key] = max(run.result.payload_bytes.get(key, 0), len(result or ""))
            run.history.append(_event(ok, clock, TaskScheduledId=work.task_id, Result=result))
            return
        run.history.append(_event(failed_type, clock, TaskScheduledId=work.task_id, Reason=reason, Details=details))
        if work.retried:
            run.history.append(_event(TIMER_CREATED, clock, run.next_id, FireAt=stamp))
            run.pending.append(_Timer(run.next_id, work))
            run.next_id += 1

    def _run_sub(self, run: _Instance, work: _Attempt) -> tuple[str | None, str | None, str]:
        """Run a sub-orchestration to its end as an instance of its own: (result JSON, error, details)."""
        assert work.sub_instance is not None
        if work.name not in self.orchestrators:
            return None, f"no orchestrator named {work.name!r} is registered", ""
        child = self.run(work.name, work.sub_instance, json.loads(work.input) if work.input else None,
                         version=work.version, parent=run.instance_id, calls=run.result.calls)
        run.result.children.append(child)
        sizes = run.result.payload_bytes
        for kind, size in child.payload_bytes.items():
            if kind not in ("input", "output"):
                sizes[kind] = max(sizes.get(kind, 0), size)
        if child.status == "Failed":
            return None, child.error, child.error or ""
        return json.dumps(child.output), None, ""


__all__ = [
    "ActivityCall", "DurableHarness", "FaultInjector", "HarnessError", "NonDeterminismError", "OrchestrationResult",
    "host_default_version",
]
