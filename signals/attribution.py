r"""Feature attribution drift: does the model lean on the same features in production as on the reference?

Feature importance (see :mod:`signals.importance`) is computed twice: on the reference with the label as
the target, and on production with the model's predictions as the target. The production importances
then rank the features, and the reference importances say how relevant each feature really is:

.. math:: NDCG = \frac{DCG(r \mid \pi_p)}{DCG(r \mid \pi_r)}

the normalized discounted cumulative gain of the production ranking :math:`\pi_p` graded by reference
relevance :math:`r`, 1 when both rank the features alike. Breach when NDCG < threshold (default 0.9).
Where Azure ML returns 0 for all-zero reference importances, we return null with the reason: there is
nothing to rank against, which is not a ranking that is maximally wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from signals.importance import Importance, ImportanceConfig, ImportanceError, feature_importance
from signals.info import GREATER_IS_BETTER, FeatureKind
from signals.kinds import Task
from signals.results import FeatureResult, SignalResult, judge

NDCG = "normalized_discounted_cumulative_gain"
GROUP = "model"


def discounted_cumulative_gain(relevance: np.ndarray, score: np.ndarray) -> float:
    r"""DCG of the items ordered by decreasing ``score``, graded by ``relevance``; ties are averaged.

    .. math:: DCG = \sum_{g} \bar r_g \sum_{i \in g} \frac{1}{\log_2(i + 1)}

    where the items are sorted by decreasing score, :math:`i` is the 1-based position, and each group
    :math:`g` of items with equal scores gets the mean relevance :math:`\bar r_g` of its members at each
    of its positions (linear gain, log2 discount). This equals ``sklearn.metrics.dcg_score`` with
    ``ignore_ties=False``: the expected DCG over every order of the tied items (McSherry and Najork 2008,
    doi:10.1007/978-3-540-78646-7_43).

    >>> round(discounted_cumulative_gain(np.array([3.0, 1.0]), np.array([0.9, 0.1])), 6)  # 3 + 1/log2(3)
    3.63093
    >>> round(discounted_cumulative_gain(np.array([3.0, 1.0]), np.array([0.5, 0.5])), 6)  # 2 (1 + 1/log2(3))
    3.26186
    """
    relevance = np.asarray(relevance, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    discount = 1.0 / np.log2(np.arange(len(score)) + 2.0)
    _, group, sizes = np.unique(-score, return_inverse=True, return_counts=True)  # groups by decreasing score
    mean_relevance = np.bincount(group, weights=relevance, minlength=len(sizes)) / sizes
    ends = np.cumsum(sizes)
    cumulative = np.concatenate(([0.0], np.cumsum(discount)))
    group_discount = cumulative[ends] - cumulative[ends - sizes]
    return float(np.sum(mean_relevance * group_discount))


def normalized_discounted_cumulative_gain(relevance: np.ndarray, score: np.ndarray) -> float | None:
    r"""NDCG of a ranking by ``score`` graded by ``relevance``, in [0, 1]; None when every relevance is 0.

    .. math:: NDCG = \frac{DCG(relevance, score)}{DCG(relevance, relevance)}

    with :func:`discounted_cumulative_gain` (ties averaged) and the ideal order in the denominator. Equals
    ``sklearn.metrics.ndcg_score([relevance], [score])`` (Järvelin and Kekäläinen 2002,
    doi:10.1145/582415.582418), except that all-zero relevance gives None instead of 0, and a single
    item gives 1 instead of an error. Relevance must be non-negative.

    >>> normalized_discounted_cumulative_gain(np.array([0.5, 0.3, 0.2]), np.array([5.0, 3.0, 2.0]))
    1.0
    >>> round(normalized_discounted_cumulative_gain(np.array([0.5, 0.3, 0.2]), np.array([2.0, 3.0, 5.0])), 6)
    0.809953
    """
    relevance = np.asarray(relevance, dtype=np.float64)
    if np.any(relevance < 0):
        raise ValueError(f"relevance must be non-negative; got minimum {relevance.min()}")
    ideal = discounted_cumulative_gain(relevance, relevance)
    if ideal == 0:
        return None
    return discounted_cumulative_gain(relevance, score) / ideal


def _ranks(values: npt.ArrayLike) -> list[int]:
    """1 for the most important; equal importances share the best rank of their group."""
    from scipy import stats
    return [int(r) for r in stats.rankdata(-np.asarray(values, dtype=np.float64), method="min")]


def attribution_drift(reference: Importance, production: Importance, *, threshold: float | None) -> FeatureResult:
    """NDCG of the production importances against the reference importances, with every feature's ranks."""
    features = sorted(reference.values)
    if sorted(production.values) != features:
        missing = sorted(set(reference.values) ^ set(production.values))
        raise ImportanceError(f"reference and production importances cover different features: {missing}")
    ref = np.array([reference.values[f] for f in features])
    prod = np.array([production.values[f] for f in features])
    value = normalized_discounted_cumulative_gain(ref, prod)
    reason = None
    if value is None:
        reason = reference.note or "every reference importance is 0: the model found nothing to rank"
    ref_rank, prod_rank = _ranks(ref), _ranks(prod)
    table = sorted(
        ({"feature": f, "reference": float(r), "production": float(p), "reference_rank": rr,
          "production_rank": pr, "rank_change": rr - pr}
         for f, r, p, rr, pr in zip(features, ref, prod, ref_rank, prod_rank, strict=True)),
        key=lambda row: (row["reference_rank"], row["feature"]),
    )
    details: dict[str, object] = {
        "task": reference.task,
        "targets": {"reference": reference.target, "production": production.target},
        "sample_rows": {"reference": reference.sample_rows, "production": production.sample_rows},
        "explained_rows": {"reference": reference.explained_rows, "production": production.explained_rows},
        "importance": table,
    }
    notes = [n for n in (reference.note, production.note) if n]
    if notes:
        details["notes"] = notes
    return FeatureResult(
        kind=GROUP, row_counts={"reference": reference.rows, "production": production.rows},
        metrics={NDCG: judge(value, threshold, greater_is_better=NDCG in GREATER_IS_BETTER, reason=reason)},
        details=details,
    )


