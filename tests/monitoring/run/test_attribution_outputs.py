"""GA feature attribution drift: model inputs and outputs in separate files, joined on the correlation id."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from monitoring.definition import load_text
from monitoring.run.compute import compute_signal
from monitoring.run.plan import plan_run

FIRE = datetime(2026, 3, 10, tzinfo=UTC)
FEATURES = ["a", "b", "c"]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    n = 600
    ref = pl.DataFrame({f: rng.normal(size=n) for f in FEATURES})
    ref = ref.with_columns((pl.col("a") * 2 + pl.col("b") * 0.3 + rng.normal(0, 0.1, n)).alias("y"))
    times = [FIRE - timedelta(days=1) + timedelta(seconds=10 * i) for i in range(n)]
    prod = pl.DataFrame({"id": [f"r{i}" for i in range(n)], "ts": times, **{f: rng.normal(size=n) for f in FEATURES}})
    pred = prod["b"] * 2 + prod["c"] * 0.5  # production's model leans on b: attribution drifts
    outputs = pl.DataFrame({"rid": prod["id"], "ts": times, "score": pred}).sample(fraction=1.0, shuffle=True, seed=2)
    outputs = outputs.filter(~pl.col("rid").is_in(["r0", "r1", "r2"]))  # outputs the collector lost
    for folder, frame in (("ref", ref), ("inputs", prod), ("outputs", outputs)):
        (tmp_path / folder).mkdir()
        frame.write_parquet(tmp_path / folder / "part-0.parquet")
    # the same rows joined by hand: what a single production file holding both would look like
    by_id = dict(zip(outputs["rid"].to_list(), outputs["score"].to_list(), strict=True))
    joined = prod.filter(pl.col("id").is_in(list(by_id))).with_columns(
        pl.Series("score", [by_id[i] for i in prod["id"].to_list() if i in by_id]))
    (tmp_path / "joined").mkdir()
    joined.write_parquet(tmp_path / "joined" / "part-0.parquet")
    return tmp_path


def _signal(production: Any) -> str:
    return json.dumps({"name": "fa", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                       "create_monitor": {"monitoring_signals": {"fa": {
                           "type": "feature_attribution_drift", "production_data": production,
                           "reference_data": {"input_data": {"path": "ref/"},
                                              "data_column_names": {"target_column": "y"}}}}}})


def test_inputs_and_outputs_files_give_the_result_of_the_joined_file(data: Path) -> None:
    ga = _signal([{"input_data": {"path": "inputs/"}, "data_context": "model_inputs",
                   "data_column_names": {"correlation_id": "id", "timestamp": "ts"}},
                  {"input_data": {"path": "outputs/"}, "data_context": "model_outputs",
                   "data_column_names": {"correlation_id": "rid", "prediction": "score", "timestamp": "ts"}}])
    single = _signal({"input_data": {"path": "joined/"},
                      "data_column_names": {"correlation_id": "id", "prediction": "score", "timestamp": "ts"}})
    plans = [plan_run(load_text(text, "fa.yaml", base_dir=data), FIRE).signals[0] for text in (ga, single)]
    assert plans[0].error is None, plans[0].error
    assert plans[0].features == plans[1].features == FEATURES
    results = [compute_signal(p) for p in plans]
    assert results[0].status == "completed", results[0].error
    assert results[0].row_counts["production"] == 597
    assert results[0].features == results[1].features
    table = results[0].features["model"].details["importance"]
    assert {row["feature"] for row in table} == set(FEATURES)


def test_a_missing_correlation_id_column_is_one_clear_error(data: Path) -> None:
    ga = _signal([{"input_data": {"path": "inputs/"},
                   "data_column_names": {"correlation_id": "nope", "timestamp": "ts"}},
                  {"input_data": {"path": "outputs/"}, "data_context": "model_outputs",
                   "data_column_names": {"correlation_id": "rid", "prediction": "score", "timestamp": "ts"}}])
    plan = plan_run(load_text(ga, "fa.yaml", base_dir=data), FIRE).signals[0]
    result = compute_signal(plan)
    assert result.status == "failed"
    assert result.error is not None
    assert "no correlation id column `nope` to join on" in result.error
