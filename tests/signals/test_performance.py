"""Model performance against scikit-learn, and the ground-truth join with batched correlation ids."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from signals.performance import classification_metrics, compute_performance, join_ground_truth, regression_metrics


def _classes(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actual = rng.choice(["a", "b", "c", "d"], size=500, p=[0.4, 0.3, 0.2, 0.1])
    predicted = np.where(rng.random(500) < 0.7, actual, rng.choice(["a", "b", "e"], size=500))  # d never predicted
    return actual, predicted


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_metrics_equal_sklearn_macro_and_per_class(seed: int) -> None:
    actual, predicted = _classes(seed)
    values, per_class, classes, confusion = classification_metrics(actual.tolist(), predicted.tolist())
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(actual, predicted))
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1_score", skm.f1_score)):
        assert values[name] == pytest.approx(fn(actual, predicted, average="macro", zero_division=0))
    p, r, f, support = skm.precision_recall_fscore_support(actual, predicted, labels=classes, zero_division=0)
    for i, c in enumerate(classes):
        expected = {"precision": p[i], "recall": r[i], "f1_score": f[i], "support": support[i]}
        assert per_class[c] == pytest.approx(expected)
    assert confusion.tolist() == skm.confusion_matrix(actual, predicted, labels=classes).tolist()


def test_labels_of_different_types_compare_as_the_same_class() -> None:
    values, _, classes, _ = classification_metrics(pl.Series([True, False, True]), pl.Series([1.0, 0.0, 0.0]))
    assert classes == ["0", "1"]
    assert values["accuracy"] == pytest.approx(2 / 3)


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(3)
    actual = rng.normal(10, 3, size=400)
    predicted = actual + rng.normal(0.5, 2, size=400)
    values = regression_metrics(actual, predicted)
    assert values["mae"] == pytest.approx(skm.mean_absolute_error(actual, predicted))
    assert values["mse"] == pytest.approx(skm.mean_squared_error(actual, predicted))
    assert values["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(actual, predicted)))


def test_join_matches_exact_ids_first_then_the_batched_request_id() -> None:
    production = pl.DataFrame({
        "cid": ["r1", "r2_0", "r2_1", "r3_0", "r4", "r5", None, "r6"],
        "pred": [1, 0, 1, 1, 0, 1, 1, None],
    })
    truth = pl.DataFrame({
        "id": ["r1", "r2", "r3_0", "r3", "r5", "r5", "r6"],
        "label": [1, 1, 0, 1, 7, 0, 1],
    })
    joined = join_ground_truth(production, truth, prediction="pred", actual="label", production_id="cid",
                               ground_truth_id="id")
    assert joined.predictions == 6  # no id and no prediction are not scored
    assert joined.labelled == 5  # r4 has no label
    assert (joined.exact_matches, joined.batch_matches) == (3, 2)
    pairs = sorted(zip(joined.prediction.to_list(), joined.actual.to_list(), strict=True))
    assert pairs == sorted([(1, 1), (0, 1), (1, 1), (1, 0), (1, 0)])  # r3_0 exact (0), r5 last row wins (0)
    assert joined.duplicate_ids == 1
    assert joined.coverage == pytest.approx(5 / 6)


def _labelled(seed: int, n: int = 600, share: float = 0.5) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    actual = rng.integers(0, 2, size=n)
    predicted = np.where(rng.random(n) < 0.8, actual, 1 - actual)
    ids = [f"c{i}" for i in range(n)]
    production = pl.DataFrame({"correlationid": [f"{i}_0" for i in ids], "prediction": predicted})
    keep = rng.random(n) < share
    truth = pl.DataFrame({"correlationid": np.array(ids)[keep], "label": actual[keep]})
    return production, truth, keep


def test_compute_performance_classification_with_directions_and_coverage() -> None:
    production, truth, keep = _labelled(4)
    thresholds = {"classification": {"accuracy": 0.9, "precision": 0.5, "recall": 0.95}}
    result = compute_performance(production, truth, signal_type="model_performance", features=["prediction"],
                                 kinds={}, thresholds=thresholds, prediction="prediction", actual="label",
                                 production_id="correlationid", ground_truth_id="correlationid")
    assert result.status == "completed"
    group = result.features["classification"]
    actual = truth["label"].to_numpy()
    predicted = production["prediction"].to_numpy()[keep]
    accuracy = skm.accuracy_score(actual, predicted)
    assert group.metrics["accuracy"].value == pytest.approx(accuracy)
    assert group.metrics["accuracy"].breached is True  # ~0.8 < 0.9: greater is better
    assert group.metrics["precision"].breached is False
    assert group.metrics["f1_score"].threshold is None
    assert group.details["join"]["coverage"] == pytest.approx(keep.mean())
    assert group.details["join"]["batch_id_matches"] == keep.sum()
    assert result.row_counts["labelled"] == keep.sum()
    assert set(group.details["per_class"]) == {"0", "1"}


def test_regression_errors_breach_above_their_thresholds() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(size=300)
    production = pl.DataFrame({"id": range(300), "yhat": y + rng.normal(0, 0.5, size=300)})
    truth = pl.DataFrame({"id": range(300), "y": y})
    result = compute_performance(production, truth, signal_type="model_performance", features=[], kinds={},
                                 thresholds={"regression": {"mae": 0.1, "rmse": 10.0}}, prediction="yhat",
                                 actual="y", production_id="id", ground_truth_id="id")
    group = result.features["regression"]
    assert group.metrics["mae"].value == pytest.approx(skm.mean_absolute_error(y, production["yhat"]))
    assert group.metrics["mae"].breached is True
    assert group.metrics["rmse"].breached is False
    assert group.metrics["mae"].direction == "less_is_better"


def test_low_join_coverage_is_insufficient_data_with_the_coverage_in_the_reason() -> None:
    production, truth, keep = _labelled(6, share=0.05)
    result = compute_performance(production, truth, signal_type="model_performance", features=[], kinds={},
                                 thresholds={}, prediction="prediction", actual="label",
                                 production_id="correlationid", ground_truth_id="correlationid",
                                 task="classification", minimum_join_coverage=0.2)
    assert result.status == "insufficient_data"
    assert f"{keep.sum()} of 600 predictions labelled" in result.error
    assert all(m.value is None for m in result.features["classification"].metrics.values())


def test_missing_join_columns_name_the_column_and_side() -> None:
    with pytest.raises(ValueError, match=r"`label`.*ground truth"):
        join_ground_truth(pl.DataFrame({"id": [1], "p": [1]}), pl.DataFrame({"id": [1]}), prediction="p",
                          actual="label", production_id="id", ground_truth_id="id")
