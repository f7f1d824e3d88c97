"""The domain halves of the Durable activities, and the small messages that travel between them.

``monitor_run`` moves references, never data: ``plan_step`` writes the run's plan to the results store
and returns only how many feature batches each signal has; each ``compute_step`` reads the plan, computes
its batch, writes the full result (histograms included) next to the plan and returns a one-line summary;
``finish_step`` reads the parts back, merges each signal's batches and completes the run. Every message
is a pydantic model that round-trips through JSON, and none grows with the number of features,
categories or bins (``alert``'s input names only the batches whose activity failed), so a wide monitor
stays far below Durable's message limits.

Results store layout of one run (besides ``monitoring.results``' documents)::

    <monitor>/<fire time>/plan.json                      the RunPlan
    <monitor>/<fire time>/parts/<signal>/<batch>.json    one SignalResult per feature batch
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_random_exponential

from monitoring.data.locations import definition_problems
from monitoring.dispatch.due import RunRequest
from monitoring.errors import DefinitionError, MonitoringError, WriteConflict
from monitoring.names import run_id
from monitoring.run.batching import activity_memory_mb, batch_size, features_per_activity, signal_rows
from monitoring.run.bounded import compute_bounded, group_width, splittable
from monitoring.run.compute import merge_batches
from monitoring.run.custom import load_custom_signals
from monitoring.run.finish import complete_run
from monitoring.run.plan import RunPlan, SignalPlan, plan_run
from monitoring.storage.base import write_json
from monitoring.text import one_line
from signals.registry import signal_info
from signals.results import SignalResult

if TYPE_CHECKING:
    from monitoring.storage.base import Store
    from monitoring.storage.definitions import DefinitionStore

log = logging.getLogger(__name__)

#: ``finish_step`` against concurrent writers of the same history.parquet or latest.json: retry a
#: ``WriteConflict`` with exponential backoff and full jitter (0.2 s doubling, each wait at most 5 s) for
#: up to ``CONFLICT_ATTEMPTS`` attempts or ``CONFLICT_BUDGET_S`` seconds, whichever comes first. The
#: budget is longer than the whole of Durable's retry of the activity (``functions.runs.RETRY``: three
#: attempts 5 s apart), so the in-activity loop is never the first to give up.
CONFLICT_ATTEMPTS = 30
CONFLICT_BUDGET_S = 90.0


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignalBatches(_Message):
    name: str
    batches: int = Field(ge=1)
    features_per_activity: int | None = Field(
        None, ge=1, description="This signal's batch size; None (plans made before it) is the run's.")
    ranged: bool = Field(False, description="One feature per batch, each split by value range when it does "
                                            "not fit an activity (monitoring.run.durable_ranges).")


class BatchRef(_Message):
    """``compute_signal``'s input: one batch of one signal's features, by reference to the plan."""

    plan_path: str
    signal: str
    batch: int = Field(ge=0)
    batches: int = Field(ge=1)
    features_per_activity: int = Field(ge=1)


class PlannedRun(_Message):
    """``plan_run``'s output: where the plan is and how the work splits into activities."""

    monitor: str
    run_id: str
    plan_path: str
    features_per_activity: int = Field(ge=1)
    signals: list[SignalBatches]

    def batch_refs(self) -> list[BatchRef]:
        """One ``compute_signal`` input per (signal, feature batch), in definition order."""
        return [ref for chunk in self.chunks(None) for ref in chunk.refs()]

    def chunks(self, most: int | None) -> list[SignalChunk]:
        """Each signal's batches in runs of at most ``most`` (None: one run per signal), in definition order."""
        out = []
        for s in self.signals:
            step = most or s.batches
            out += [SignalChunk(plan_path=self.plan_path, signal=s.name, batches=s.batches, index=i,
                                first=first, count=min(step, s.batches - first),
                                features_per_activity=s.features_per_activity or self.features_per_activity,
                                ranged=s.ranged)
                    for i, first in enumerate(range(0, s.batches, step))]
        return out

    def batch_counts(self) -> dict[str, int] | None:
        """Batches per signal, for ``finish_step``; None for a plan with one batch size (``alert`` derives them)."""
        if all(s.features_per_activity is None for s in self.signals):
            return None
        return {s.name: s.batches for s in self.signals}


