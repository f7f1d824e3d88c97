"""The Python API: monitors and single signals over in-memory frames, checked against scipy and sklearn."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy.spatial import distance
from scipy.stats import wasserstein_distance
from sklearn.metrics import accuracy_score

from monitoring.errors import ConfigurationError, DefinitionError
from monitoring.interfaces.api import run_monitor, run_signal

ROOT = Path(__file__).resolve().parents[3]
NWD = {"numerical": {"normalized_wasserstein_distance": 0.1}, "categorical": {"jensen_shannon_distance": 0.1}}


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(3)
    ref = pl.DataFrame({"x": rng.normal(0, 1, 3000), "c": rng.choice(["a", "b", "c"], 3000, p=[.5, .3, .2])})
    prod = pl.DataFrame({"x": rng.normal(0.4, 1.2, 2000), "c": rng.choice(["a", "b", "d"], 2000, p=[.3, .3, .4])})
    return ref, prod


def test_single_signal_over_polars_matches_scipy(frames: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    ref, prod = frames
    result = run_signal("data_drift", reference=ref, production=prod, metric_thresholds=NWD)
    x = ref["x"].to_numpy()
    expected = wasserstein_distance(x, prod["x"].to_numpy()) / np.std(x, ddof=1)
    metrics = result.run["signals"]["data-drift"]["features"]
    assert metrics["x"]["metrics"]["normalized_wasserstein_distance"]["value"] == pytest.approx(expected, rel=1e-9)
    cats = ["a", "b", "c", "d"]
    p = [ref["c"].to_list().count(k) / ref.height for k in cats]
    q = [prod["c"].to_list().count(k) / prod.height for k in cats]
    js = metrics["c"]["metrics"]["jensen_shannon_distance"]["value"]
    assert js == pytest.approx(distance.jensenshannon(p, q, base=2), rel=1e-9)
    assert result.breached == bool(expected > 0.1 or js > 0.1)
    assert result.breached


def test_pandas_frames_give_the_polars_result(frames: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    ref, prod = frames
    a = run_signal("data_drift", reference=ref, production=prod, metric_thresholds=NWD)
    b = run_signal("data_drift", reference=ref.to_pandas(), production=pd.DataFrame(prod.to_dict(as_series=False)),
                   metric_thresholds=NWD)
    assert isinstance(ref.to_pandas(), pd.DataFrame)
    assert a.run["signals"] == b.run["signals"]


def test_no_drift_between_a_frame_and_itself(frames: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    ref, _ = frames
    result = run_signal("data_drift", reference=ref, production=ref, metric_thresholds=NWD)
    assert not result.breached
    assert result.status == "completed"


def test_a_definition_as_text_file_or_mapping(frames: tuple[pl.DataFrame, pl.DataFrame],
                                              tmp_path: Path) -> None:
    ref, prod = frames
    text = ("name: nb\ncreate_monitor:\n  monitoring_signals:\n    drift:\n      type: data_drift\n"
            "      features: [x]\n      metric_thresholds:\n"
            "        numerical: {normalized_wasserstein_distance: 0.1}\n")
    file = tmp_path / "m.yaml"
    file.write_text(text)
    mapping = {"name": "nb", "create_monitor": {"monitoring_signals": {"drift": {
        "type": "data_drift", "features": ["x"], "metric_thresholds": {"numerical": NWD["numerical"]}}}}}
    runs = [run_monitor(d, reference=ref, production=prod).run for d in (text, file, str(file), mapping)]
    assert all(r["signals"] == runs[0]["signals"] for r in runs)
    assert list(runs[0]["signals"]["drift"]["features"]) == ["x"]
    assert runs[0]["signals"]["drift"]["production_window"] == {}


def test_model_performance_reads_ground_truth_from_data() -> None:
    rng = np.random.default_rng(5)
    ids = [f"id{i}" for i in range(500)]
    actual = rng.integers(0, 2, 500)
    predicted = np.where(rng.random(500) < 0.8, actual, 1 - actual)
    production = pl.DataFrame({"cid": ids, "pred": predicted})
    labels = pl.DataFrame({"cid": ids, "label": actual})
    definition = {"create_monitor": {"monitoring_signals": {"perf": {
        "type": "model_performance",
        "production_data": {"data_column_names": {"prediction": "pred", "correlation_id": "cid"}},
        "reference_data": {"input_data": {"path": "labels"}, "data_context": "ground_truth",
                           "data_column_names": {"actual": "label", "correlation_id": "cid"}},
        "metric_thresholds": {"classification": {"accuracy": 0.9}}}}}}
    result = run_monitor(definition, production=production, data={"labels": labels})
    metric = result.run["signals"]["perf"]["features"]["classification"]["metrics"]["accuracy"]
    assert metric["value"] == pytest.approx(accuracy_score(actual, predicted))
    assert metric["breached"] == bool(accuracy_score(actual, predicted) < 0.9)


def test_result_serialises_saves_and_renders(frames: tuple[pl.DataFrame, pl.DataFrame], tmp_path: Path) -> None:
    ref, prod = frames
    result = run_signal("data_drift", reference=ref, production=prod, metric_thresholds=NWD)
    assert json.loads(result.to_json()) == result.to_dict()
    assert "histogram" in result.to_dict()["documents"]["data-drift"]["features"]["x"]
    table = result.metrics()
    assert set(table["feature"]) == {"x", "c"}
    assert table.filter(pl.col("breached"))["metric"].to_list()
    html = result.report()
    assert "data-drift" in html
    assert "<script" not in html
    assert result._repr_html_().startswith("<iframe srcdoc=")
    folder = result.save(tmp_path)
    saved = json.loads((folder / "run.json").read_text())
    assert saved["signals"] == result.run["signals"]
    assert (folder / "report.html").stat().st_size > 1000
    assert (folder / "signals" / "data-drift.json").exists()
    assert (tmp_path / "notebook" / "index.html").exists()


def test_bad_input_is_one_clear_error(frames: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    ref, prod = frames
    with pytest.raises(ConfigurationError, match="`production` must be a polars or pandas DataFrame, not list"):
        run_signal("data_drift", reference=ref, production=[1, 2])
    with pytest.raises(DefinitionError) as info:
        run_signal("data_drfit", reference=ref, production=prod)
    assert "data_drift" in str(info.value.problems)


def test_notebook_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(ROOT / "examples" / "notebook_api.py"), run_name="__main__")
    assert namespace["result"].breached
    assert (tmp_path / "notebook-results").is_dir()
