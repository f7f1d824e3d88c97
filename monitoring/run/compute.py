"""Compute one signal (or a batch of its features) from its plan: read both windows, run the signal."""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from monitoring.errors import DataError, MonitoringError
from monitoring.run.importance_cache import cached_importance
from monitoring.run.plan import SignalPlan
from monitoring.schedule.windows import Window
from monitoring.storage.base import Store
from monitoring.text import one_line
from signals.importance import Importance
from signals.kinds import infer_kinds
from signals.profile import attach_profiles
from signals.registry import FeatureKind, signal_info
from signals.results import FeatureResult, MetricResult, SignalResult, judge

# --------------------------------------------------------------------------------------------------
# Compute

log = logging.getLogger(__name__)
#: Signals whose features get side-by-side summary statistics for the report (signals.profile).
_PROFILED = ("data_drift", "prediction_drift", "data_quality")


def _segment(frame: pl.DataFrame, segment: Mapping[str, Any] | None, *, side: str,
             required: bool = True) -> pl.DataFrame:
    """Rows whose segment column is one of the segment's values, compared in the column's own type.

    Numbers compare as numbers (``1`` matches ``1.0``), booleans accept ``true``/``false`` in any case,
    everything else compares as text. ``required=False`` leaves a frame without the column unfiltered.
    """
    if not segment:
        return frame
    column = segment["feature_name"]
    if column not in frame.columns:
        if not required:
            return frame
        raise DataError(f"data_segment column `{column}` is not in the {side} data")
    values = segment["feature_values"]
    dtype = frame.schema[column]
    if dtype.is_numeric():
        numbers = []
        for v in values:
            try:
                numbers.append(float(v))
            except (TypeError, ValueError):
                continue
        condition = pl.col(column).cast(pl.Float64).is_in(numbers)
    elif dtype == pl.Boolean:
        flags = [str(v).strip().lower() == "true" for v in values if str(v).strip().lower() in ("true", "false")]
        condition = pl.col(column).is_in(flags)
    else:
        condition = pl.col(column).cast(pl.String).is_in([str(v) for v in values])
    return frame.filter(condition.fill_null(False))


def _missing_feature(feature: str, side: str) -> FeatureResult:
    return FeatureResult(kind="unknown", row_counts={"reference": 0, "production": 0},
                         metrics={"missing": judge(None, None, greater_is_better=False,
                                                   reason=f"column `{feature}` is not in the {side} data")})


def compute_signal(plan: SignalPlan, *, features: list[str] | None = None,
                   on_feature: Callable[[str], None] | None = None, store: Store | None = None,
                   reraise: tuple[type[BaseException], ...] = ()) -> SignalResult:
    """Compute one signal (or a batch of its features). Failures are results, except ``reraise``.

    Signals that are not per feature (``SignalInfo.per_feature`` False: attribution drift, model
    performance, custom) always compute as a whole and ignore ``features``. ``store`` holds the feature
    importance cache of attribution drift (no cache without it). ``reraise``: exception types that
    propagate instead of failing the signal, so that a caller with retries (the Durable activity) retries
    transient errors such as a dropped connection rather than recording them as the signal's result.
    """
    if plan.unsupported:
        return SignalResult(type=plan.type, status="unsupported", error=plan.unsupported, notes=plan.notes)
    if plan.error:
        return SignalResult(type=plan.type, status="failed", error=one_line(plan.error), notes=plan.notes)
    try:
        return _finite(_compute(plan, features if features is not None else plan.features, on_feature, store))
    except reraise:
        raise
    except MonitoringError as exc:
        return SignalResult(type=plan.type, status="failed", error=one_line(str(exc)), notes=plan.notes)
    except Exception as exc:  # noqa: BLE001 - recorded in run.json with its type; the others go on
        log.error("signal %s failed:\n%s", plan.name, traceback.format_exc())
        return SignalResult(type=plan.type, status="failed", error=one_line(f"{type(exc).__name__}: {exc}"),
                            notes=plan.notes)


def _read_columns(plan: SignalPlan, features: list[str]) -> tuple[list[str] | None, list[str] | None]:
    """Columns to read from production and reference (None: all of them)."""
    segment = [plan.segment["feature_name"]] if plan.segment else []
    options = plan.options
    if plan.type == "custom":
        return None, None
    if plan.type == "model_performance":
        return ([options["prediction"], options["production_id"], *segment],
                [options["actual"], options["ground_truth_id"], *segment])
    if plan.type == "feature_attribution_drift":
        return (list(dict.fromkeys([*features, options["production_target"], *segment])),
                list(dict.fromkeys([*features, options["reference_target"], *segment])))
    wanted = list(dict.fromkeys([*features, *segment]))
    return wanted, wanted


