r"""Model performance: production predictions joined to ground truth, scored as classification or regression.

Predictions and labels meet on a correlation id. Azure ML's model data collector gives each row of a
batched request the id ``<id>_<index>``, while the label is usually recorded once per request, so a
prediction whose exact id has no label also matches the label of ``<id>`` (a trailing ``_<digits>``
stripped). The share of predictions that found a label is the *join coverage*; below the signal's
``minimum_join_coverage`` the metrics would describe too few rows and the signal is ``insufficient_data``.

Classification: accuracy, and precision, recall and F1 macro-averaged over the union of classes in labels
and predictions (scikit-learn's definitions; a class never predicted has precision 0). Regression: MAE,
MSE, RMSE. Accuracy, precision, recall and F1 breach *below* their thresholds, the errors above: Azure
ML's components compare all of them as less-is-better, and compute no MSE and no F1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from signals.info import GREATER_IS_BETTER, FeatureKind
from signals.kinds import Task, infer_task
from signals.results import FeatureResult, SignalResult, judge

CLASSIFICATION = ("accuracy", "precision", "recall", "f1_score")
REGRESSION = ("mae", "mse", "rmse")
_BATCH_SUFFIX = r"_\d+$"
#: Classes beyond this many are not listed one by one in the details (the metrics still use them all).
MAX_CLASSES_IN_DETAILS = 100


@dataclass(frozen=True)
class Joined:
    """Predictions with their labels, and how the join went."""

    prediction: pl.Series
    actual: pl.Series
    predictions: int
    labelled: int
    exact_matches: int
    batch_matches: int
    ground_truth_rows: int
    duplicate_ids: int

    @property
    def coverage(self) -> float | None:
        return self.labelled / self.predictions if self.predictions else None


def _drop_nan(series: pl.Series) -> pl.Series:
    return series.fill_nan(None) if series.dtype.is_float() else series


def join_ground_truth(production: pl.DataFrame, ground_truth: pl.DataFrame, *, prediction: str, actual: str,
                      production_id: str, ground_truth_id: str) -> Joined:
    """Each prediction with the label of its correlation id, or of ``<id>`` for a batched ``<id>_<index>``.

    Ids are compared as text. When a ground-truth id appears more than once, its last row wins (later
    files correct earlier ones) and the duplicates are counted. Predictions without an id, or whose
    prediction is null, are not scored and do not count towards coverage.
    """
    for frame, side, columns in ((production, "production", (prediction, production_id)),
                                 (ground_truth, "ground truth", (actual, ground_truth_id))):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"column(s) {', '.join(f'`{c}`' for c in missing)} not in the {side} data; "
                             f"columns are: {', '.join(frame.columns[:20])}")
    preds = production.select(
        pl.col(production_id).cast(pl.String).alias("_id"), _drop_nan(production.get_column(prediction)).alias("_p")
    ).filter(pl.col("_p").is_not_null() & pl.col("_id").is_not_null())
    truth = ground_truth.select(
        pl.col(ground_truth_id).cast(pl.String).alias("_id"), _drop_nan(ground_truth.get_column(actual)).alias("_a")
    ).filter(pl.col("_id").is_not_null())
    unique = truth.unique("_id", keep="last", maintain_order=True)
    duplicates = truth.height - unique.height
    labels = unique.with_columns(pl.lit(True).alias("_hit"))
    exact = preds.join(labels, on="_id", how="left")
    stripped = exact.with_columns(pl.col("_id").str.replace(_BATCH_SUFFIX, "").alias("_base"))
    batch = stripped.join(labels.rename({"_id": "_base", "_a": "_a2", "_hit": "_hit2"}), on="_base", how="left")
    use_batch = pl.col("_hit").is_null() & pl.col("_hit2").is_not_null()
    merged = batch.select(
        "_p",
        pl.when(use_batch).then(pl.col("_a2")).otherwise(pl.col("_a")).alias("_a"),
        pl.col("_hit").is_not_null().alias("_exact"),
        use_batch.alias("_batch"),
    )
    labelled = merged.filter(pl.col("_a").is_not_null())
    return Joined(
        prediction=labelled.get_column("_p").alias(prediction), actual=labelled.get_column("_a").alias(actual),
        predictions=preds.height, labelled=labelled.height,
        exact_matches=int(labelled.get_column("_exact").sum()), batch_matches=int(labelled.get_column("_batch").sum()),
        ground_truth_rows=ground_truth.height, duplicate_ids=duplicates,
    )


def _labels(series: pl.Series) -> pl.Series:
    """Class labels as text; integral floats as integers and booleans as 0/1, so 1.0, 1 and True agree."""
    if series.dtype == pl.Boolean:
        series = series.cast(pl.Int64)
    if series.dtype.is_float():
        values = series.to_numpy()
        if np.all(values == np.floor(values)):
            series = series.cast(pl.Int64)
    return series.cast(pl.String)


def classification_metrics(actual: Sequence[object] | pl.Series, predicted: Sequence[object] | pl.Series
                           ) -> tuple[dict[str, float], dict[str, dict[str, float]], list[str], np.ndarray]:
    r"""Accuracy and macro precision, recall and F1 from the confusion matrix, as scikit-learn defines them.

    .. math:: acc = \frac{\sum_c C_{cc}}{n}, \quad P_c = \frac{C_{cc}}{\sum_a C_{ac}}, \quad
              R_c = \frac{C_{cc}}{\sum_p C_{cp}}, \quad F_c = \frac{2 P_c R_c}{P_c + R_c}

    with :math:`C_{ap}` the count of rows labelled :math:`a` and predicted :math:`p` over the union of
    classes; a zero denominator gives 0 (scikit-learn's ``zero_division`` default, without the warning).
    Macro scores are unweighted means over classes. Returns the metrics, per-class scores with support,
    the classes, and the confusion matrix (rows: actual, columns: predicted).

    >>> classification_metrics([1, 1, 0, 0], [1, 0, 0, 0])[0]["accuracy"]
    0.75
    """
    a = _labels(pl.Series(actual))
    p = _labels(pl.Series(predicted))
    classes = sorted(set(a.to_list()) | set(p.to_list()))
    index = {c: i for i, c in enumerate(classes)}
    ai = np.array([index[v] for v in a.to_list()], dtype=np.int64)
    pi = np.array([index[v] for v in p.to_list()], dtype=np.int64)
    k = len(classes)
    confusion = np.bincount(ai * k + pi, minlength=k * k).reshape(k, k)
    tp = np.diag(confusion).astype(np.float64)
    predicted_count, actual_count = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(tp, predicted_count, out=np.zeros(k), where=predicted_count > 0)
    recall = np.divide(tp, actual_count, out=np.zeros(k), where=actual_count > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(k), where=denominator > 0)
    metrics = {"accuracy": float(tp.sum() / len(ai)), "precision": float(precision.mean()),
               "recall": float(recall.mean()), "f1_score": float(f1.mean())}
    per_class = {c: {"precision": float(precision[i]), "recall": float(recall[i]), "f1_score": float(f1[i]),
                     "support": int(actual_count[i])} for i, c in enumerate(classes)}
    return metrics, per_class, classes, confusion


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    r"""Mean absolute error, mean squared error and its root.

    .. math:: MAE = \frac1n \sum |y_i - \hat y_i|, \quad MSE = \frac1n \sum (y_i - \hat y_i)^2, \quad
              RMSE = \sqrt{MSE}

    >>> regression_metrics(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    {'mae': 1.0, 'mse': 2.0, 'rmse': 1.4142135623730951}
    """
    error = np.asarray(actual, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    mse = float(np.mean(error**2))
    return {"mae": float(np.mean(np.abs(error))), "mse": mse, "rmse": math.sqrt(mse)}


def compute_performance(production: pl.DataFrame, reference: pl.DataFrame, *, signal_type: str,
                        features: Sequence[str], kinds: Mapping[str, FeatureKind],
                        thresholds: Mapping[str, Mapping[str, float]],
                        on_feature: Callable[[str], None] | None = None,
                        prediction: str, actual: str, production_id: str, ground_truth_id: str,
                        task: Task | None = None, minimum_join_coverage: float = 0.1) -> SignalResult:
    """Model performance of production predictions against the ground truth in ``reference``.

    One result keyed by the task (``classification`` or ``regression``). ``task`` is inferred by
    :func:`signals.kinds.infer_task` (the label, then the predictions) when None. The join coverage and
    counts go into the result's details.
    """
    joined = join_ground_truth(production, reference, prediction=prediction, actual=actual,
                               production_id=production_id, ground_truth_id=ground_truth_id)
    task = task or infer_task(joined.actual, joined.prediction)
    row_counts = {"production": joined.predictions, "reference": joined.ground_truth_rows,
                  "labelled": joined.labelled}
    details: dict[str, object] = {
        "task": task, "join": {
            "coverage": joined.coverage, "minimum_coverage": minimum_join_coverage,
            "predictions": joined.predictions, "labelled": joined.labelled, "exact_matches": joined.exact_matches,
            "batch_id_matches": joined.batch_matches, "duplicate_ground_truth_ids": joined.duplicate_ids,
        },
        "columns": {"prediction": prediction, "actual": actual, "production_id": production_id,
                    "ground_truth_id": ground_truth_id},
    }
    names = CLASSIFICATION if task == "classification" else REGRESSION
    group_thresholds = thresholds.get(task, {})
    coverage = joined.coverage or 0.0
    if joined.labelled == 0 or coverage < minimum_join_coverage:
        reason = (f"join coverage {coverage:.1%} ({joined.labelled} of {joined.predictions} predictions "
                  f"labelled) is below minimum_join_coverage {minimum_join_coverage:.1%}")
        metrics = {n: judge(None, group_thresholds.get(n), greater_is_better=n in GREATER_IS_BETTER,
                            reason=reason) for n in names}
        result = FeatureResult(kind=task, row_counts=row_counts, metrics=metrics, details=details)
        return SignalResult(type=signal_type, status="insufficient_data", error=reason,
                            features={task: result}, row_counts=row_counts)
    values: Mapping[str, float | None]
    if task == "classification":
        values, per_class, classes, confusion = classification_metrics(joined.actual, joined.prediction)
        details["classes"] = len(classes)
        if len(classes) <= MAX_CLASSES_IN_DETAILS:
            details["per_class"] = per_class
            details["confusion_matrix"] = {"classes": classes, "rows_actual_columns_predicted": confusion.tolist()}
    else:
        a = joined.actual.cast(pl.Float64, strict=False).to_numpy()
        p = joined.prediction.cast(pl.Float64, strict=False).to_numpy()
        finite = np.isfinite(a) & np.isfinite(p)
        details["non_finite_rows"] = int((~finite).sum())
        values = regression_metrics(a[finite], p[finite]) if finite.any() else dict.fromkeys(REGRESSION)
    metrics = {n: judge(values[n], group_thresholds.get(n), greater_is_better=n in GREATER_IS_BETTER,
                        reason=None if values[n] is not None else "no finite label and prediction pairs")
               for n in names}
    if on_feature is not None:
        on_feature(prediction)
    return SignalResult(type=signal_type, status="completed",
                        features={task: FeatureResult(kind=task, row_counts=row_counts, metrics=metrics,
                                                      details=details)},
                        row_counts=row_counts)


def performance_columns(features: Sequence[str], options: Mapping[str, Any],
                        segment: str | None) -> tuple[list[str], list[str]]:
    """Columns each side reads: the prediction and its id in production, the label and its id in the
    ground truth, and the segment column on both (the features are the prediction itself)."""
    extra = [segment] if segment else []
    return ([options["prediction"], options["production_id"], *extra],
            [options["actual"], options["ground_truth_id"], *extra])


__all__ = [
    "CLASSIFICATION", "REGRESSION", "Joined", "classification_metrics", "compute_performance",
    "join_ground_truth", "performance_columns", "regression_metrics",
]
