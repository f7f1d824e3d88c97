"""Top-N feature selection by importance, and the importance cache in the results store."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import monitoring.run.importance_cache as importance_cache
from monitoring.definition import LoadedMonitor, load_text
from monitoring.run.compute import compute_signal
from monitoring.run.plan import RunPlan, plan_run
from monitoring.storage.local import LocalStore
from signals.importance import feature_importance
from signals.kinds import infer_kinds

FIRE = datetime(2026, 3, 10, tzinfo=UTC)
FEATURES = [f"f{i:02d}" for i in range(12)]


def _frame(rng: np.random.Generator, n: int, start: datetime) -> pl.DataFrame:
    columns = {f: rng.normal(size=n) for f in FEATURES}
    weights = np.linspace(3, 0, len(FEATURES)) ** 2  # f00 matters most, f11 not at all
    score = sum(w * columns[f] for w, f in zip(weights, FEATURES, strict=True))
    return pl.DataFrame({
        "ts": [start + timedelta(minutes=int(m)) for m in rng.integers(0, 6 * 24 * 60, size=n)],
        **columns, "label": (score > 0).astype(np.int8),
    }).with_columns((pl.col("f00") + pl.col("f01") > 0).cast(pl.Int8).alias("pred"))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(31)
    for name, start in (("ref", FIRE - timedelta(days=50)), ("prod", FIRE - timedelta(days=6, hours=23))):
        (tmp_path / name).mkdir()
        _frame(rng, 1200, start).write_parquet(tmp_path / name / "part.parquet")
    return tmp_path


def _monitor(root: Path, signal: Mapping[str, Any]) -> LoadedMonitor:
    base = {
        "production_data": {"input_data": {"path": "prod/"}, "data_window": {"lookback_window_size": "P7D"},
                            "data_column_names": {"timestamp": "ts", "prediction": "pred"}},
        "reference_data": {"input_data": {"path": "ref/"}, "data_context": "training",
                           "data_column_names": {"target_column": "label"}},
    }
    document = {"name": "imp", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                "create_monitor": {"monitoring_signals": {"s": base | dict(signal)}}}
    return load_text(json.dumps(document), "imp.yaml", base_dir=root)


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Targets of every importance fit the runner makes."""
    calls: list[str] = []

    def counting(frame: pl.DataFrame, **kwargs: Any) -> Any:
        calls.append(kwargs["target"])
        return feature_importance(frame, **kwargs)

    monkeypatch.setattr(importance_cache, "feature_importance", counting)
    return calls


def test_top_n_features_are_the_most_important_for_the_label(data: Path, fits: list[str]) -> None:
    plan = plan_run(_monitor(data, {"type": "data_drift", "features": {"top_n_feature_importance": 3}}), FIRE)
    signal = plan.signals[0]
    assert signal.error is None
    reference = pl.read_parquet(data / "ref" / "part.parquet")
    expected = feature_importance(reference, target="label", features=FEATURES,
                                  kinds=infer_kinds(reference, FEATURES)).ranked()[:3]  # type: ignore[arg-type]
    assert signal.features == expected
    assert set(expected) <= {"f00", "f01", "f02", "f03"}
    assert any(note.startswith("top 3 of 12 features by importance for `label`") for note in signal.notes)
    assert fits == ["label"]


def test_training_reference_with_a_label_defaults_to_the_top_ten(data: Path, fits: list[str]) -> None:
    plan = plan_run(_monitor(data, {"type": "data_quality"}), FIRE)
    assert len(plan.signals[0].features) == 10
    assert "f11" not in plan.signals[0].features
    explicit = plan_run(_monitor(data, {"type": "data_quality", "features": "all_features"}), FIRE)
    assert explicit.signals[0].features == FEATURES


def test_importance_is_cached_per_reference_fingerprint(data: Path, tmp_path: Path, fits: list[str]) -> None:
    store = LocalStore(tmp_path / "results")
    loaded = _monitor(data, {"type": "data_drift", "features": {"top_n_feature_importance": 2}})
    first = plan_run(loaded, FIRE, store=store)
    second = plan_run(loaded, FIRE + timedelta(days=1), store=store)
    assert fits == ["label"]
    assert first.signals[0].features == second.signals[0].features
    assert any("cached" in n for n in second.signals[0].notes)
    cached = store.list("imp/cache/")
    assert len(cached) == 1
    assert cached[0].startswith("imp/cache/importance-")
    file = data / "ref" / "part.parquet"
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the reference was rewritten
    plan_run(loaded, FIRE, store=store)
    assert fits == ["label", "label"]
    assert len(store.list("imp/cache/")) == 2


def test_a_corrupt_cache_entry_is_recomputed(data: Path, tmp_path: Path, fits: list[str]) -> None:
    store = LocalStore(tmp_path / "results")
    loaded = _monitor(data, {"type": "data_drift", "features": {"top_n_feature_importance": 2}})
    plan_run(loaded, FIRE, store=store)
    (path,) = store.list("imp/cache/")
    store.write_bytes(path, b"{not json")
    plan = plan_run(loaded, FIRE, store=store)
    assert plan.signals[0].error is None
    assert fits == ["label", "label"]


def test_top_n_without_a_label_is_a_clear_error(data: Path) -> None:
    loaded = _monitor(data, {"type": "data_drift", "features": {"top_n_feature_importance": 2},
                             "reference_data": {"input_data": {"path": "ref/"}}})
    signal = plan_run(loaded, FIRE).signals[0]
    assert signal.error is not None
    assert "needs the label: set reference_data.data_column_names.target_column" in signal.error
    result = compute_signal(signal)
    assert result.status == "failed"
    assert result.error == signal.error


def test_attribution_drift_reuses_both_cached_importances_across_retries(data: Path, tmp_path: Path,
                                                                          fits: list[str]) -> None:
    store = LocalStore(tmp_path / "results")
    plan = plan_run(_monitor(data, {"type": "feature_attribution_drift"}), FIRE, store=store)
    first = compute_signal(plan.signals[0], store=store)
    assert first.status == "completed"
    assert sorted(fits) == ["label", "pred"]
    again = RunPlan.model_validate(json.loads(json.dumps(plan.model_dump(mode="json"))))  # as Durable passes it
    second = compute_signal(again.signals[0], features=FEATURES[:2], store=store)  # a batch: ignored, not per feature
    assert second == first
    assert sorted(fits) == ["label", "pred"]
    table = first.features["model"].details["importance"]
    assert {row["feature"] for row in table} == set(FEATURES)
    assert [row["feature"] for row in table][:2] == ["f00", "f01"]
