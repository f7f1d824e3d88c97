"""NDCG against scikit-learn, and feature attribution drift end to end on frames."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from sklearn.metrics import dcg_score, ndcg_score

from signals.attribution import (
    NDCG,
    attribution_drift,
    compute_attribution,
    discounted_cumulative_gain,
    normalized_discounted_cumulative_gain,
)
from signals.importance import Importance, ImportanceConfig

SMALL = ImportanceConfig(n_estimators=60, explain_rows=600)


@pytest.mark.parametrize("seed", range(8))
def test_ndcg_equals_sklearn_with_and_without_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    relevance = rng.exponential(size=n)
    relevance[rng.random(n) < 0.2] = 0.0
    continuous = rng.normal(size=n)
    tied = rng.integers(0, 4, size=n).astype(float)  # many ties: sklearn averages them
    for score in (continuous, tied, relevance[::-1].copy()):
        assert normalized_discounted_cumulative_gain(relevance, score) == pytest.approx(
            ndcg_score([relevance], [score]), abs=1e-12)
        assert discounted_cumulative_gain(relevance, score) == pytest.approx(
            dcg_score([relevance], [score]), abs=1e-12)


def test_ndcg_edge_cases() -> None:
    assert normalized_discounted_cumulative_gain(np.array([0.4, 0.1]), np.array([9.0, 1.0])) == 1.0
    assert normalized_discounted_cumulative_gain(np.array([0.0, 0.0]), np.array([1.0, 2.0])) is None
    assert normalized_discounted_cumulative_gain(np.array([0.7]), np.array([0.1])) == 1.0
    with pytest.raises(ValueError, match="non-negative"):
        normalized_discounted_cumulative_gain(np.array([-1.0, 1.0]), np.array([1.0, 2.0]))


def _importance(values: dict[str, float], target: str = "y") -> Importance:
    return Importance(values=values, target=target, task="regression", rows=10, sample_rows=10, explained_rows=5)


def test_attribution_result_lists_each_features_ranks_and_judges_ndcg() -> None:
    ref = {"a": 0.5, "b": 0.3, "c": 0.2, "d": 0.0}
    prod = {"a": 0.1, "b": 0.3, "c": 0.6, "d": 0.05}
    result = attribution_drift(_importance(ref), _importance(prod, "prediction"), threshold=0.9)
    names = sorted(ref)
    expected = ndcg_score([[ref[f] for f in names]], [[prod[f] for f in names]])
    metric = result.metrics[NDCG]
    assert metric.value == pytest.approx(expected)
    assert metric.breached is (expected < 0.9)
    assert metric.direction == "greater_is_better"
    table = {row["feature"]: row for row in result.details["importance"]}
    ref_rank = stats.rankdata([-ref[f] for f in names], method="min")
    prod_rank = stats.rankdata([-prod[f] for f in names], method="min")
    for f, rr, pr in zip(names, ref_rank, prod_rank, strict=True):
        assert (table[f]["reference_rank"], table[f]["production_rank"]) == (rr, pr)
        assert table[f]["rank_change"] == rr - pr
    assert [row["feature"] for row in result.details["importance"]] == ["a", "b", "c", "d"]
    assert result.details["targets"] == {"reference": "y", "production": "prediction"}


def test_all_zero_reference_importance_is_null_with_reason_not_zero() -> None:
    result = attribution_drift(_importance({"a": 0.0, "b": 0.0}), _importance({"a": 1.0, "b": 0.0}), threshold=0.9)
    assert result.metrics[NDCG].value is None
    assert result.metrics[NDCG].breached is None
    assert "0" in result.metrics[NDCG].reason


def _frames(seed: int, *, production_uses: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 1500

    def frame() -> pl.DataFrame:
        return pl.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n), "x2": rng.normal(size=n)})

    ref = frame()
    ref = ref.with_columns((2 * pl.col("x0") + pl.col("x1") + 0.5 * pl.col("x2") > 0).cast(pl.Int8).alias("label"))
    prod = frame()
    prod = prod.with_columns((2 * pl.col(production_uses) + 0.2 * pl.col("x1") > 0).cast(pl.Int8).alias("pred"))
    return prod, ref


@pytest.mark.parametrize(("uses", "breached"), [("x0", False), ("x2", True)])
def test_compute_attribution_detects_a_model_that_leans_on_another_feature(uses: str, breached: bool) -> None:
    prod, ref = _frames(11, production_uses=uses)
    kinds = dict.fromkeys(["x0", "x1", "x2"], "numerical")
    result = compute_attribution(prod, ref, signal_type="feature_attribution_drift", features=["x0", "x1", "x2"],
                                 kinds=kinds, thresholds={"model": {NDCG: 0.9}}, reference_target="label",
                                 production_target="pred", config=SMALL)
    model = result.features["model"]
    assert model.metrics[NDCG].breached is breached
    assert model.details["task"] == "classification"
    table = {row["feature"]: row for row in model.details["importance"]}
    assert table["x0"]["reference_rank"] == 1
    assert table[uses]["production_rank"] == 1
    assert result.row_counts == {"reference": 1500, "production": 1500}


def test_precomputed_importances_are_used_as_given() -> None:
    prod, ref = _frames(12, production_uses="x0")
    given = {"x0": 1.0, "x1": 0.5, "x2": 0.1}
    result = compute_attribution(prod, ref, signal_type="feature_attribution_drift", features=["x0", "x1", "x2"],
                                 kinds=dict.fromkeys(given, "numerical"), thresholds={},
                                 reference_target="label", production_target="pred",
                                 reference_importance=_importance(given), production_importance=_importance(given))
    assert result.features["model"].metrics[NDCG].value == pytest.approx(1.0)
    assert result.features["model"].metrics[NDCG].threshold is None
