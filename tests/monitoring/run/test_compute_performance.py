"""Model performance from YAML through the runner: ground-truth join, defaults, tasks and errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from monitoring.definition import LoadedMonitor, load_text
from monitoring.run.compute import compute_signal
from monitoring.run.finish import finalize_run
from monitoring.run.plan import plan_run
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 3, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Batched MDC-style production ids ``<request>_<i>``, labels per request for 70% of the requests, and an
    older day outside the window whose labels must not count."""
    root = tmp_path_factory.mktemp("performance")
    rng = np.random.default_rng(41)
    n = 900
    request = rng.integers(0, 400, size=n)
    ts = [FIRE - timedelta(days=9 if i < 100 else 6, minutes=int(m)) for i, m in enumerate(rng.integers(0, 999, n))]
    label = rng.choice(["fraud", "ok", "review"], size=400, p=[0.2, 0.7, 0.1])
    truth_for = label[request]
    prediction = np.where(rng.random(n) < 0.75, truth_for, rng.choice(["fraud", "ok", "review"], size=n))
    production = pl.DataFrame({"ts": ts, "correlationid": [f"req{r}_{i}" for i, r in enumerate(request)],
                               "predicted": prediction, "amount": rng.normal(size=n),
                               "yhat": rng.normal(size=n)})
    labelled = rng.random(400) < 0.7
    truth = pl.DataFrame({"correlationid": [f"req{r}" for r in np.flatnonzero(labelled)],
                          "actual": label[labelled], "y": rng.normal(size=int(labelled.sum()))})
    for name, frame in (("prod", production), ("truth", truth)):
        (root / name).mkdir()
        frame.write_parquet(root / name / "part.parquet")
    return root


def _monitor(root: Path, signal: Mapping[str, Any], *, target: Mapping[str, Any] | None = None) -> LoadedMonitor:
    base = {
        "type": "model_performance",
        "production_data": {"input_data": {"path": "prod/"}, "data_window": {"lookback_window_size": "P7D"},
                            "data_column_names": {"timestamp": "ts", "prediction": "predicted"}},
        "reference_data": {"input_data": {"path": "truth/"}, "data_context": "ground_truth",
                           "data_column_names": {"actual": "actual"}},
    }
    document: dict[str, Any] = {"name": "perf", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                                "create_monitor": {"monitoring_signals": {"perf": base | dict(signal)}}}
    if target:
        document["create_monitor"]["monitoring_target"] = dict(target)
    return load_text(json.dumps(document), "perf.yaml", base_dir=root)


def _run(loaded: LoadedMonitor, out: Path) -> dict[str, Any]:
    store = LocalStore(out)
    plan = plan_run(loaded, FIRE, store=store)
    return finalize_run(plan, {sp.name: compute_signal(sp, store=store) for sp in plan.signals}, store)


def _expected(root: Path) -> tuple[np.ndarray, np.ndarray, int]:
    production = pl.read_parquet(root / "prod" / "part.parquet").filter(pl.col("ts") >= FIRE - timedelta(days=7))
    truth = dict(pl.read_parquet(root / "truth" / "part.parquet").select("correlationid", "actual").iter_rows())
    pairs = [(p, truth[c.rsplit("_", 1)[0]]) for c, p in production.select("correlationid", "predicted").iter_rows()
             if c.rsplit("_", 1)[0] in truth]
    predicted, actual = map(np.array, zip(*pairs, strict=True))
    return actual, predicted, production.height


