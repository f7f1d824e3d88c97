"""``finish_step`` against a history that other runs keep changing: it backs off and does not give up first."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from functions import runs
from monitoring.definition import load_file
from monitoring.errors import WriteConflict
from monitoring.names import instance_id
from monitoring.run import durable
from monitoring.run.durable import BatchRef, CompleteRequest, compute_step, finish_step
from monitoring.run.plan import plan_run
from monitoring.storage.base import write_json
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 6, 1, 3, 15, tzinfo=UTC)


class ConflictingStore(LocalStore):
    """A local store whose first ``conflicts`` writes of history.parquet raise ``WriteConflict``."""

    def __init__(self, root: Path, conflicts: int) -> None:
        super().__init__(root)
        self.conflicts = conflicts
        self.raised = 0

    def write_bytes(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        if path.endswith("/history.parquet") and self.raised < self.conflicts:
            self.raised += 1
            raise WriteConflict(f"{path} changed since it was read (injected conflict {self.raised})")
        super().write_bytes(path, data, content_type=content_type)


@pytest.fixture
def planned(demo_folder: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, CompleteRequest]:
    """A demo run planned and computed into ``<demo>/results``; what is left is the ``alert`` activity."""
    for name in ("ACS_ENDPOINT", "ACS_CONNECTION_STRING", "MONITORING_OUTBOX", "ALERT_DEFAULT_RECIPIENTS"):
        monkeypatch.delenv(name, raising=False)
    demo = demo_folder(end=FIRE, rows_per_day=300, training_rows=2000)
    store = LocalStore(demo / "results")
    plan = plan_run(load_file(demo / "monitor.yaml"), FIRE, store=store)
    path = f"{plan.prefix}/plan.json"
    write_json(store, path, plan.model_dump(mode="json"))
    for signal in plan.signals:
        compute_step(BatchRef(plan_path=path, signal=signal.name, batch=0, batches=1, features_per_activity=1000),
                     store=store)
    return demo, CompleteRequest(instance_id=instance_id(plan.monitor, FIRE), plan_path=path, started_at=FIRE,
                                 features_per_activity=1000)


def _history_rows(demo: Path) -> int:
    files = list((demo / "results").glob("*/history.parquet"))
    return pl.read_parquet(io.BytesIO(files[0].read_bytes())).height if files else 0


def test_conflicts_are_retried_with_growing_jittered_waits(planned: tuple[Path, CompleteRequest]) -> None:
    demo, request = planned
    store = ConflictingStore(demo / "results", conflicts=8)
    waits: list[float] = []
    outcome = finish_step(request, store=store, sleep=waits.append)
    assert outcome.status in ("completed", "partial")
    assert store.raised == 8
    assert len(waits) == 8
    assert _history_rows(demo) > 0
    assert all(0 <= w <= 5.0 for w in waits)
    assert len(set(waits)) > 1  # jittered, not one fixed interval


def test_the_attempt_bound_is_explicit_and_the_last_conflict_is_raised(planned: tuple[Path, CompleteRequest]
                                                                       ) -> None:
    demo, request = planned
    store = ConflictingStore(demo / "results", conflicts=10_000)
    waits: list[float] = []
    with pytest.raises(WriteConflict, match=f"injected conflict {durable.CONFLICT_ATTEMPTS}"):
        finish_step(request, store=store, sleep=waits.append)
    assert store.raised == durable.CONFLICT_ATTEMPTS
    assert len(waits) == durable.CONFLICT_ATTEMPTS - 1
    assert _history_rows(demo) == 0


def test_the_in_activity_budget_outlasts_durables_retry_of_the_activity() -> None:
    retry: Any = runs.RETRY
    durable_span_s = (retry.max_number_of_attempts - 1) * retry.first_retry_interval_in_milliseconds / 1000
    assert durable_span_s < durable.CONFLICT_BUDGET_S
    # the waits alone, at their expected size, reach past Durable's span before the attempts run out
    expected_waits = sum(min(5.0, 0.2 * 2 ** n) / 2 for n in range(1, durable.CONFLICT_ATTEMPTS))
    assert expected_waits > durable_span_s


@pytest.mark.parametrize("error", [ConnectionResetError("connection reset by peer"), TimeoutError("read timed out")])
def test_a_transient_error_in_compute_fails_the_activity_so_durable_retries_it(
        planned: tuple[Path, CompleteRequest], monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The real compute activity, not an injected fault: a network error while reading the data must
    propagate (Durable retries the activity) instead of becoming the signal's recorded result."""
    from monitoring.data.refs import DataRef

    demo, request = planned
    store = LocalStore(demo / "results")

    def flaky(self: DataRef, columns: list[str] | None = None) -> Any:
        raise error

    monkeypatch.setattr(DataRef, "read_window", flaky)
    ref = BatchRef(plan_path=request.plan_path, signal="data-drift", batch=0, batches=1, features_per_activity=1000)
    with pytest.raises(type(error)):
        compute_step(ref, store=store)
    monkeypatch.undo()
    assert compute_step(ref, store=store).status == "completed"  # the retry succeeds once the network is back


def test_a_data_error_is_the_signals_result_not_a_retry(planned: tuple[Path, CompleteRequest],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from monitoring.data.refs import DataRef
    from monitoring.errors import DataError

    demo, request = planned

    def broken(self: DataRef, columns: list[str] | None = None) -> Any:
        raise DataError("the production window has no readable file")

    monkeypatch.setattr(DataRef, "read_window", broken)
    ref = BatchRef(plan_path=request.plan_path, signal="data-drift", batch=0, batches=1, features_per_activity=1000)
    outcome = compute_step(ref, store=LocalStore(demo / "results"))
    assert outcome.status == "failed"
    assert "no readable file" in (outcome.error or "")