class SignalChunk(_Message):
    """``signal_run``'s input: the batches ``first`` .. ``first + count - 1`` of one signal, by reference."""

    plan_path: str
    signal: str
    batches: int = Field(ge=1)
    index: int = Field(ge=0, description="Which run of the signal's batches this is (0 for the first).")
    first: int = Field(ge=0)
    count: int = Field(ge=1)
    features_per_activity: int = Field(ge=1)
    ranged: bool = False

    @model_serializer(mode="wrap")
    def _without_unranged(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent when False: the input of an unranged signal_run stays byte for byte what earlier code
        # scheduled, so in-flight instances replay unchanged.
        data: dict[str, Any] = handler(self)
        if not data.get("ranged"):
            data.pop("ranged", None)
        return data

    def refs(self) -> list[BatchRef]:
        return [BatchRef(plan_path=self.plan_path, signal=self.signal, batch=b, batches=self.batches,
                         features_per_activity=self.features_per_activity)
                for b in range(self.first, self.first + self.count)]


class ChunkOutcome(_Message):
    """``signal_run``'s output: how many of its batches computed a failed signal, and the batches whose
    activity failed every retry (the others' results are in the store)."""

    failed_signals: int = 0
    failures: list[BatchOutcome] = Field(default_factory=list)


class BatchOutcome(_Message):
    """``compute_signal``'s output, or the orchestrator's record of an activity that failed every retry."""

    signal: str
    batch: int
    status: str
    path: str | None = Field(None, description="The batch's full SignalResult; None if the activity failed.")
    features: int = 0
    breached: bool = False
    error: str | None = None

    @classmethod
    def activity_failed(cls, ref: BatchRef, reason: str, *, attempts: int) -> BatchOutcome:
        """The outcome of a batch whose activity raised on every attempt."""
        first_line = one_line(reason, default="unknown error")
        where = f"features batch {ref.batch + 1} of {ref.batches}: " if ref.batches > 1 else ""
        return cls(signal=ref.signal, batch=ref.batch, status="failed",
                   error=f"{where}compute_signal failed after {attempts} attempts: {first_line[:500]}")

    @classmethod
    def orchestration_failed(cls, ref: BatchRef, reason: str) -> BatchOutcome:
        """The outcome of a batch whose ``signal_run`` sub-orchestration failed as a whole."""
        first_line = one_line(reason, default="unknown error")
        return cls(signal=ref.signal, batch=ref.batch, status="failed", path=None,
                   error=f"signal_run of batches including {ref.batch + 1} of {ref.batches} failed: {first_line[:500]}")


class CompleteRequest(_Message):
    """``alert``'s input: the run's identity and start, the plan, and the batches whose activity failed.

    Every other batch's result is where ``compute_step`` stored it (``part_path``), so the message does
    not grow with the number of batches.
    """

    instance_id: str
    plan_path: str
    started_at: AwareDatetime
    features_per_activity: int = Field(ge=1)
    failures: list[BatchOutcome] = Field(default_factory=list)
    batches: dict[str, int] | None = Field(
        None, description="Batches per signal when signals have their own batch sizes; absent otherwise.")

    @model_serializer(mode="wrap")
    def _without_absent_batches(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent rather than null: the request of a plan with one batch size stays byte for byte what the
        # orchestrator of version 1 scheduled, so in-flight instances replay it unchanged.
        data: dict[str, Any] = handler(self)
        if data.get("batches") is None:
            data.pop("batches", None)
        return data


class RunOutcome(_Message):
    """``alert``'s output and the orchestration's: the run's verdict and where run.json is."""

    monitor: str
    run_id: str
    status: str
    breached: bool
    run: str
    signals: dict[str, str]


# --------------------------------------------------------------------------------------------------
# Steps


def _batches(signal: SignalPlan, size: int) -> int:
    """Activities for one signal: one per ``size`` features; one for signals that are not per feature."""
    if signal.error or signal.unsupported or not signal_info(signal.type).per_feature:
        return 1
    return max(1, math.ceil(len(signal.features) / size))


def plan_step(request: RunRequest, *, definitions: DefinitionStore, store: Store,
              batch_size: int | None = None) -> PlannedRun:
    """Plan the run from the monitor's current definition and store the plan next to its results.

    Each per-feature signal's batch size follows its windows' rows and ``ACTIVITY_MEMORY_MB`` (see
    ``monitoring.run.batching``); ``batch_size`` instead gives every signal that one size.
    """

    loaded = definitions.load(request.monitor)
    not_allowed = definition_problems(loaded)  # again at run time: monitors/ may be written another way
    if not_allowed:
        raise DefinitionError(f"monitors/{request.monitor}", not_allowed)
    if request.definition_version and loaded.version != request.definition_version:
        log.warning("monitor %s changed after %s was scheduled (version %s, now %s); running the current one",
                    request.monitor, request.instance_id, request.definition_version, loaded.version)
    load_custom_signals()
    plan = plan_run(loaded, request.fire_time, store=store)
    path = f"{plan.prefix}/plan.json"
    write_json(store, path, plan.model_dump(mode="json"))
    if batch_size:  # one size for every signal
        return PlannedRun(monitor=plan.monitor, run_id=run_id(plan.fire_time), plan_path=path,
                          features_per_activity=batch_size,
                          signals=[SignalBatches(name=s.name, batches=_batches(s, batch_size),
                                                 features_per_activity=None) for s in plan.signals])
    most, budget = features_per_activity(), activity_memory_mb()
    signals = []
    for s in plan.signals:
        ranged = split_by_range(s, budget=budget)
        size = 1 if ranged else batch_size_for(s, budget=budget, most=most)
        signals.append(SignalBatches(name=s.name, batches=_batches(s, size), features_per_activity=size,
                                     ranged=ranged))
    return PlannedRun(monitor=plan.monitor, run_id=run_id(plan.fire_time), plan_path=path,
                      features_per_activity=most, signals=signals)


def batch_size_for(signal: SignalPlan, *, budget: int, most: int) -> int:
    """Features per activity of one signal: what fits ``budget`` over its windows' rows (``most`` at most)."""
    if signal.error or signal.unsupported or not signal_info(signal.type).per_feature:
        return most
    return batch_size(signal_rows(signal.production, signal.reference), budget_mb=budget, most=most)


def split_by_range(signal: SignalPlan, *, budget: int) -> bool:
    """Whether the signal's features go one per batch, each split by value range when it does not fit: a
    drift signal (``SignalInfo.value_ranges``) one of whose features over both windows' rows (parquet
    metadata) does not fit ``budget`` MiB (``monitoring.run.bounded.group_width``)."""
    if signal.error or signal.unsupported:
        return False
    info = signal_info(signal.type)
    if not info.per_feature or not splittable(signal, info):
        return False
    rows = signal_rows(signal.production, signal.reference)
    return rows is not None and group_width(rows, budget) == 0


def read_plan(store: Store, path: str) -> RunPlan:
    if not path.endswith("/plan.json"):
        raise MonitoringError(f"{path!r} is not a plan path (<monitor>/<fire time>/plan.json)")
    data = store.read_bytes(path)
    if data is None:
        raise MonitoringError(f"the run plan {store.location(path)} does not exist; plan_run writes it first")
    return RunPlan.model_validate_json(data)


def _signal(plan: RunPlan, name: str) -> SignalPlan:
    for signal in plan.signals:
        if signal.name == name:
            return signal
    raise MonitoringError(f"signal `{name}` is not in the plan of {plan.monitor} at {run_id(plan.fire_time)}")


def part_path(plan: RunPlan, signal: str, batch: int) -> str:
    return f"{plan.prefix}/parts/{signal}/{batch}.json"


def transient_errors() -> tuple[type[BaseException], ...]:
    """Errors worth another attempt of the activity: the network, not the data or the definition."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    return (ConnectionError, TimeoutError, ServiceRequestError, ServiceResponseError)


def compute_step(ref: BatchRef, *, store: Store) -> BatchOutcome:
    """Compute one batch of one signal and store its full result; return a summary."""
    load_custom_signals()
    plan = read_plan(store, ref.plan_path)
    signal = _signal(plan, ref.signal)
    size = ref.features_per_activity
    features = None if ref.batches == 1 else signal.features[ref.batch * size:(ref.batch + 1) * size]
    result = compute_bounded(signal, budget_mb=activity_memory_mb(), features=features, store=store,
                             reraise=transient_errors())
    path = part_path(plan, signal.name, ref.batch)
    store.write_bytes(path, result.model_dump_json().encode(), content_type="application/json")
    return BatchOutcome(signal=signal.name, batch=ref.batch, status=result.status, path=path,
                        features=len(result.features), breached=result.breached, error=result.error)


def _signal_result(plan: RunPlan, signal: SignalPlan, request: CompleteRequest, store: Store) -> SignalResult:
    failed = {o.batch: o for o in request.failures if o.signal == signal.name}
    parts = []
    count = request.batches[signal.name] if request.batches else _batches(signal, request.features_per_activity)
    for batch in range(count):
        if batch in failed:
            parts.append(SignalResult(type=signal.type, status="failed", error=failed[batch].error,
                                      notes=signal.notes))
            continue
        path = part_path(plan, signal.name, batch)
        data = store.read_bytes(path)
        if data is None:
            raise MonitoringError(f"the result of {signal.name} batch {batch} is missing at {store.location(path)}")
        parts.append(SignalResult.model_validate_json(data))
    return merge_batches(signal.type, parts)


def conflict_retry(sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """The ``WriteConflict`` retry of ``finish_step`` (see ``CONFLICT_ATTEMPTS``); the last conflict is raised."""
    return Retrying(retry=retry_if_exception_type(WriteConflict),
                    stop=stop_after_attempt(CONFLICT_ATTEMPTS) | stop_after_delay(CONFLICT_BUDGET_S),
                    wait=wait_random_exponential(multiplier=0.2, max=5.0), sleep=sleep, reraise=True,
                    before_sleep=lambda state: log.info("a monitor document changed while the run finished; "
                                                        "retrying (attempt %d)", state.attempt_number))


def finish_step(request: CompleteRequest, *, store: Store, sleep: Callable[[float], None] = time.sleep
                ) -> RunOutcome:
    """Merge every signal's batches and complete the run (see ``monitoring.complete``)."""

    plan = read_plan(store, request.plan_path)
    results = {s.name: _signal_result(plan, s, request, store) for s in plan.signals}
    run = conflict_retry(sleep)(complete_run, plan, results, store, instance_id=request.instance_id,
                                started_at=request.started_at)
    return RunOutcome(monitor=plan.monitor, run_id=run["run_id"], status=run["status"], breached=run["breached"],
                      run=store.location(f"{plan.prefix}/run.json"),
                      signals={name: sig["status"] for name, sig in run["signals"].items()})


__all__ = [
    "BatchOutcome", "BatchRef", "CONFLICT_ATTEMPTS", "CONFLICT_BUDGET_S", "ChunkOutcome", "CompleteRequest",
    "PlannedRun", "RunOutcome", "RunRequest", "SignalBatches", "SignalChunk", "batch_size_for", "compute_step",
    "conflict_retry", "features_per_activity", "finish_step", "part_path", "plan_step", "read_plan",
    "split_by_range",
]