def test_classification_from_yaml_matches_sklearn_on_the_joined_window(data: Path, tmp_path: Path) -> None:
    thresholds = {"classification": {"accuracy": 0.9, "precision": 0.5, "recall": 0.5, "f1_score": 0.5}}
    run = _run(_monitor(data, {"metric_thresholds": thresholds}, target={"ml_task": "classification"}), tmp_path)
    signal = run["signals"]["perf"]
    assert signal["status"] == "completed"
    actual, predicted, predictions = _expected(data)
    metrics = signal["features"]["classification"]["metrics"]
    assert metrics["accuracy"]["value"] == pytest.approx(skm.accuracy_score(actual, predicted))
    assert metrics["precision"]["value"] == pytest.approx(skm.precision_score(actual, predicted, average="macro"))
    assert metrics["recall"]["value"] == pytest.approx(skm.recall_score(actual, predicted, average="macro"))
    assert metrics["f1_score"]["value"] == pytest.approx(skm.f1_score(actual, predicted, average="macro"))
    assert metrics["accuracy"]["breached"] is True  # about 0.8 < 0.9
    assert metrics["accuracy"]["direction"] == "greater_is_better"
    truth_rows = pl.read_parquet(data / "truth" / "part.parquet").height
    assert signal["features"]["classification"]["row_counts"] == {
        "production": predictions, "reference": truth_rows, "labelled": len(actual)}
    document = json.loads((tmp_path / "perf" / run["run_id"] / "signals" / "perf.json").read_text())
    details = document["features"]["classification"]["details"]
    assert details["join"]["coverage"] == pytest.approx(len(actual) / predictions)
    assert details["join"]["batch_id_matches"] == len(actual)
    assert set(details["per_class"]) == {"fraud", "ok", "review"}


def test_regression_task_from_the_configured_thresholds(data: Path, tmp_path: Path) -> None:
    signal = {"production_data": {"input_data": {"path": "prod/"}, "data_window": {"lookback_window_size": "P7D"},
                                  "data_column_names": {"timestamp": "ts", "prediction": "yhat"}},
              "reference_data": {"input_data": {"path": "truth/"}, "data_column_names": {"actual": "y"}},
              "metric_thresholds": {"regression": {"rmse": 0.5}}}
    run = _run(_monitor(data, signal), tmp_path)
    result = run["signals"]["perf"]
    assert result["status"] == "completed"
    assert set(result["features"]["regression"]["metrics"]) == {"mae", "mse", "rmse"}
    assert result["features"]["regression"]["metrics"]["rmse"]["breached"] is True  # two N(0,1): rmse ~ 1.4


def test_coverage_below_the_minimum_is_insufficient_data(data: Path, tmp_path: Path) -> None:
    run = _run(_monitor(data, {"minimum_join_coverage": 0.95}), tmp_path)
    signal = run["signals"]["perf"]
    assert signal["status"] == "insufficient_data"
    assert "below minimum_join_coverage 95.0%" in signal["error"]
    assert run["status"] == "completed"
    assert run["breached"] is False


@pytest.mark.parametrize(("change", "message"), [
    ({"reference_data": {"data_context": "ground_truth"}}, "model performance needs the ground truth"),
    ({"production_data": {"input_data": {"path": "prod/"}}}, "needs production_data.data_column_names.prediction"),
    ({"reference_data": {"input_data": {"path": "truth/"}}}, "needs reference_data.data_column_names.actual"),
])
def test_missing_roles_are_named(data: Path, tmp_path: Path, change: dict[str, Any], message: str) -> None:
    run = _run(_monitor(data, change), tmp_path)
    assert run["signals"]["perf"]["status"] == "failed"
    assert message in run["signals"]["perf"]["error"]


def test_a_deployment_target_reads_predictions_from_the_collectors_model_outputs(
        data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDC_ROOT", str(data / "mdc"))
    signal = {"production_data": {"data_column_names": {"prediction": "predicted"}}}
    plan = plan_run(_monitor(data, signal, target={"endpoint_deployment_id": "azureml:ep:blue"}), FIRE)
    production = plan.signals[0].production
    assert production.source == "mdc"
    assert production.uri.endswith("/ep/blue/model_outputs/")
    assert plan.signals[0].options["production_id"] == "correlationid"
    assert plan.signals[0].options["ground_truth_id"] == "correlationid"
