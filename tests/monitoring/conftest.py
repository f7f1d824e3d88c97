"""Shared fixtures: a folder with the example monitor and seeded demo data beside it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from examples.generate_fraud_data import generate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-monitor.yaml"


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Make a new folder holding ``monitor.yaml`` (the example) and its ``data/`` ending at ``end``."""

    def make(*, end: datetime, rows_per_day: int, training_rows: int) -> Path:
        root = tmp_path_factory.mktemp("demo")
        shutil.copyfile(EXAMPLE, root / "monitor.yaml")
        generate(root / "data", end=end, rows_per_day=rows_per_day, training_rows=training_rows)
        return root

    return make
