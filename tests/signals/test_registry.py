"""The registry: records that say what the runner needs, tables built from them, registration that restores."""

from __future__ import annotations

import ast
import inspect
from dataclasses import replace
from pathlib import Path

import pytest

import signals
from signals.gate import apply_gate
from signals.info import GREATER_IS_BETTER, MetricInfo, Significance
from signals.registry import (
    BY_TYPE,
    DEFAULT_THRESHOLDS,
    METRIC_ALIASES,
    METRICS_BY_SIGNAL,
    SIGNALS,
    SignalInfo,
    feature_columns,
    merge_feature_batches,
    registered,
    signal_info,
)
from signals.results import FeatureResult, MetricResult, SignalResult, judge

SIGNALS_DIR = Path(signals.__file__).parent
CONTRACT = ("signal_type", "features", "kinds", "thresholds", "on_feature")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return out | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def test_signal_modules_never_import_the_registry_which_imports_them_without_importlib() -> None:
    importers = sorted(p.name for p in SIGNALS_DIR.glob("*.py") if "signals.registry" in _imports(p))
    assert importers == []
    assert "importlib" not in _imports(SIGNALS_DIR / "registry.py")
    assert {"signals.drift", "signals.quality", "signals.attribution", "signals.performance", "signals.custom"} <= \
        _imports(SIGNALS_DIR / "registry.py")


@pytest.mark.parametrize("info", SIGNALS, ids=lambda s: s.type)
def test_every_compute_function_takes_the_runner_s_keywords(info: SignalInfo) -> None:
    parameters = inspect.signature(info.compute_function()).parameters
    assert list(parameters)[:2] == ["production", "reference"]
    assert all(parameters[name].kind is inspect.Parameter.KEYWORD_ONLY for name in CONTRACT)


def test_tables_are_built_from_the_records() -> None:
    assert METRICS_BY_SIGNAL["model_performance"] == {
        "classification": ("accuracy", "precision", "recall", "f1_score"), "regression": ("mae", "mse", "rmse")}
    assert DEFAULT_THRESHOLDS[("data_drift", "numerical")] == {"normalized_wasserstein_distance": 0.1}
    assert METRIC_ALIASES["chi_squared_test"] == "pearsons_chi_squared_test"
    assert {"accuracy", "two_sample_kolmogorov_smirnov_test", "normalized_discounted_cumulative_gain"} <= \
        GREATER_IS_BETTER
    assert "mae" not in GREATER_IS_BETTER


def test_registered_types_join_every_table_and_leave_with_the_block() -> None:
    info = SignalInfo("toy", None, (MetricInfo("spread", ("numerical",), aliases=("range",)),),
                      {"numerical": {"spread": 2.0}}, reason_unsupported="a toy")
    replaced = replace(signal_info("data_drift"), defaults={"numerical": {"jensen_shannon_distance": 0.3}})
    before = (dict(BY_TYPE), dict(METRICS_BY_SIGNAL), dict(DEFAULT_THRESHOLDS), dict(METRIC_ALIASES))

    def inside() -> None:
        with registered(info, replaced):
            assert signal_info("toy") is info
            assert METRICS_BY_SIGNAL["toy"] == {"numerical": ("spread",)}
            assert DEFAULT_THRESHOLDS[("toy", "numerical")] == {"spread": 2.0}
            assert METRIC_ALIASES["range"] == "spread"
            assert DEFAULT_THRESHOLDS[("data_drift", "numerical")] == {"jensen_shannon_distance": 0.3}
            raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        inside()
    assert (dict(BY_TYPE), dict(METRICS_BY_SIGNAL), dict(DEFAULT_THRESHOLDS), dict(METRIC_ALIASES)) == before
    with pytest.raises(LookupError, match="unknown signal type 'toy'; registered types: data_drift, "):
        signal_info("toy")
    with pytest.raises(LookupError, match="no implementation: a toy"):
        info.compute_function()


