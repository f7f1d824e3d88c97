"""Which custom signal modules a run loads: the CUSTOM_SIGNAL_MODULES setting (none by default), the demo's."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from monitoring.definition import load_file
from monitoring.interfaces.cli import main
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore
from signals.custom import CustomRegistry

FIRE = datetime(2026, 3, 10, 3, 15, tzinfo=UTC)


@pytest.fixture
def demo(demo_folder: Callable[..., Path], custom_registry: CustomRegistry,
         monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo's folder, with nothing registered (as in a deployed app) and no setting."""
    custom_registry.signals.clear()
    monkeypatch.delenv("CUSTOM_SIGNAL_MODULES", raising=False)
    return demo_folder(end=FIRE, rows_per_day=200, training_rows=2000)


def test_without_the_setting_no_custom_signal_is_loaded(demo: Path, tmp_path: Path) -> None:
    _, run = run_local(load_file(demo / "monitor.yaml"), FIRE, LocalStore(tmp_path))
    coverage = run["signals"]["category-coverage"]
    assert coverage["status"] == "failed"
    assert "registered custom signals: none" in coverage["error"]
    assert "CUSTOM_SIGNAL_MODULES" in coverage["error"]


def test_the_setting_names_the_modules_a_run_loads(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   custom_registry: CustomRegistry) -> None:
    monkeypatch.setenv("CUSTOM_SIGNAL_MODULES", "examples.custom_signals")
    _, run = run_local(load_file(demo / "monitor.yaml"), FIRE, LocalStore(tmp_path))
    assert run["signals"]["category-coverage"]["status"] == "completed"
    assert {"mean_shift", "category_coverage"} <= set(custom_registry.signals)


@pytest.mark.slow
def test_the_demo_loads_the_example_module_itself(demo: Path, tmp_path: Path) -> None:
    code = main(["demo", "--out", str(tmp_path)], console=Console(width=200, file=io.StringIO()))
    assert code == 3  # the demo exits with its run's status: 3, the injected drift breached
    runs = list((tmp_path / "results").rglob("run.json"))
    assert len(runs) == 1
    assert json.loads(runs[0].read_text())["signals"]["category-coverage"]["status"] == "completed"
