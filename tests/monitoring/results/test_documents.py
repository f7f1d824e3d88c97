"""The results contract: run.json fields, run status, and history without duplicates."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from monitoring.errors import MonitoringError
from monitoring.names import run_id, safe_path
from monitoring.results.documents import build_run, run_status
from monitoring.results.history import write_history
from monitoring.storage.local import LocalStore
from signals.results import FeatureResult, SignalResult, judge

FIRE = datetime(2026, 2, 1, 3, 15, tzinfo=UTC)


def _signal(value: float, threshold: float | None) -> SignalResult:
    feature = FeatureResult(kind="numerical", row_counts={"reference": 10, "production": 5},
                            metrics={"normalized_wasserstein_distance": judge(value, threshold,
                                                                              greater_is_better=False),
                                     "two_sample_kolmogorov_smirnov_test": judge(0.5, None, greater_is_better=True)})
    return SignalResult(type="data_drift", status="completed", features={"amount": feature},
                        row_counts={"reference": 10, "production": 5})


def _run(value: float, fire: datetime = FIRE, *, alert_enabled: bool = True) -> dict:
    ctx = {"alert_enabled": alert_enabled, "production_window": {"start": "a", "end": "b"}, "reference_window": {}}
    return build_run(monitor="m", fire_time=fire, definition_version="v1",
                     signals={"drift": (_signal(value, 0.1), ctx),
                              "broken": (SignalResult(type="data_quality", status="failed", error="boom"), ctx)})


def test_run_json_has_the_contract_fields() -> None:
    run = _run(0.3)
    assert run["run_id"] == "20260201T0315Z" == run_id(FIRE)
    assert run["status"] == "partial"
    assert run["breached"] is True
    drift = run["signals"]["drift"]
    assert {"type", "status", "error", "breached", "production_window", "reference_window", "row_counts",
            "features"} <= drift.keys()
    metrics = drift["features"]["amount"]["metrics"]
    assert metrics["normalized_wasserstein_distance"] == {
        "value": 0.3, "threshold": 0.1, "direction": "less_is_better", "breached": True, "reason": None}
    assert metrics["two_sample_kolmogorov_smirnov_test"]["threshold"] is None
    assert metrics["two_sample_kolmogorov_smirnov_test"]["breached"] is None
    assert run["signals"]["broken"]["error"] == "boom"


def test_alert_disabled_signal_does_not_make_the_run_breached() -> None:
    assert _run(0.3, alert_enabled=False)["breached"] is False


@pytest.mark.parametrize(("statuses", "expected"), [
    (["completed", "skipped"], "completed"), (["completed", "failed"], "partial"), (["failed"], "failed"),
    (["unsupported", "completed"], "completed"), ([], "completed")])
def test_run_status(statuses: list[str], expected: str) -> None:
    assert run_status(statuses) == expected


def test_rerunning_a_fire_time_replaces_its_history_rows(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_history(store, "m", _run(0.3))
    write_history(store, "m", _run(0.2, datetime(2026, 2, 2, 3, 15, tzinfo=UTC)))
    history = write_history(store, "m", _run(0.05))  # the first fire time again, new value
    stored = pl.read_parquet(io.BytesIO(store.read_bytes("m/history.parquet")))
    assert stored.equals(history)
    assert stored.height == 4  # 2 runs x 1 feature x 2 metrics; the failed signal has no rows
    first = stored.filter((pl.col("fire_time") == FIRE) & (pl.col("metric") == "normalized_wasserstein_distance"))
    assert first["value"].to_list() == [0.05]
    assert first["breached"].to_list() == [False]


def test_store_paths_cannot_escape_and_writes_are_atomic(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "results")
    for bad in ("../x", "/etc/passwd", "a/../../b", "", "a//b", "a/.hidden"):
        with pytest.raises(MonitoringError):
            safe_path(bad)
    store.write_bytes("m/r/run.json", b"{}")
    store.write_bytes("m/r/run.json", b'{"v": 2}')
    assert store.read_bytes("m/r/run.json") == b'{"v": 2}'
    assert store.list("m/") == ["m/r/run.json"]
    assert store.read_bytes("m/none.json") is None


def test_large_documents_are_stored_compact_and_read_back_equal(tmp_path: Path) -> None:
    import json

    from monitoring.storage.base import PRETTY_MAX_BYTES, read_json, write_json

    store = LocalStore(tmp_path)
    small = _run(0.3)
    large = {**small, "signals": {f"s{i}": small["signals"]["drift"] for i in range(PRETTY_MAX_BYTES // 400)}}
    write_json(store, "small.json", small)
    write_json(store, "large.json", large)
    assert (tmp_path / "small.json").read_text().startswith('{\n  "monitor"'), "a small document stays indented"
    compact = (tmp_path / "large.json").read_text()
    assert "\n" not in compact
    assert len(compact) > PRETTY_MAX_BYTES
    assert read_json(store, "small.json") == json.loads(json.dumps(small))
    assert read_json(store, "large.json") == json.loads(json.dumps(large))
