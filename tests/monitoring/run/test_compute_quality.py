"""Data quality from YAML through the runner, over production files whose column types disagree."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from monitoring.definition import load_text
from monitoring.run.compute import compute_signal
from monitoring.run.finish import finalize_run
from monitoring.run.plan import plan_run
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 3, 10, tzinfo=UTC)


def test_mixed_types_across_files_count_as_type_errors_and_thresholds_are_deltas(tmp_path: Path) -> None:
    rng = np.random.default_rng(51)
    reference = pl.DataFrame({"amount": rng.gamma(2, 10, 1000), "kind": rng.choice(["a", "b"], 1000),
                              "count": rng.integers(0, 5, 1000)})
    reference = reference.with_columns(pl.when(pl.int_range(1000) < 20).then(None).otherwise(pl.col("amount"))
                                       .alias("amount"))
    day = [FIRE - timedelta(days=2, minutes=m) for m in range(300)]
    numbers = pl.DataFrame({"ts": day, "amount": rng.gamma(2, 10, 300), "kind": rng.choice(["a", "b"], 300),
                            "count": rng.integers(0, 5, 300)})
    texts = [f"{v:.2f}" if rng.random() > 0.1 else "n/a" for v in rng.gamma(2, 10, 200)]
    strings = pl.DataFrame({"ts": [FIRE - timedelta(days=1, minutes=m) for m in range(200)], "amount": texts,
                            "kind": rng.choice(["a", "b", "c"], 200),
                            "count": [str(c) for c in rng.integers(0, 7, 200)]})
    for folder, frames in (("ref", [reference]), ("prod", [numbers, strings])):
        (tmp_path / folder).mkdir()
        for i, frame in enumerate(frames):
            frame.write_parquet(tmp_path / folder / f"{i}.parquet")
    document = {"name": "dq", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                "create_monitor": {"monitoring_signals": {"quality": {
                    "type": "data_quality", "features": "all_features",
                    "production_data": {"input_data": {"path": "prod/"}, "data_window": {"lookback_window_size": "P7D"},
                                        "data_column_names": {"timestamp": "ts"}},
                    "reference_data": {"input_data": {"path": "ref/"}},
                    "metric_thresholds": [{"applicable_feature_type": "numerical", "metric_name": "null_value_rate",
                                           "threshold": 0.01},
                                          {"metric_name": "out_of_bounds_rate", "threshold": 0.05}]}}}}
    store = LocalStore(tmp_path / "results")
    plan = plan_run(load_text(json.dumps(document), "dq.yaml", base_dir=tmp_path), FIRE, store=store)
    run = finalize_run(plan, {s.name: compute_signal(s, store=store) for s in plan.signals}, store)
    signal = run["signals"]["quality"]
    assert signal["status"] == "completed"
    amount = signal["features"]["amount"]["metrics"]
    errors = sum(t == "n/a" for t in texts)
    assert amount["data_type_error_rate"]["value"] == pytest.approx(errors / 500)
    assert amount["data_type_error_rate"]["threshold"] is None  # not configured: computed, not judged
    assert amount["null_value_rate"]["value"] == 0.0
    assert amount["null_value_rate"]["threshold"] == pytest.approx(0.02 + 0.01)  # reference 20/1000 plus delta
    assert amount["null_value_rate"]["breached"] is False
    parsed = np.array([float(t) for t in texts if t != "n/a"])
    values = np.concatenate([numbers["amount"].to_numpy(), parsed])
    lo, hi = reference["amount"].min(), reference["amount"].max()
    assert amount["out_of_bounds_rate"]["value"] == pytest.approx(((values < lo) | (values > hi)).sum() / 500)
    kind = signal["features"]["kind"]["metrics"]
    assert kind["out_of_bounds_rate"]["value"] == pytest.approx((strings["kind"] == "c").sum() / 500)
    assert kind["out_of_bounds_rate"]["breached"] is True
    assert "null_value_rate" not in {m for m, r in kind.items() if r["threshold"] is not None}
    count = signal["features"]["count"]["metrics"]  # integer reference, text in one file: 5 and 6 unseen
    unseen = sum(int(c) > 4 for c in strings["count"])
    assert count["out_of_bounds_rate"]["value"] == pytest.approx(unseen / 500)
    assert count["data_type_error_rate"]["value"] == 0.0
    document = json.loads((tmp_path / "results" / "dq" / run["run_id"] / "signals" / "quality.json").read_text())
    details = document["features"]["amount"]["details"]
    assert details["reference_rates"]["null_value_rate"] == pytest.approx(0.02)
    assert details["threshold_deltas"]["null_value_rate"] == 0.01
    assert details["dtypes"] == {"reference": "Float64", "production": "String"}
    history = pl.read_parquet(io.BytesIO(store.read_bytes("dq/history.parquet")))
    row = history.filter((pl.col("feature") == "amount") & (pl.col("metric") == "null_value_rate"))
    assert row["threshold"].item() == pytest.approx(0.03)