@pytest.mark.parametrize(("signal_type", "segment", "expected"), [
    ("data_drift", None, (["a", "b"], ["a", "b"])),
    ("data_quality", "region", (["a", "b", "region"], ["a", "b", "region"])),
    ("data_drift", "a", (["a", "b"], ["a", "b"])),  # no column twice
    ("feature_attribution_drift", "region", (["a", "b", "yhat", "region"], ["a", "b", "label", "region"])),
    ("model_performance", "region", (["yhat", "cid", "region"], ["label", "gid", "region"])),
    ("custom", "region", (None, None)),
])
def test_each_record_says_which_columns_each_side_reads(signal_type: str, segment: str | None,
                                                        expected: tuple[list[str] | None, list[str] | None]) -> None:
    options = {"production_target": "yhat", "reference_target": "label", "prediction": "yhat", "actual": "label",
               "production_id": "cid", "ground_truth_id": "gid"}
    assert signal_info(signal_type).columns(["a", "b"], options, segment) == expected


def test_default_columns_are_the_features() -> None:
    assert feature_columns(["x", "x", "y"], {}, "x") == (["x", "y"], ["x", "y"])


def _batch(features: list[str], notes: list[str], status: str = "completed") -> SignalResult:
    results = {f: FeatureResult(kind="numerical", row_counts={"production": len(f)},
                                metrics={"m": judge(1.0, None, greater_is_better=False)}) for f in features}
    return SignalResult(type="data_drift", status=status, features=results, notes=notes,  # type: ignore[arg-type]
                        row_counts={"production": len(features)}, error=None if status == "completed" else status)


def test_batches_merge_into_the_union_of_their_features_and_notes() -> None:
    merged = merge_feature_batches("data_drift", [_batch(["a", "b"], ["n1", "n2"]), _batch(["c"], ["n2", "n3"])])
    assert list(merged.features) == ["a", "b", "c"]
    assert merged.notes == ["n1", "n2", "n3"]
    assert merged.row_counts == {"production": 2}  # the first batch's
    assert merged.status == "completed"


def test_the_first_batch_that_did_not_complete_is_the_merged_result() -> None:
    first_failure = _batch([], [], status="failed")
    batches = [_batch(["a"], []), first_failure, _batch([], [], status="skipped")]
    assert merge_feature_batches("data_drift", batches) is first_failure
    assert merge_feature_batches("data_drift", []).status == "completed"


def test_batches_are_gated_again_across_all_their_features() -> None:
    """Holm at alpha 0.01: in a batch of 3, p = 0.003 passes (3 x 0.003 = 0.009), across the signal's 6
    features it does not (6 x 0.003 = 0.018); the merged verdict is the whole signal's."""
    def metric(p: float) -> MetricResult:
        return MetricResult(value=0.5, threshold=0.1, direction="less_is_better", breached=True, p_value=p)

    def batch(pvalues: dict[str, float]) -> SignalResult:
        features = {f: FeatureResult(kind="numerical", row_counts={}, metrics={"nwd": metric(p)})
                    for f, p in pvalues.items()}
        return SignalResult(type="data_drift", status="completed", significance=Significance(),
                            features=apply_gate(features, Significance()))

    first, second = batch({"a": 0.003, "b": 0.5, "c": 0.5}), batch({"d": 0.5, "e": 0.5, "f": 0.5})
    assert first.features["a"].metrics["nwd"].breached is True  # alone, the batch lets it through
    merged = merge_feature_batches("data_drift", [first, second])
    assert merged.features["a"].metrics["nwd"].breached is False
    assert merged.features["a"].metrics["nwd"].significant is False
    assert merged.significance == Significance()


def test_a_signal_that_profiles_itself_takes_the_profile_option_and_is_profiled() -> None:
    selfprofiled = [info for info in SIGNALS if info.profiles_itself]
    assert {info.type for info in selfprofiled} == {"data_drift", "prediction_drift"}
    for info in selfprofiled:
        assert info.profiled
        assert "profile" in inspect.signature(info.compute_function()).parameters