def _compute(plan: SignalPlan, features: list[str], on_feature: Callable[[str], None] | None,
             store: Store | None) -> SignalResult:
    assert plan.production is not None
    assert plan.reference is not None
    info = signal_info(plan.type)
    if not info.per_feature:
        features = plan.features
    prod_columns, ref_columns = _read_columns(plan, features)
    production = plan.production.read(prod_columns)
    reference = plan.reference.read(ref_columns)
    counts = {"production": production.height, "reference": reference.height}
    for side, frame, ref in (("production", production, plan.production), ("reference", reference, plan.reference)):
        if frame.height == 0:
            return SignalResult(type=plan.type, status="skipped", notes=plan.notes, row_counts=counts,
                                error=f"the {side} window {Window.from_dict(ref.window)} of {ref.uri} has no rows")
    present = [f for f in features if f in production.columns and f in reference.columns]
    kinds = infer_kinds(reference, present, overrides=plan.feature_overrides)  # type: ignore[arg-type]
    usable = [f for f in present if kinds[f] is not None]
    production = _segment(production, plan.segment, side="production")
    reference = _segment(reference, plan.segment, side="reference", required=plan.type != "model_performance")
    if plan.segment:
        for side, frame in (("production", production), ("reference", reference)):
            if frame.height == 0:
                return SignalResult(
                    type=plan.type, status="skipped", notes=plan.notes,
                    row_counts={"production": production.height, "reference": reference.height},
                    error=f"segment {plan.segment['feature_name']} in {plan.segment['feature_values']} has no rows "
                          f"in the {side} window",
                )
    options: dict[str, Any] = dict(plan.options)
    if plan.type == "feature_attribution_drift":
        options |= _importances(plan, production, reference, usable, kinds, store)  # type: ignore[arg-type]
    result = info.compute_function()(
        production, reference, signal_type=plan.type, features=usable,
        kinds={f: kinds[f] for f in usable}, thresholds=plan.thresholds, on_feature=on_feature, **options,
    )
    if plan.type in _PROFILED:
        result = attach_profiles(result, production, reference)
    notes = list(plan.notes)
    extra: dict[str, FeatureResult] = {}
    for f in features:
        side = "production" if f not in production.columns else "reference" if f not in reference.columns else None
        if side is None or plan.type in ("model_performance", "custom"):
            continue
        if info.per_feature:
            extra[f] = _missing_feature(f, side)
        else:
            notes.append(f"feature `{f}` is not in the {side} data and was left out")
    skipped = [f for f in present if kinds[f] is None]
    if skipped:
        notes.append(f"not monitored (unsupported column type): {', '.join(skipped)}")
    if plan.segment:
        notes.append(f"segment: {plan.segment['feature_name']} in {plan.segment['feature_values']}")
    notes += [n for n in result.notes if n not in notes]
    return result.model_copy(update={"features": {**result.features, **extra}, "notes": notes})


def _importances(plan: SignalPlan, production: pl.DataFrame, reference: pl.DataFrame, features: list[str],
                 kinds: Mapping[str, FeatureKind], store: Store | None) -> dict[str, Importance]:
    """Both sides' feature importances for attribution drift, through the cache."""
    assert plan.production is not None
    assert plan.reference is not None
    options = plan.options
    out: dict[str, Importance] = {}
    task = options.get("task")
    for side, ref, frame, target in (("reference", plan.reference, reference, options["reference_target"]),
                                     ("production", plan.production, production, options["production_target"])):
        if target not in frame.columns:
            raise DataError(f"feature attribution drift: target column `{target}` is not in the {side} data")
        importance, _ = cached_importance(
            ref, lambda frame=frame: (frame, kinds), monitor=plan.monitor, store=store, target=target,
            features=features, overrides=plan.feature_overrides, task=task, segment=plan.segment,
        )
        out[f"{side}_importance"] = importance
        task = task or importance.task  # production is scored with the reference's task
    return out


def _finite(result: SignalResult) -> SignalResult:
    """The result with every non-finite number replaced by null (metrics get a reason): JSON never sees NaN."""
    features: dict[str, FeatureResult] = {}
    changed = False
    for name, fr in result.features.items():
        metrics: dict[str, MetricResult] = {}
        for metric, mr in fr.metrics.items():
            bad_value = mr.value is not None and not math.isfinite(mr.value)
            bad_threshold = mr.threshold is not None and not math.isfinite(mr.threshold)
            if bad_value or bad_threshold:
                changed = True
                mr = mr.model_copy(update={
                    "value": None if bad_value else mr.value, "breached": None,
                    "threshold": None if bad_threshold else mr.threshold,
                    "reason": mr.reason or f"value is {mr.value}" if bad_value else mr.reason,
                })
            metrics[metric] = mr
        details = _clean(fr.details) if fr.details is not None else None
        if details != fr.details or metrics != fr.metrics:
            changed = True
        features[name] = fr.model_copy(update={"metrics": metrics, "details": details})
    return result.model_copy(update={"features": features}) if changed else result


def _clean(value: Any) -> Any:
    """``value`` with non-finite floats (at any depth in dicts, lists and tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def merge_batches(signal_type: str, batches: list[SignalResult]) -> SignalResult:
    """One signal result from the results of its feature batches (first failure wins)."""
    failed = next((b for b in batches if b.status != "completed"), None)
    if failed is not None:
        return failed
    features: dict[str, FeatureResult] = {}
    notes: list[str] = []
    for b in batches:
        features.update(b.features)
        notes += [n for n in b.notes if n not in notes]
    return SignalResult(type=signal_type, status="completed", features=features, notes=notes,
                        row_counts=batches[0].row_counts if batches else {})
