"""Bounded-memory local runs: column groups and value ranges give the in-memory run's results."""

from __future__ import annotations

import json
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


def _spy_chunks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The features ``bounded`` computes from chunks of rows, as they are computed."""
    chunked: list[str] = []
    by_chunks = bounded._by_chunks

    def spy(plan: Any, info: Any, present: list[str], *args: Any) -> Any:
        results, rest = by_chunks(plan, info, present, *args)
        chunked.extend(f for f in present if f not in rest)
        return results, rest

    monkeypatch.setattr(bounded, "_by_chunks", spy)
    return chunked


def test_tiny_budget_gives_the_in_memory_run(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_file(demo / "monitor.yaml")
    plan, whole = run_local(loaded, FIRE, LocalStore(tmp_path / "whole"), memory_mb=100_000)
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

    counted: list[str] = []
    streamed = bounded.streamed_distinct_counts

    def spy_counts(frame: Any, column: str) -> Any:
        counted.append(column)
        return streamed(frame, column)

    monkeypatch.setattr(bounded, "compute_signal", spy_compute)
    monkeypatch.setattr(bounded, "split_numerical_drift", spy_split)
    monkeypatch.setattr(bounded, "streamed_distinct_counts", spy_counts)
    chunked = _spy_chunks(monkeypatch)
    _, small = run_local(loaded, FIRE, LocalStore(tmp_path / "small"), memory_mb=1)
    assert "amount" in ranged
    assert "fraud_score" in ranged
    assert {"merchant_category", "device_type"} <= set(counted)  # categorical: counted by a streaming group-by
    assert {"amount", "merchant_category"} <= set(chunked)  # data quality: from chunks of rows
    assert groups
    assert max(len(g) for g in groups) == 1
    assert_close(_signals(small), _signals(whole))
    assert small["breached"] == whole["breached"]
    for name in whole["signals"]:  # the full documents: histograms, details, nulls, profiles
        documents = [json.loads(LocalStore(tmp_path / side).read_bytes(f"{plan.prefix}/signals/{name}.json") or b"")
                     for side in ("small", "whole")]
        if documents[1]["type"] == "data_quality":  # chunked features have no profile (an extra: quantiles)
            assert not any("profile" in fr["details"] for fr in documents[0]["features"].values())
            for fr in documents[1]["features"].values():
                fr["details"].pop("profile", None)
        assert_close(*[{k: v for k, v in d.items() if k not in ("duration_s", "started_at", "finished_at")}
                       for d in documents])


def test_group_width_follows_the_activity_model() -> None:
    # bench/activity_memory.py's model: 105 + 130 M + 11 M f MiB over M million rows of both sides
    assert bounded.group_width(2_000_000, 105 + 260 + 22 * 30) == 30
    assert bounded.group_width(2_000_000, 105 + 260 + 22 * 30 - 1) == 29
    assert bounded.group_width(2_000_000, 300) == 0


ALL = ["x", "z1", "y", "x_", "c", "z2", "only_ref"]


def _hooks_plan(tmp_path: Path, features: list[str] = ALL, signal_type: str = "data_drift") -> Any:
    import json
    from datetime import timedelta

    import numpy as np
    import polars as pl

    from monitoring.definition import load_text
    from monitoring.run.plan import plan_run

    rng = np.random.default_rng(7)
    (tmp_path / "ref").mkdir()
    (tmp_path / "prod").mkdir()

    def frame(n: int, shift: float) -> pl.DataFrame:
        x = rng.normal(shift, 1.0, n)
        x[:25] = np.nan
        x[25:30] = np.inf
        return pl.DataFrame({"x": x, "y": np.round(rng.normal(0, 2, n)), "c": rng.choice(["a", "b", "c"], n),
                             "z1": [[1]] * n, "z2": [[2]] * n, "only_ref": rng.normal(size=n)})

    frame(12_000, 0.0).write_parquet(tmp_path / "ref" / "r.parquet")
    prod = frame(13_000, 0.1).drop("only_ref")
    times = [(FIRE - timedelta(seconds=40 * i + 1)).isoformat() for i in range(13_000)]
    times[:20] = ["not a time"] * 20
    prod.with_columns(ts=pl.Series(times)).write_parquet(tmp_path / "prod" / "p.parquet")
    document = {"name": "hooks", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                "create_monitor": {"monitoring_signals": {"drift": {
                    "type": signal_type, "features": features,
                    "production_data": {"input_data": {"path": "prod/"}, "data_window": {"lookback_window_size": "P7D"},
                                        "data_column_names": {"timestamp": "ts"}},
                    "reference_data": {"input_data": {"path": "ref/"}}}}}}
    store = LocalStore(tmp_path / "results")
    return plan_run(load_text(json.dumps(document), "hooks.yaml", base_dir=tmp_path), FIRE, store=store).signals[0]


@pytest.mark.parametrize("features", [ALL, ["x", "y"], ["x_", "x"]])
def test_value_ranges_keep_every_hook_of_compute_signal(tmp_path: Path, features: list[str]) -> None:
    from monitoring.run.compute import compute_signal

    plan = _hooks_plan(tmp_path, features)
    whole = compute_signal(plan)
    small = bounded.compute_bounded(plan, budget_mb=1)
    assert whole.status == "completed", whole.error
    if "x_" in features:
        assert "did you mean `x`" in (whole.features["x_"].metrics["missing"].reason or "")
    assert whole.row_counts["unparsed_timestamps_production"] == 20
    if "z1" in features:
        assert any(n.startswith("not monitored (unsupported column type): z1, z2") for n in whole.notes)
    assert_close(small.model_dump(mode="json"), whole.model_dump(mode="json"))
    assert list(small.features) == list(whole.features)


def _one_feature_activities(plan: Any, tmp_path: Path) -> tuple[Any, LocalStore, Any]:
    """Every ``compute_signal`` activity of ``plan``'s one signal, one feature each, and the merged result
    (``finish_step``'s ``_signal_result``): the run plan, the store and the merged ``SignalResult``."""
    from monitoring.run import durable
    from monitoring.storage.base import write_json

    run_plan = durable.RunPlan(monitor=plan.monitor or "hooks", fire_time=FIRE, definition_version="1", signals=[plan])
    store = LocalStore(tmp_path / "durable")
    path = f"{run_plan.prefix}/plan.json"
    write_json(store, path, run_plan.model_dump(mode="json"))
    batches = len(plan.features)
    for b in range(batches):
        durable.compute_step(durable.BatchRef(plan_path=path, signal=plan.name, batch=b, batches=batches,
                                              features_per_activity=1), store=store)
    request = durable.CompleteRequest(instance_id="i", plan_path=path, started_at=FIRE, features_per_activity=1)
    return run_plan, store, durable._signal_result(run_plan, plan, request, store)


def test_durable_batches_give_one_unsupported_column_note(tmp_path: Path) -> None:
    """One feature per ``compute_signal`` activity: each batch with an unsupported column notes its own;
    the merged signal (``finish_step``'s ``_signal_result``) has one note naming both, as a local run."""
    from monitoring.run import durable
    from monitoring.run.compute import compute_signal

    plan = _hooks_plan(tmp_path)
    run_plan, store, merged = _one_feature_activities(plan, tmp_path)
    batches = len(plan.features)
    parts = [json.loads(store.read_bytes(durable.part_path(run_plan, plan.name, b)) or b"{}") for b in range(batches)]
    assert sum(n.startswith("not monitored (unsupported column type)") for p in parts for n in p["notes"]) == 2
    unsupported = [n for n in merged.notes if n.startswith("not monitored (unsupported column type)")]
    assert unsupported == ["not monitored (unsupported column type): z1, z2"]
    assert sorted(merged.notes) == sorted(compute_signal(plan).notes)  # each note once


def test_a_feature_that_fits_one_range_but_not_the_whole_computation_goes_by_one_range(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """108 MiB: one feature over the 25,000 rows does not fit whole by the activity model (group width 0),
    yet its ~25,000 values fit one range at RANGE_BYTES each: it is computed as one range, exactly."""
    from monitoring.run.compute import compute_signal

    plan = _hooks_plan(tmp_path, ["x", "y"])
    assert bounded.group_width(25_000, 108) == 0
    assert bounded.range_budget_rows(108) > 25_000
    ranges: dict[str, int] = {}
    split = bounded.split_numerical_drift

    def spy(reference: Any, production: Any, summary: Any, **kwargs: Any) -> Any:
        ranges[summary.feature] = summary.ranges
        return split(reference, production, summary, **kwargs)

    monkeypatch.setattr(bounded, "split_numerical_drift", spy)
    small = bounded.compute_bounded(plan, budget_mb=108)
    assert ranges == {"x": 1, "y": 1}
    assert_close(small.model_dump(mode="json"), compute_signal(plan).model_dump(mode="json"))


def test_categorical_features_counted_by_streaming_give_the_in_memory_result(tmp_path: Path) -> None:
    """Every column type a categorical feature takes, with nulls, NaN, -0.0, 1 and 1.0 (one category), a
    category only in production, and columns named like the counting query's own columns: the streamed
    counts of the files give exactly ``categorical_drift`` of the columns in memory."""
    from datetime import date

    import numpy as np
    import polars as pl

    from signals.categories import streamed_distinct_counts
    from signals.drift import categorical_drift, counted_categorical_drift

    rng = np.random.default_rng(5)

    def side(n: int, extra: bool) -> pl.DataFrame:
        floats = rng.choice([1.0, 2.0, 2.5, -0.0, 0.0, np.nan], n)
        floats[:3] = np.nan
        return pl.DataFrame({
            "s": rng.choice(["a", "b", "c", "new"] if extra else ["a", "b", "c"], n).tolist(),
            "value": rng.integers(0, 7, n), "len": floats,
            "b": rng.choice([True, False], n), "d": [date(2026, 1, 1 + int(i)) for i in rng.integers(0, 5, n)],
        }).with_columns(pl.when(pl.int_range(pl.len()) % 17 == 0).then(None).otherwise(pl.col("s")).alias("s"),
                        pl.col("value").cast(pl.Int16))

    ref, prod = side(3000, False), side(2500, True)
    ref.write_parquet(tmp_path / "r.parquet", row_group_size=700)
    prod.write_parquet(tmp_path / "p.parquet", row_group_size=700)
    scans = pl.scan_parquet(tmp_path / "r.parquet"), pl.scan_parquet(tmp_path / "p.parquet")
    for column in ref.columns:
        whole = categorical_drift(ref[column], prod[column], thresholds={"jensen_shannon_distance": 0.1},
                                  profile=True)
        streamed = counted_categorical_drift(*(streamed_distinct_counts(scan, column) for scan in scans),
                                             thresholds={"jensen_shannon_distance": 0.1}, profile=True)
        assert streamed.model_dump(mode="json") == whole.model_dump(mode="json"), column
    assert categorical_drift(ref["len"], prod["len"], thresholds={}).details["null_counts"]["reference"] == \
        int(ref["len"].is_nan().sum())


def test_data_quality_from_chunks_in_durable_activities_gives_the_in_memory_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data quality signal whose one column does not fit ACTIVITY_MEMORY_MB: each ``compute_signal``
    activity computes its feature from chunks of rows (nulls, NaN, inf, unparsed timestamps, a missing and
    an unsupported column among them); merged, the signal equals the in-memory one but for the profiles."""
    from monitoring.run.compute import compute_signal

    plan = _hooks_plan(tmp_path, signal_type="data_quality")
    monkeypatch.setenv("ACTIVITY_MEMORY_MB", "1")
    chunked = _spy_chunks(monkeypatch)
    merged = _one_feature_activities(plan, tmp_path)[2].model_dump(mode="json")
    whole = compute_signal(plan).model_dump(mode="json")
    assert sorted(chunked) == ["c", "x", "y"]
    for fr in whole["features"].values():
        (fr["details"] or {}).pop("profile", None)
    assert sorted(merged.pop("notes")) == sorted(whole.pop("notes"))  # each once; merged in batch order
    assert_close(merged, whole)