def compute_attribution(production: pl.DataFrame, reference: pl.DataFrame, *, signal_type: str,
                        features: Sequence[str], kinds: Mapping[str, FeatureKind],
                        thresholds: Mapping[str, Mapping[str, float]],
                        on_feature: Callable[[str], None] | None = None,
                        reference_target: str, production_target: str, task: Task | None = None,
                        config: ImportanceConfig | None = None,
                        reference_importance: Importance | None = None,
                        production_importance: Importance | None = None) -> SignalResult:
    """Feature attribution drift of the model; one result, keyed ``model``.

    ``reference_target`` is the label column of the reference, ``production_target`` the prediction
    column of production. Importances already computed (e.g. cached) are passed in and not refitted.
    The task is inferred from the reference label when not given, and production uses the same task.
    """
    features = [f for f in features if f not in (reference_target, production_target)]
    if reference_importance is None:
        reference_importance = feature_importance(reference, target=reference_target, features=features,
                                                  kinds=kinds, task=task, config=config)
    if production_importance is None:
        production_importance = feature_importance(production, target=production_target, features=features,
                                                   kinds=kinds, task=task or reference_importance.task,
                                                   config=config)
    result = attribution_drift(reference_importance, production_importance,
                               threshold=thresholds.get(GROUP, {}).get(NDCG))
    if on_feature is not None:
        for feature in features:
            on_feature(feature)
    return SignalResult(type=signal_type, status="completed", features={GROUP: result},
                        row_counts={"reference": reference.height, "production": production.height})


def attribution_columns(features: Sequence[str], options: Mapping[str, Any],
                        segment: str | None) -> tuple[list[str], list[str]]:
    """Columns each side reads: the features, that side's importance target, and the segment column."""
    extra = [segment] if segment else []
    return (list(dict.fromkeys([*features, options["production_target"], *extra])),
            list(dict.fromkeys([*features, options["reference_target"], *extra])))


__all__ = [
    "GROUP", "NDCG", "attribution_columns", "attribution_drift", "compute_attribution", "discounted_cumulative_gain",
    "normalized_discounted_cumulative_gain",
]
