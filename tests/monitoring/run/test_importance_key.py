"""The importance cache key changes with every input the importance depends on, window and segment included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from monitoring.data.refs import DataRef
from monitoring.run.importance_cache import importance_fingerprint
from signals.importance import ImportanceConfig

BASE: dict[str, Any] = {"target": "y", "features": ["a", "b"], "overrides": {}, "task": None, "segment": None}


@pytest.fixture
def folder(tmp_path: Path) -> str:
    pl.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "y": [0, 1]}).write_parquet(tmp_path / "x.parquet")
    return str(tmp_path)


def _key(uri: str, *, window: dict[str, str | None] | None = None, **changes: Any) -> str:
    ref = DataRef(uri=uri, window=window or {"start": "2026-01-01T00:00:00Z", "end": "2026-01-08T00:00:00Z"})
    return importance_fingerprint(ref, config=ImportanceConfig(), **{**BASE, **changes})


def test_the_same_inputs_give_the_same_key(folder: str) -> None:
    assert _key(folder) == _key(folder)


@pytest.mark.parametrize("change", [
    {"window": {"start": "2026-01-08T00:00:00Z", "end": "2026-01-15T00:00:00Z"}},
    {"window": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-09T00:00:00Z"}},
    {"segment": {"column": "region", "value": "EU"}},
    {"segment": {"column": "region", "value": "US"}},
    {"target": "z"},
    {"features": ["a"]},
    {"task": "regression"},
])
def test_any_changed_input_gives_another_key(folder: str, change: dict[str, Any]) -> None:
    assert _key(folder, **change) != _key(folder)


def test_two_segments_of_one_window_never_share_an_entry(folder: str) -> None:
    keys = {_key(folder, segment={"column": "region", "value": v}) for v in ("EU", "US", "APAC")}
    assert len(keys) == 3
