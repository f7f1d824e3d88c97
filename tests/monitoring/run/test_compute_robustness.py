"""Awkward inputs through the whole runner: every signal type completes or says why, and run.json never
holds NaN or inf. A signal that raises fails alone, with a one-line reason."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from monitoring.definition import LoadedMonitor, load_text
from monitoring.run.compute import compute_signal
from monitoring.run.finish import finalize_run
from monitoring.run.plan import RunPlan, plan_run
from monitoring.storage.local import LocalStore
from signals.custom import CustomRegistry, register_custom_signal

FIRE = datetime(2026, 3, 10, tzinfo=UTC)
NAIVE_FIRE = FIRE.replace(tzinfo=None)
FEATURES = ["all_null", "constant", "unseen", "température.max", "città", "when", "ref_only"]


def _frames(n: int, seed: int, *, many: bool = False) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Reference, production and ground truth with every awkward column of the corpus."""
    rng = np.random.default_rng(seed)

    def times(start: datetime) -> pl.Series:  # timestamps without a time zone
        minutes = rng.integers(0, 6 * 24 * 60, size=n).astype("timedelta64[m]")
        return pl.Series(np.datetime64(start, "us") + minutes)

    def base(start: datetime, categories: list[str]) -> dict[str, Any]:
        return {
            "ts": times(start),
            "id": [f"{seed}-{start:%d}-{i}" for i in range(n)],
            "all_null": pl.Series([None] * n, dtype=pl.Float64),
            "constant": [5.0] * n,
            "unseen": rng.choice(categories, size=n),
            "température.max": rng.normal(20, 5, size=n),
            "città": rng.choice(["Zürich", "Köln", "東京"], size=n),
            "when": times(start - timedelta(days=400)),
        }

    ref = pl.DataFrame(base(NAIVE_FIRE - timedelta(days=60), ["a", "b"]) | {"ref_only": rng.integers(0, 9, size=n)})
    ref = ref.with_columns((pl.col("température.max") > 20).cast(pl.Int8).alias("label"))
    prod = pl.DataFrame(base(NAIVE_FIRE - timedelta(days=6, hours=23), ["x", "y"]))
    prod = prod.with_columns((pl.col("température.max") > 21).cast(pl.Int8).alias("pred"))
    if many:
        ref = ref.with_columns(pl.format("r{}", pl.int_range(n)).alias("many"))
        prod = prod.with_columns(pl.format("r{}", pl.int_range(n) + n // 2).alias("many"))
    truth = prod.select("id", (1 - pl.col("pred")).alias("label"))
    return ref, prod, truth


def _side(path: str, *, window: bool, **columns: Any) -> dict[str, Any]:
    side: dict[str, Any] = {"input_data": {"path": path}, "data_column_names": {"timestamp": "ts", **columns}}
    if window:
        side["data_window"] = {"lookback_window_size": "P7D"}
    return side


def _monitor(tmp_path: Path, features: list[str], extra: Mapping[str, Any] | None = None) -> LoadedMonitor:
    prod = _side("prod/", window=True, id_columns=["id"], prediction="pred")
    ref = _side("ref/", window=False, target_column="label")
    common = {"production_data": prod, "reference_data": ref}
    signals: dict[str, Any] = {
        "drift": {"type": "data_drift", "features": features, **common},
        "quality": {"type": "data_quality", "features": features, **common},
        "attribution": {"type": "feature_attribution_drift", "features": features, **common},
        "performance": {"type": "model_performance",
                        "production_data": _side("prod/", window=True, prediction="pred", correlation_id="id"),
                        "reference_data": {"input_data": {"path": "truth/"}, "data_context": "ground_truth",
                                           "data_column_names": {"actual": "label", "correlation_id": "id"}},
                        "model_type": "classification"},
        "custom": {"type": "custom", "component_id": "mean_shift", "inputs": {"columns": ["température.max"]},
                   **common},
        **(extra or {}),
    }
    document = {"name": "robust", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                "create_monitor": {"monitoring_signals": signals}}
    return load_text(json.dumps(document), "robust.yaml", base_dir=tmp_path)


def _write(tmp_path: Path, ref: pl.DataFrame, prod: pl.DataFrame, truth: pl.DataFrame) -> None:
    for name, frame in (("ref", ref), ("prod", prod), ("truth", truth)):
        (tmp_path / name).mkdir(exist_ok=True)
        frame.write_parquet(tmp_path / name / "part.parquet")


def _run(loaded: LoadedMonitor, tmp_path: Path) -> tuple[RunPlan, dict[str, Any]]:
    store = LocalStore(tmp_path / "results")
    plan = plan_run(loaded, FIRE, store=store)
    results = {sp.name: compute_signal(sp, store=store) for sp in plan.signals}
    return plan, finalize_run(plan, results, store)


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)


def _assert_clean(tmp_path: Path, run: dict[str, Any]) -> None:
    """Every number in run.json and the signal documents is finite (json.loads would accept NaN)."""
    folder = tmp_path / "results" / "robust" / run["run_id"]
    for file in [folder / "run.json", *sorted((folder / "signals").glob("*.json"))]:
        document = json.loads(file.read_text())
        assert all(math.isfinite(x) for x in _numbers(document)), file.name


def test_awkward_corpus_completes_every_signal_with_reasons(tmp_path: Path) -> None:
    ref, prod, truth = _frames(300, seed=1)
    _write(tmp_path, ref, prod, truth)
    _, run = _run(_monitor(tmp_path, FEATURES), tmp_path)
    _assert_clean(tmp_path, run)
    statuses = {name: s["status"] for name, s in run["signals"].items()}
    assert statuses == dict.fromkeys(["drift", "quality", "attribution", "performance", "custom"], "completed")
    drift = run["signals"]["drift"]["features"]
    assert drift["all_null"]["metrics"]["normalized_wasserstein_distance"]["reason"] == "no finite values in reference"
    assert drift["constant"]["metrics"]["normalized_wasserstein_distance"]["value"] == 0.0
    assert drift["unseen"]["metrics"]["jensen_shannon_distance"]["value"] == pytest.approx(1.0)
    assert drift["unseen"]["breached"] is True
    assert drift["température.max"]["metrics"]["normalized_wasserstein_distance"]["value"] is not None
    assert drift["città"]["kind"] == "categorical"
    assert drift["when"]["kind"] == "categorical"
    assert drift["ref_only"]["metrics"]["missing"]["reason"] == "column `ref_only` is not in the production data"
    quality = run["signals"]["quality"]["features"]
    assert quality["all_null"]["metrics"]["null_value_rate"] == {
        "value": 1.0, "threshold": 1.0, "direction": "less_is_better", "breached": False, "reason": None,
        "p_value": 1.0, "significant": False}  # the gate (on by default): equal rates are never significant
    assert "undefined" in quality["all_null"]["metrics"]["out_of_bounds_rate"]["reason"]
    assert quality["unseen"]["metrics"]["out_of_bounds_rate"]["value"] == 1.0
    assert quality["ref_only"]["metrics"]["missing"]["value"] is None
    attribution = run["signals"]["attribution"]
    assert "feature `ref_only` is not in the production data and was left out" in attribution["notes"]
    importance = attribution["features"]["model"]
    assert importance["metrics"]["normalized_discounted_cumulative_gain"]["value"] is not None
    table = json.loads((tmp_path / "results" / "robust" / run["run_id"] / "signals" / "attribution.json")
                       .read_text())["features"]["model"]["details"]["importance"]
    assert {row["feature"] for row in table} == set(FEATURES) - {"ref_only"}
    performance = run["signals"]["performance"]["features"]["classification"]["metrics"]
    assert performance["accuracy"]["value"] == pytest.approx(
        float((prod["pred"] == 1 - prod["pred"]).mean()))  # every label is the opposite class
    custom = run["signals"]["custom"]["features"]["température.max"]["metrics"]["standardized_mean_difference"]
    assert custom["value"] is not None


def test_a_single_row_on_each_side(tmp_path: Path) -> None:
    ref, prod, truth = _frames(1, seed=2)
    _write(tmp_path, ref, prod, truth)
    _, run = _run(_monitor(tmp_path, FEATURES), tmp_path)
    _assert_clean(tmp_path, run)
    assert {s["status"] for s in run["signals"].values()} == {"completed"}
    ndcg = run["signals"]["attribution"]["features"]["model"]["metrics"]["normalized_discounted_cumulative_gain"]
    assert ndcg["value"] is None
    assert "no feature can explain it" in ndcg["reason"]
    drift = run["signals"]["drift"]["features"]
    assert drift["température.max"]["metrics"]["two_sample_kolmogorov_smirnov_test"]["value"] is not None


def test_a_hundred_thousand_distinct_categories(tmp_path: Path) -> None:
    n = 100_000
    ref, prod, truth = _frames(n, seed=3, many=True)
    _write(tmp_path, ref, prod, truth)
    _, run = _run(_monitor(tmp_path, ["many", "città"]), tmp_path)
    _assert_clean(tmp_path, run)
    assert {s["status"] for s in run["signals"].values()} == {"completed"}
    many = run["signals"]["drift"]["features"]["many"]
    assert many["metrics"]["jensen_shannon_distance"]["value"] == pytest.approx(
        math.sqrt(0.5), rel=1e-9)  # half the mass on each side is unseen on the other: JS^2 = 1/2
    assert run["signals"]["quality"]["features"]["many"]["metrics"]["out_of_bounds_rate"]["value"] == 0.5
    document = json.loads((tmp_path / "results" / "robust" / run["run_id"] / "signals" / "drift.json").read_text())
    assert len(document["features"]["many"]["histogram"]["categories"]) == 101


@register_custom_signal("robustness_explodes")
def _explodes(production: pl.LazyFrame, reference: pl.LazyFrame, inputs: Mapping[str, Any]) -> list[tuple]:
    raise RuntimeError("first line of the failure\nsecond line with a traceback-like detail")


def test_a_signal_that_raises_fails_alone_with_a_one_line_reason(tmp_path: Path,
                                                                 custom_registry: CustomRegistry) -> None:
    custom_registry.add(_explodes)
    ref, prod, truth = _frames(50, seed=4)
    _write(tmp_path, ref, prod, truth)
    extra = {
        "explodes": {"type": "custom", "component_id": "robustness_explodes",
                     "production_data": _side("prod/", window=True), "reference_data": _side("ref/", window=False)},
        "unknown": {"type": "custom", "component_id": "azureml:nobody_registered_this:2",
                    "production_data": _side("prod/", window=True)},
    }
    _, run = _run(_monitor(tmp_path, ["constant"], extra), tmp_path)
    explodes = run["signals"]["explodes"]
    assert explodes["status"] == "failed"
    assert explodes["error"] == "RuntimeError: first line of the failure"
    unknown = run["signals"]["unknown"]
    assert unknown["status"] == "failed"
    assert "`azureml:nobody_registered_this:2` is not registered" in unknown["error"]
    assert "category_coverage, mean_shift" in unknown["error"]
    assert "\n" not in unknown["error"]
    assert run["signals"]["drift"]["status"] == "completed"
    assert run["status"] == "partial"


def test_non_finite_numbers_from_any_signal_become_null_before_json() -> None:
    from monitoring.run.compute import _finite
    from signals.results import FeatureResult, MetricResult, SignalResult

    bad = MetricResult(value=float("nan"), threshold=float("inf"), direction="less_is_better", breached=False)
    result = SignalResult(type="data_drift", status="completed", features={"f": FeatureResult(
        kind="numerical", row_counts={}, metrics={"m": bad},
        details={"a": [1.0, float("-inf")], "b": {"c": float("nan")}, "d": "text"})})
    clean = _finite(result)
    metric = clean.features["f"].metrics["m"]
    assert (metric.value, metric.threshold, metric.breached) == (None, None, None)
    assert metric.reason == "value is nan"
    assert clean.features["f"].details == {"a": [1.0, None], "b": {"c": None}, "d": "text"}
    json.dumps(clean.model_dump(mode="json"), allow_nan=False)


def test_transient_errors_propagate_for_retries_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Durable activity passes ``reraise`` so a dropped connection is retried, not recorded as a result."""
    from monitoring.data.refs import DataRef
    from monitoring.run.plan import SignalPlan

    def drop(self: DataRef, columns: list[str] | None = None) -> pl.DataFrame:
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(DataRef, "read", drop)
    monkeypatch.setattr(DataRef, "read_window", drop)
    plan = SignalPlan(name="s", type="data_drift", features=["a"], production=DataRef(uri=str(tmp_path)),
                      reference=DataRef(uri=str(tmp_path)))
    recorded = compute_signal(plan)
    assert recorded.status == "failed"
    assert "connection reset" in recorded.error
    with pytest.raises(ConnectionResetError):
        compute_signal(plan, reraise=(ConnectionError,))
