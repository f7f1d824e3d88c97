"""A run reads a window once for the signals that read the same data and columns, with equal results."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitoring.data.refs import DataRef
from monitoring.definition import load_file
from monitoring.run.local import run_local
from monitoring.run.plan import plan_run
from monitoring.run.shared_windows import SharedWindows, window_keys
from monitoring.storage.local import LocalStore
from tests.monitoring.data.test_ranges import assert_close

FIRE = datetime(2026, 3, 10, 3, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(demo_folder: Callable[..., Path]) -> Path:
    return demo_folder(end=FIRE, rows_per_day=800, training_rows=5000)


def _counting(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str, tuple[str, ...] | None]]:
    reads: Counter[tuple[str, str, tuple[str, ...] | None]] = Counter()
    real = DataRef.read_window

    def read_window(self: DataRef, columns: list[str] | None = None) -> Any:
        reads[(self.uri, json.dumps(self.window), None if columns is None else tuple(columns))] += 1
        return real(self, columns)

    monkeypatch.setattr(DataRef, "read_window", read_window)
    return reads


def _documents(store: LocalStore, prefix: str, names: list[str]) -> dict[str, Any]:
    skip = ("duration_s", "started_at", "finished_at")
    return {n: {k: v for k, v in json.loads(store.read_bytes(f"{prefix}/signals/{n}.json") or b"{}").items()
                if k not in skip} for n in names}


def test_drift_and_quality_read_their_common_windows_once_with_unchanged_results(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitoring.run import local

    loaded = load_file(demo / "monitor.yaml")
    plan = plan_run(loaded, FIRE)
    keys = Counter(k for sp in plan.signals for k in {k for _, k in window_keys(sp)})
    assert sum(1 for n in keys.values() if n > 1) == 2  # data drift and data quality: both sides in common
    reads = _counting(monkeypatch)
    _, shared = run_local(loaded, FIRE, LocalStore(tmp_path / "shared"))
    assert max(reads.values()) == 1
    shared_reads = sum(reads.values())
    reads.clear()
    monkeypatch.setattr(local, "SharedWindows", lambda plans, budget_mb: SharedWindows(plans, budget_mb=0))
    _, alone = run_local(loaded, FIRE, LocalStore(tmp_path / "alone"))  # each signal reads its own windows
    assert sum(reads.values()) == shared_reads + 2
    assert max(reads.values()) == 2
    names = [sp.name for sp in plan.signals]
    assert_close(_documents(LocalStore(tmp_path / "shared"), plan.prefix, names),
                 _documents(LocalStore(tmp_path / "alone"), plan.prefix, names))
    assert shared["breached"] == alone["breached"]


def test_shared_windows_are_released_after_their_last_user_and_kept_within_the_budget(demo: Path) -> None:
    plan = plan_run(load_file(demo / "monitor.yaml"), FIRE)
    windows = SharedWindows(plan.signals, budget_mb=1024)
    assert windows.shared == 2
    drift = next(sp for sp in plan.signals if sp.name == "data-drift")
    quality = next(sp for sp in plan.signals if sp.name == "data-quality")
    first = [windows.read(ref, list(key[1] or [])) for ref, key in window_keys(drift)]
    windows.release("data-drift")
    assert windows.shared == 2  # data quality has not read them yet
    again = [windows.read(ref, list(key[1] or [])) for ref, key in window_keys(quality)]
    assert all(a is b for a, b in zip(first, again, strict=True))  # the same frames, read once
    assert windows.reads == 2
    windows.release("data-quality")
    assert windows.shared == 0
    tiny = SharedWindows(plan.signals, budget_mb=0.01)  # no window fits: each signal reads its own
    assert tiny.shared == 0
