"""Data segments filter both windows before every metric of every signal type, and results say which."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats

from monitoring.definition import LoadedMonitor, load_text
from monitoring.run.compute import compute_signal
from monitoring.run.finish import finalize_run
from monitoring.run.plan import plan_run
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 3, 10, tzinfo=UTC)
N = 2000


def _frame(rng: np.random.Generator, start: datetime, *, north_shift: float) -> pl.DataFrame:
    region = rng.choice(["north", "south"], size=N)
    north = region == "north"
    x = rng.normal(size=N) + np.where(north, north_shift, 0.0)
    code = np.where(north, np.arange(N) % 3, np.arange(N))  # few values inside the segment, many outside
    return pl.DataFrame({
        "ts": pl.Series([start + timedelta(minutes=int(m)) for m in rng.integers(0, 6 * 24 * 60, size=N)]),
        "id": [f"{start:%m%d}-{i}" for i in range(N)],
        "region": region,
        "vip": rng.random(N) < 0.3,
        "tier": rng.integers(1, 4, size=N).astype(np.float64),
        "x": pl.Series(np.where(rng.random(N) < np.where(north, 0.2, 0.0), np.nan, x)).fill_nan(None),
        "code": code,
    }).with_columns((pl.col("x").fill_null(0) > 0).cast(pl.Int8).alias("label"),
                    (pl.col("x").fill_null(0) > 0.1).cast(pl.Int8).alias("pred"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("segments")
    rng = np.random.default_rng(21)
    frames = {"ref": _frame(rng, FIRE - timedelta(days=40), north_shift=0.0),
              "prod": _frame(rng, FIRE - timedelta(days=6, hours=23), north_shift=1.0)}
    frames["truth"] = frames["prod"].select("id", "label")
    for name, frame in frames.items():
        (root / name).mkdir()
        frame.write_parquet(root / name / "part.parquet")
    return root


def _monitor(root: Path, segment: Mapping[str, Any], *, signals: tuple[str, ...] = ("drift", "quality", "attribution",
                                                                                       "performance", "custom")
             ) -> LoadedMonitor:
    prod = {"input_data": {"path": "prod/"}, "data_window": {"lookback_window_size": "P7D"},
            "data_column_names": {"timestamp": "ts", "id_columns": ["id"], "prediction": "pred"}}
    ref = {"input_data": {"path": "ref/"}, "data_column_names": {"target_column": "label"}}
    common = {"production_data": prod, "reference_data": ref, "data_segment": dict(segment)}
    every = {
        "drift": {"type": "data_drift", "features": ["x", "code"], **common},
        "quality": {"type": "data_quality", "features": ["x"], **common},
        "attribution": {"type": "feature_attribution_drift", "features": ["x", "tier"], **common},
        "performance": {"type": "model_performance", "data_segment": dict(segment), "model_type": "classification",
                        "production_data": {**prod, "data_column_names": {"timestamp": "ts", "prediction": "pred",
                                                                          "correlation_id": "id"}},
                        "reference_data": {"input_data": {"path": "truth/"}, "data_context": "ground_truth",
                                           "data_column_names": {"actual": "label", "correlation_id": "id"}}},
        "custom": {"type": "custom", "component_id": "mean_shift", "inputs": {"columns": ["x"]}, **common},
    }
    document = {"name": "seg", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                "create_monitor": {"monitoring_signals": {k: every[k] for k in signals}}}
    return load_text(json.dumps(document), "seg.yaml", base_dir=root)


def _run(loaded: LoadedMonitor, out: Path) -> dict[str, Any]:
    store = LocalStore(out)
    plan = plan_run(loaded, FIRE, store=store)
    return finalize_run(plan, {sp.name: compute_signal(sp, store=store) for sp in plan.signals}, store)


def _window(root: Path, name: str, rows: pl.Expr) -> pl.DataFrame:
    frame = pl.read_parquet(root / name / "part.parquet")
    if name == "prod":
        frame = frame.filter(pl.col("ts") >= FIRE - timedelta(days=7))
    return frame.filter(rows)


@pytest.mark.parametrize("region", ["north", "south"])
def test_every_signal_type_sees_only_the_segment(data: Path, tmp_path: Path, region: str) -> None:
    run = _run(_monitor(data, {"feature_name": "region", "feature_values": [region]}), tmp_path)
    rows = pl.col("region") == region
    prod, ref = _window(data, "prod", rows), _window(data, "ref", rows)
    for name, signal in run["signals"].items():
        assert signal["status"] == "completed", name
        assert signal["segment"] == {"feature_name": "region", "feature_values": [region]}
        assert f"segment: region in ['{region}']" in signal["notes"]
    drift = run["signals"]["drift"]["features"]["x"]
    a, b = ref["x"].drop_nulls().to_numpy(), prod["x"].drop_nulls().to_numpy()
    assert drift["metrics"]["normalized_wasserstein_distance"]["value"] == pytest.approx(
        stats.wasserstein_distance(a, b) / np.std(a, ddof=1))
    assert drift["breached"] is (region == "north")
    assert run["signals"]["drift"]["features"]["code"]["kind"] == "numerical"  # inferred on the whole reference
    quality = run["signals"]["quality"]["features"]["x"]
    assert quality["row_counts"] == {"reference": ref.height, "production": prod.height}
    assert quality["metrics"]["null_value_rate"]["value"] == pytest.approx(prod["x"].null_count() / prod.height)
    performance = run["signals"]["performance"]["features"]["classification"]
    assert performance["row_counts"]["production"] == prod.height
    assert performance["metrics"]["accuracy"]["value"] == pytest.approx(float((prod["pred"] == prod["label"]).mean()))
    attribution = run["signals"]["attribution"]["features"]["model"]
    assert attribution["row_counts"] == {"reference": ref.height, "production": prod.height}
    custom = run["signals"]["custom"]["features"]["x"]["metrics"]["standardized_mean_difference"]
    assert custom["value"] == pytest.approx(abs(b.mean() - a.mean()) / np.std(a, ddof=1))


@pytest.mark.parametrize(("segment", "rows"), [
    ({"feature_name": "vip", "feature_values": [True]}, pl.col("vip")),
    ({"feature_name": "vip", "feature_values": ["false"]}, ~pl.col("vip")),
    ({"feature_name": "tier", "feature_values": [1, "3"]}, pl.col("tier").is_in([1.0, 3.0])),
    ({"feature_name": "region", "feature_values": ["south", "west"]}, pl.col("region") == "south"),
])
def test_segment_values_compare_in_the_columns_type(data: Path, tmp_path: Path, segment: dict[str, Any],
                                                    rows: pl.Expr) -> None:
    run = _run(_monitor(data, segment, signals=("quality",)), tmp_path)
    prod, ref = _window(data, "prod", rows), _window(data, "ref", rows)
    assert prod.height > 0
    assert run["signals"]["quality"]["features"]["x"]["row_counts"] == {"reference": ref.height,
                                                                        "production": prod.height}


def test_an_empty_segment_skips_with_the_reason(data: Path, tmp_path: Path) -> None:
    run = _run(_monitor(data, {"feature_name": "region", "feature_values": ["east"]}, signals=("drift", "custom")),
               tmp_path)
    for signal in run["signals"].values():
        assert signal["status"] == "skipped"
        assert signal["error"] == "segment region in ['east'] has no rows in the production window"


def test_a_segment_column_that_does_not_exist_fails_the_signal(data: Path, tmp_path: Path) -> None:
    run = _run(_monitor(data, {"feature_name": "country", "feature_values": ["x"]}, signals=("drift", "performance")),
               tmp_path)
    for signal in run["signals"].values():
        assert signal["status"] == "failed"
        assert signal["error"] == "data_segment column `country` is not in the production data"
