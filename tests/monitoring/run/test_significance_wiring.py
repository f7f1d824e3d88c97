"""Our YAML extensions for honest verdicts reach the computation: ``significance``, ``threshold: auto`` and
``binning``, per monitor and per signal, through the plan (and its JSON, as Durable passes it)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats

from monitoring.definition import load_text
from monitoring.errors import DefinitionError
from monitoring.run.compute import compute_signal, merge_batches
from monitoring.run.plan import SignalPlan, plan_run
from signals.info import Significance
from tests.monitoring.run.test_compute_unparsed import FIRE

NWD = "normalized_wasserstein_distance"


def _document(tmp_path: Path, signal: dict[str, Any], **monitor: Any) -> str:
    """A data drift monitor of two small windows from one normal law (no drift), n = 60 and 400."""
    rng = np.random.default_rng(8)
    for side, n in (("ref", 400), ("prod/2026/03/09", 60)):  # production: the day before FIRE
        (tmp_path / side).mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"x": rng.normal(size=n), "y": rng.lognormal(size=n)}).write_parquet(
            tmp_path / side / "part-0.parquet")
    body = {"type": "data_drift", "features": ["x", "y"], "production_data": {"input_data": {"path": "prod/"}},
            "reference_data": {"input_data": {"path": "ref/"}}, **signal}
    return json.dumps({"name": "gate", "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
                       "create_monitor": {"monitoring_signals": {"drift": body}, **monitor}})


def _run(tmp_path: Path, signal: dict[str, Any], **monitor: Any) -> tuple[SignalPlan, dict[str, Any]]:
    loaded = load_text(_document(tmp_path, signal, **monitor), "gate.yaml", base_dir=tmp_path)
    plan = plan_run(loaded, FIRE).signals[0]
    # as the Durable activity gets it: the plan through JSON
    plan = SignalPlan.model_validate_json(plan.model_dump_json())
    result = compute_signal(plan)
    assert result.status == "completed", result.error
    return plan, result.model_dump(mode="json")


def _values(tmp_path: Path) -> tuple[np.ndarray, np.ndarray]:
    return (pl.read_parquet(tmp_path / "ref" / "part-0.parquet").get_column("x").to_numpy(),
            pl.read_parquet(tmp_path / "prod/2026/03/09/part-0.parquet").get_column("x").to_numpy())


THRESHOLD = {"metric_thresholds": {"numerical": {NWD: 0.05}}}


def test_default_gate_is_on_and_off_gives_the_bare_threshold_verdicts(tmp_path: Path) -> None:
    ref, prod = _values_after(tmp_path, THRESHOLD)
    plan, on = _run(tmp_path, THRESHOLD)
    assert plan.significance == Significance()
    nwd = on["features"]["x"]["metrics"][NWD]
    expected = stats.wasserstein_distance(ref, prod) / np.std(ref, ddof=1)
    assert nwd["value"] == pytest.approx(expected, rel=1e-12)
    assert nwd["value"] > 0.05  # past the threshold at n = 60 with no drift at all...
    assert nwd["breached"] is False
    assert nwd["significant"] is False
    assert 0 < nwd["p_value"] <= 1
    assert nwd["gate_reason"].startswith("past its threshold but not significant")
    assert on["significance"]["alpha"] == 0.01
    for off in ("off", False):
        plan_off, bare = _run(tmp_path, {**THRESHOLD, "significance": off})
        assert plan_off.significance is None
        assert bare["significance"] is None
        metric = bare["features"]["x"]["metrics"][NWD]
        assert metric["value"] == nwd["value"]  # the stored value does not depend on the gate
        assert metric["breached"] is True  # Azure ML's verdict: NWD > 0.05
        assert "p_value" not in metric
        assert "significant" not in metric


def _values_after(tmp_path: Path, signal: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    _document(tmp_path, signal)  # writes the data
    return _values(tmp_path)


def test_signal_setting_wins_over_the_monitor_s_and_both_reach_the_verdict(tmp_path: Path) -> None:
    plan, result = _run(tmp_path, THRESHOLD, significance="off")
    assert plan.significance is None
    assert result["features"]["x"]["metrics"][NWD]["breached"] is True
    plan, result = _run(tmp_path, {**THRESHOLD, "significance": {"alpha": 0.2, "correction": "BH"}},
                        significance="off")
    assert plan.significance == Significance(alpha=0.2, correction="bh")
    metric = result["features"]["x"]["metrics"][NWD]
    # BH across the two features at 0.2, from the stored raw p-values (an independent adjustment)
    raw = [result["features"][f]["metrics"][NWD]["p_value"] for f in ("x", "y")]
    adjusted = stats.false_discovery_control(raw, method="bh")
    assert metric["significant"] is bool(adjusted[0] <= 0.2)
    assert metric["breached"] is (metric["value"] > 0.05 and bool(adjusted[0] <= 0.2))


def test_threshold_auto_is_stored_as_the_null_quantile(tmp_path: Path) -> None:
    signal = {"metric_thresholds": {"numerical": {NWD: "auto", "two_sample_kolmogorov_smirnov_test": "AUTO"}}}
    plan, result = _run(tmp_path, signal)
    assert plan.thresholds["numerical"][NWD] == "auto"
    metrics = result["features"]["x"]["metrics"]
    assert metrics[NWD]["threshold"] == metrics[NWD]["null_quantile"]
    assert isinstance(metrics[NWD]["threshold"], float)
    assert math.isfinite(metrics[NWD]["threshold"])
    assert metrics["two_sample_kolmogorov_smirnov_test"]["threshold"] == 0.01  # a p-value's auto is alpha
    assert metrics[NWD]["breached"] is (metrics[NWD]["value"] > metrics[NWD]["threshold"]
                                        and metrics[NWD]["significant"])


def test_quantile_binning_puts_the_edges_at_the_reference_quantiles(tmp_path: Path) -> None:
    ref, prod = _values_after(tmp_path, {"binning": "quantile"})
    plan, result = _run(tmp_path, {"binning": "quantile"})
    assert plan.options["binning"] == "quantile"
    edges = result["features"]["x"]["histogram"]["edges"]
    k = math.ceil(math.log2(min(len(ref), len(prod))) + 1)
    inner = np.quantile(ref, np.arange(1, k) / k)
    assert edges[1:-1] == pytest.approx(inner.tolist(), rel=1e-12)
    assert (edges[0], edges[-1]) == (min(ref.min(), prod.min()), max(ref.max(), prod.max()))
    _, equal = _run(tmp_path, {})
    assert np.diff(equal["features"]["x"]["histogram"]["edges"]) == pytest.approx(
        np.full(len(equal["features"]["x"]["histogram"]["edges"]) - 1,
                np.diff(equal["features"]["x"]["histogram"]["edges"])[0]))


@pytest.mark.parametrize(("signal", "monitor", "words"), [
    ({"metric_thresholds": {"numerical": {NWD: "auto"}}, "significance": "off"}, {},
     "threshold `normalized_wasserstein_distance` (numerical) is auto"),
    ({"metric_thresholds": {"numerical": {NWD: "auto"}}}, {"significance": False}, "significance is off"),
    ({"significance": {"alpha": 1.5}}, {}, "significance.alpha"),
    ({"significance": {"alpha": 0.01, "correction": "holmes"}}, {}, "significance.correction"),
    ({"significance": {"alpa": 0.01}}, {}, "did you mean `alpha`"),
    ({"binning": "quantiles"}, {}, "binning"),
])
def test_bad_settings_are_one_clear_error_naming_the_field(tmp_path: Path, signal: dict[str, Any],
                                                           monitor: dict[str, Any], words: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_text(_document(tmp_path, signal, **monitor), "gate.yaml", base_dir=tmp_path)
    assert words in str(caught.value)


def test_auto_is_refused_where_no_null_exists(tmp_path: Path) -> None:
    document = json.loads(_document(tmp_path, {}))
    quality = {**document["create_monitor"]["monitoring_signals"]["drift"], "type": "data_quality",
               "metric_thresholds": {"numerical": {"null_value_rate": "auto"}}}
    document["create_monitor"]["monitoring_signals"] = {"quality": quality}
    with pytest.raises(DefinitionError) as caught:
        load_text(json.dumps(document), "gate.yaml", base_dir=tmp_path)
    assert "null_value_rate" in str(caught.value)
    listed = {**quality, "metric_thresholds": [{"metric_name": "null_value_rate", "threshold": "auto"}]}
    document["create_monitor"]["monitoring_signals"] = {"quality": listed}
    with pytest.raises(DefinitionError) as caught:
        load_text(json.dumps(document), "gate.yaml", base_dir=tmp_path)
    assert "only data_drift and prediction_drift thresholds may be auto" in str(caught.value)


def test_gated_signal_types_take_significance_and_the_others_refuse_it(tmp_path: Path) -> None:
    document = json.loads(_document(tmp_path, {}))
    signal = document["create_monitor"]["monitoring_signals"]["drift"]
    document["create_monitor"]["monitoring_signals"] = {"perf": {
        "type": "model_performance", "significance": "off",
        "production_data": signal["production_data"], "reference_data": signal["reference_data"]}}
    with pytest.raises(DefinitionError) as caught:
        load_text(json.dumps(document), "gate.yaml", base_dir=tmp_path)
    assert "perf.significance` at line 1: unknown field" in str(caught.value)


def test_a_batch_of_only_missing_features_is_their_failed_results_not_the_signal_s_failure(tmp_path: Path) -> None:
    """Durable splits a signal into batches: one that holds only a misspelled feature must not fail the
    signal whose other features exist; the merged result has every feature, the typo failed with a hint."""
    loaded = load_text(_document(tmp_path, {"features": ["x", "y", "yy"]}), "gate.yaml", base_dir=tmp_path)
    plan = plan_run(loaded, FIRE).signals[0]
    batches = [compute_signal(plan, features=["x", "y"]), compute_signal(plan, features=["yy"])]
    assert batches[1].status == "completed", batches[1].error
    merged = merge_batches(plan.type, batches)
    assert merged.status == "completed"
    assert set(merged.features) == {"x", "y", "yy"}
    assert "did you mean `y`?" in str(merged.features["yy"].metrics["missing"].reason)
    assert merged.row_counts["production"] == 60  # from the batch that read rows
    whole = compute_signal(plan)
    assert {f: r.breached for f, r in whole.features.items()} == {f: r.breached for f, r in merged.features.items()}
