"""Bounded-memory local runs: column groups and value ranges give the in-memory run's results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitoring.definition import load_file
from monitoring.run import bounded
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore
from tests.monitoring.data.test_ranges import assert_close

FIRE = datetime(2026, 3, 10, 3, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(demo_folder: Callable[..., Path]) -> Path:
    return demo_folder(end=FIRE, rows_per_day=2000, training_rows=20_000)


def _signals(run: dict[str, Any]) -> dict[str, Any]:
    return {name: {k: v for k, v in signal.items() if k not in ("duration_s", "started_at", "finished_at")}
            for name, signal in run["signals"].items()}


def test_tiny_budget_gives_the_in_memory_run(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_file(demo / "monitor.yaml")
    _, whole = run_local(loaded, FIRE, LocalStore(tmp_path / "whole"), memory_mb=100_000)
    groups: list[list[str]] = []
    ranged: list[str] = []
    compute, split = bounded.compute_signal, bounded.split_numerical_drift

    def spy_compute(plan: Any, **kwargs: Any) -> Any:
        groups.append(list(kwargs.get("features") or []))
        return compute(plan, **kwargs)

    def spy_split(reference: Any, production: Any, summary: Any, **kwargs: Any) -> Any:
        ranged.append(summary.feature)
        assert summary.ranges >= 2
        return split(reference, production, summary, **kwargs)

    monkeypatch.setattr(bounded, "compute_signal", spy_compute)
    monkeypatch.setattr(bounded, "split_numerical_drift", spy_split)
    _, small = run_local(loaded, FIRE, LocalStore(tmp_path / "small"), memory_mb=1)
    assert "amount" in ranged and "fraud_score" in ranged  # data drift and prediction drift split by value range
    assert groups and max(len(g) for g in groups) == 1  # everything else one column at a time
    assert_close(_signals(small), _signals(whole))
    assert small["breached"] == whole["breached"]


def test_group_width_follows_the_activity_model() -> None:
    # bench/activity_memory.py's model: 105 + 130 M + 11 M f MiB over M million rows of both sides
    assert bounded.group_width(2_000_000, 105 + 260 + 22 * 30) == 30
    assert bounded.group_width(2_000_000, 105 + 260 + 22 * 30 - 1) == 29
    assert bounded.group_width(2_000_000, 300) == 0
