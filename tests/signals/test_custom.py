"""Custom signals: registration by name, lookup errors, row validation, directions, and the examples."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
import pytest

from signals.custom import (
    CustomRegistry,
    active_registry,
    compute_custom,
    isolated_registry,
    lookup,
    register_custom_signal,
    registered_signals,
    signal_name,
)


@register_custom_signal("test_rows", greater_is_better={"score"})
def _rows(production: pl.LazyFrame, reference: pl.LazyFrame, inputs: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    rows = production.select(pl.len()).collect().item()
    return [("all", "rows", rows), ("all", "score", inputs.get("score", 0.5)), ("other", "rows", float("nan")),
            ("other", "accuracy", 0.2), ("other", "none", None)]


@pytest.fixture(autouse=True)
def _registered(custom_registry: CustomRegistry) -> None:
    custom_registry.add(_rows)


def _run(component_id: str, thresholds: dict[str, float] | None = None, inputs: dict[str, Any] | None = None,
         production: pl.DataFrame | None = None, reference: pl.DataFrame | None = None) -> Any:
    production = production if production is not None else pl.DataFrame({"x": [1.0, 2.0, 3.0]})
    reference = reference if reference is not None else pl.DataFrame({"x": [1.0, 2.0]})
    return compute_custom(production, reference, signal_type="custom", features=[], kinds={},
                          thresholds={"custom": thresholds or {}}, component_id=component_id, inputs=inputs)


def test_rows_become_metrics_per_group_with_registered_and_declared_directions() -> None:
    result = _run("test_rows", {"rows": 2, "score": 0.6, "accuracy": 0.5, "unused": 1.0}, {"score": 0.7})
    assert result.status == "completed"
    assert set(result.features) == {"all", "other"}
    rows = result.features["all"].metrics["rows"]
    assert (rows.value, rows.direction, rows.breached) == (3.0, "less_is_better", True)
    score = result.features["all"].metrics["score"]
    assert (score.direction, score.breached) == ("greater_is_better", False)  # declared by the registration
    accuracy = result.features["other"].metrics["accuracy"]
    assert (accuracy.direction, accuracy.breached) == ("greater_is_better", True)  # in the registry's set
    nan = result.features["other"].metrics["rows"]
    assert nan.value is None
    assert "nan" in nan.reason
    assert result.features["other"].metrics["none"].reason == "the custom signal returned no value"
    assert result.notes == ["thresholds for metrics the signal did not return: unused"]


def test_unknown_component_lists_the_registered_names() -> None:
    with pytest.raises(LookupError, match="not registered") as info:
        lookup("azureml:no_such_signal:1")
    for name in ("category_coverage", "mean_shift", "test_rows"):
        assert name in str(info.value)


@pytest.mark.parametrize(("component_id", "name"), [
    ("mean_shift", "mean_shift"), ("azureml:mean_shift:3", "mean_shift"), ("azureml:mean_shift", "mean_shift"),
    ("mean_shift:1.0.0", "mean_shift"),
])
def test_component_id_compatibility_forms(component_id: str, name: str) -> None:
    assert signal_name(component_id) == name
    assert lookup(component_id).name == name


def test_a_name_cannot_be_registered_twice_by_different_functions() -> None:
    with pytest.raises(ValueError, match="already registered"):
        active_registry().add(register_custom_signal("test_rows")(lambda p, r, i: []))
    with pytest.raises(ValueError, match="must be letters"):
        register_custom_signal("bad name")


@pytest.mark.parametrize("output", [
    {"not": "rows"}, [("g", "m")], [("g", "m", "text")], pl.DataFrame({"group": ["g"], "metric": ["m"]}),
])
def test_malformed_output_is_a_type_error_naming_the_signal(output: object) -> None:
    active_registry().add(register_custom_signal("test_malformed")(_returns(output)))
    with pytest.raises(TypeError, match="custom signal `test_malformed`"):
        _run("test_malformed")


def _returns(output: object) -> Any:
    def fn(production: pl.LazyFrame, reference: pl.LazyFrame, inputs: Mapping[str, Any]) -> object:
        return output

    fn.__qualname__ = "fn"
    return fn


def test_duplicate_metric_in_a_group_is_an_error() -> None:
    active_registry().add(register_custom_signal("test_duplicate")(_returns_twice))
    with pytest.raises(ValueError, match="returned metric `m` twice"):
        _run("test_duplicate")


def _returns_twice(production: pl.LazyFrame, reference: pl.LazyFrame, inputs: Mapping[str, Any]) -> list[tuple]:
    return [("g", "m", 1), ("g", "m", 2)]


def test_example_mean_shift_equals_numpy() -> None:
    rng = np.random.default_rng(9)
    ref = pl.DataFrame({"a": rng.normal(5, 2, 800), "b": rng.normal(0, 1, 800)})
    prod = pl.DataFrame({"a": rng.normal(6, 2, 500), "b": [*rng.normal(0, 1, 499), None]})
    result = _run("mean_shift", {"standardized_mean_difference": 0.3}, {"columns": ["a", "b"]}, prod, ref)
    for column in ("a", "b"):
        p = prod[column].drop_nulls().to_numpy()
        r = ref[column].to_numpy()
        expected = abs(p.mean() - r.mean()) / np.std(r, ddof=1)
        metric = result.features[column].metrics["standardized_mean_difference"]
        assert metric.value == pytest.approx(expected)
        assert metric.breached is bool(expected > 0.3)
    assert result.features["a"].metrics["standardized_mean_difference"].breached is True


def test_example_mean_shift_of_a_constant_reference_is_null() -> None:
    result = _run("mean_shift", {}, {"columns": "x"}, pl.DataFrame({"x": [1.0, 2.0]}), pl.DataFrame({"x": [1.0, 1.0]}))
    assert result.features["x"].metrics["standardized_mean_difference"].value is None


def test_example_category_coverage_is_greater_is_better() -> None:
    rng = np.random.default_rng(10)
    ref = rng.choice(["a", "b", "c"], 300)
    prod = rng.choice(["a", "b", "c", "z"], 200)
    result = _run("category_coverage", {"coverage": 0.9}, {"columns": ["c"]},
                  pl.DataFrame({"c": prod}), pl.DataFrame({"c": ref}))
    metric = result.features["c"].metrics["coverage"]
    assert metric.value == pytest.approx(np.isin(prod, ref).mean())
    assert metric.direction == "greater_is_better"
    assert metric.breached is True
    assert "coverage" in registered_signals()["category_coverage"].greater_is_better


def test_example_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match=r"inputs\.columns"):
        _run("mean_shift", {}, {})
    assert math.isfinite(_run("mean_shift", {}, {"columns": ["x"]}).features["x"]
                         .metrics["standardized_mean_difference"].value)


def test_a_registration_module_that_is_not_installed_is_named_in_the_lookup_error() -> None:
    with pytest.raises(LookupError, match=r"modules not installed: no_such_package\.signals"):
        lookup("mean_shift_typo", modules=("examples.custom_signals", "no_such_package.signals"))
    assert lookup("mean_shift", modules=("no_such_package.signals",)).name == "mean_shift"


def test_registrations_in_an_isolated_registry_are_gone_after_it() -> None:
    with isolated_registry() as inner:
        inner.add(register_custom_signal("test_scoped")(_returns([])))
        assert lookup("test_scoped").name == "test_scoped"
    with pytest.raises(LookupError, match="`test_scoped` is not registered"):
        lookup("test_scoped")
    assert lookup("test_rows").name == "test_rows"  # the enclosing registry is intact


def test_marking_alone_registers_nothing_and_loading_a_module_registers_its_marked_functions() -> None:
    with isolated_registry() as empty:
        empty.signals.clear()
        register_custom_signal("test_unloaded")(_returns([]))
        assert "test_unloaded" not in registered_signals()
        assert empty.load(["examples.custom_signals", "no_such_package.signals"]) == ["no_such_package.signals"]
        assert {"mean_shift", "category_coverage"} <= set(registered_signals())
        empty.signals.clear()
        empty.load(["examples.custom_signals"])  # already imported: loading again still registers
        assert "mean_shift" in registered_signals()
