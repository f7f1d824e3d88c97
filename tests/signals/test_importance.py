"""Surrogate-model feature importance: values against the exact SHAP of an additive function, determinism,
sampling bounds, tasks and errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from signals.importance import ImportanceConfig, ImportanceError, feature_importance

SMALL = ImportanceConfig(n_estimators=60, explain_rows=600)


def _uniform(n: int, seed: int, columns: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({f"x{i}": rng.uniform(-1, 1, size=n) for i in range(columns)})


def test_importance_of_an_additive_function_is_the_mean_absolute_centred_term() -> None:
    # For y = 3 x0 + x1 with independent features, the exact SHAP value of x_j is its centred term, so
    # mean |phi_0| = 3 E|x0 - E x0| and mean |phi_1| = E|x1 - E x1|, computed here with numpy.
    frame = _uniform(4000, seed=1)
    x0, x1 = frame["x0"].to_numpy(), frame["x1"].to_numpy()
    frame = frame.with_columns(pl.Series("y", 3 * x0 + x1))
    kinds = dict.fromkeys(["x0", "x1", "x2"], "numerical")
    result = feature_importance(frame, target="y", features=["x0", "x1", "x2"], kinds=kinds,
                                config=ImportanceConfig(explain_rows=2000))
    assert result.task == "regression"
    assert result.values["x0"] == pytest.approx(3 * np.mean(np.abs(x0 - x0.mean())), rel=0.02)
    assert result.values["x1"] == pytest.approx(np.mean(np.abs(x1 - x1.mean())), rel=0.02)
    assert result.values["x2"] < 0.05 * result.values["x1"]
    assert result.ranked() == ["x0", "x1", "x2"]
    assert (result.rows, result.sample_rows, result.explained_rows) == (4000, 4000, 2000)


def test_same_input_gives_identical_importance() -> None:
    frame = _uniform(1500, seed=2).with_columns((pl.col("x0") + 0.3 * pl.col("x2") > 0).cast(pl.Int8).alias("y"))
    kinds = dict.fromkeys(["x0", "x1", "x2"], "numerical")
    first = feature_importance(frame, target="y", features=["x0", "x1", "x2"], kinds=kinds, config=SMALL)
    second = feature_importance(frame, target="y", features=["x0", "x1", "x2"], kinds=kinds, config=SMALL)
    assert first == second
    assert first.task == "classification"
    assert first.classes == 2
    assert first.ranked()[0] == "x0"


def test_categorical_and_multiclass_targets() -> None:
    rng = np.random.default_rng(4)
    n = 1500
    colour = rng.choice(["red", "green", "blue", "grey"], size=n)
    noise = rng.normal(size=n)
    label = np.where(np.isin(colour, ["red", "green"]), "hot", np.where(colour == "blue", "cold", "other"))
    frame = pl.DataFrame({"colour": colour, "noise": noise, "label": label})
    result = feature_importance(frame, target="label", features=["colour", "noise"],
                                kinds={"colour": "categorical", "noise": "numerical"}, config=SMALL)
    assert result.classes == 3
    assert result.ranked() == ["colour", "noise"]
    assert result.values["noise"] < 0.1 * result.values["colour"]


def test_sample_and_explained_rows_are_bounded() -> None:
    frame = _uniform(3000, seed=5).with_columns((pl.col("x1") * 2).alias("y"))
    kinds = dict.fromkeys(["x0", "x1", "x2"], "numerical")
    result = feature_importance(frame, target="y", features=["x0", "x1", "x2"], kinds=kinds,
                                config=ImportanceConfig(max_rows=800, explain_rows=10_000, n_estimators=30))
    assert (result.rows, result.sample_rows, result.explained_rows) == (3000, 800, 400)
    assert result.ranked()[0] == "x1"


def test_rows_without_a_label_are_dropped_and_high_cardinality_is_folded() -> None:
    rng = np.random.default_rng(6)
    n = 2000
    ids = [f"id{i}" for i in range(n)]  # every value distinct
    x = rng.normal(size=n)
    y = [None if i % 10 == 0 else float(v) for i, v in enumerate(2 * x)]
    frame = pl.DataFrame({"id": ids, "x": x, "y": y})
    result = feature_importance(frame, target="y", features=["id", "x"], kinds={"id": "categorical", "x": "numerical"},
                                config=ImportanceConfig(max_categories=50, n_estimators=30, explain_rows=300))
    assert result.rows == 1800
    assert result.ranked()[0] == "x"


def test_single_class_gives_zero_importance_with_a_note() -> None:
    frame = _uniform(100, seed=7).with_columns(pl.lit("yes").alias("y"))
    result = feature_importance(frame, target="y", features=["x0"], kinds={"x0": "numerical"}, config=SMALL)
    assert result.values == {"x0": 0.0}
    assert "single class" in result.note


def test_errors_name_the_problem() -> None:
    frame = _uniform(50, seed=8).with_columns(pl.Series("score", np.linspace(0, 1, 50)))
    kinds = {"x0": "numerical"}
    with pytest.raises(ImportanceError, match="target column `label` is not in the data"):
        feature_importance(frame, target="label", features=["x0"], kinds=kinds)
    with pytest.raises(ImportanceError, match="set model_type: regression"):
        feature_importance(frame, target="score", features=["x0"], kinds=kinds, task="classification")
    with pytest.raises(ImportanceError, match="at least one feature"):
        feature_importance(frame, target="score", features=["score"], kinds=kinds)


def test_a_label_of_integral_floats_is_classes_and_their_importance_a_classifier_s() -> None:
    """A 0/1 label written as floats (as pandas writes an integer column with nulls) is a class label."""
    frame = _uniform(1500, seed=9).with_columns((pl.col("x0") > 0).cast(pl.Float64).alias("y"))
    result = feature_importance(frame, target="y", features=["x0", "x1"], kinds=dict.fromkeys(["x0", "x1"],
                                                                                             "numerical"), config=SMALL)
    assert (result.task, result.classes) == ("classification", 2)
    assert result.ranked()[0] == "x0"


def test_a_label_that_cannot_be_one_names_the_column() -> None:
    frame = _uniform(20, seed=3).with_columns(pl.Series("y", [[1]] * 20))
    with pytest.raises(ImportanceError, match=r"target column `y` has type List\(Int64\), which cannot be a label"):
        feature_importance(frame, target="y", features=["x0"], kinds={"x0": "numerical"})
