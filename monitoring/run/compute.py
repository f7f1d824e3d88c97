"""Compute one signal (or a batch of its features) from its plan: read both windows, run the signal."""

from __future__ import annotations

import difflib
import json
import logging
import math
import traceback
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import polars as pl

from monitoring.data.read import WindowData
from monitoring.data.refs import DataRef
from monitoring.errors import DataError, MonitoringError
from monitoring.run.importance_cache import cached_importance
from monitoring.run.plan import SignalPlan
from monitoring.schedule.windows import Window
from monitoring.storage.base import Store
from monitoring.text import one_line
from signals.importance import Importance
from signals.info import FeatureKind
from signals.kinds import infer_kinds
from signals.profile import attach_profiles
from signals.registry import SignalInfo, signal_info
from signals.results import FeatureResult, MetricResult, SignalResult, judge

# --------------------------------------------------------------------------------------------------
# Compute

log = logging.getLogger(__name__)
#: Reads one window of a data reference with the columns asked (None: all).
WindowReader = Callable[[DataRef, list[str] | None], WindowData]
#: The note naming a batch's columns of an unsupported type; ``merge_batches`` keeps one for the signal.
UNSUPPORTED_NOTE = "not monitored (unsupported column type): "


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


def _missing_text(feature: str, side: str, columns: list[str]) -> str:
    """``column `x` is not in the production data; did you mean `y`?`` (closest names by difflib)."""
    close = difflib.get_close_matches(feature, columns, n=2, cutoff=0.6)
    hint = "; did you mean " + " or ".join(f"`{c}`" for c in close) + "?" if close else ""
    return f"column `{feature}` is not in the {side} data{hint}"


def missing_feature(feature: str, side: str, columns: list[str]) -> FeatureResult:
    """A listed feature that a side lacks: a failed feature whose reason names the closest columns."""
    return FeatureResult(kind="unknown", row_counts={"reference": 0, "production": 0},
                         metrics={"missing": judge(None, None, greater_is_better=False,
                                                   reason=_missing_text(feature, side, columns))})


def _check_listed_features(plan: SignalPlan, info: SignalInfo, features: list[str], production: pl.DataFrame,
                           reference: pl.DataFrame) -> dict[str, list[str]]:
    """Each side's columns when a listed feature is missing from the frames read (else nothing); fails
    the signal when none of its listed features is in both sides' data, which would otherwise look like
    an empty window, hiding a typo behind a "no rows" skip."""
    prod_names, ref_names = set(production.columns), set(reference.columns)  # one set each: wide frames
    if not info.selects_features or all(f in prod_names and f in ref_names for f in features):
        return {}
    assert plan.production is not None
    assert plan.reference is not None
    sides = (("production", plan.production.columns()), ("reference", plan.reference.columns()))
    named = {side: set(cols) for side, cols in sides}
    # a batch of the signal's features may hold only missing ones: the signal fails only when none of
    # *its* listed features is in the data, else each missing one is a failed feature of its own
    if any(f in named["production"] and f in named["reference"] for f in plan.features or features):
        return dict(sides)
    side, columns = next((side, cols) for side, cols in sides if any(f not in named[side] for f in features))
    missing = next(f for f in features if f not in named[side])
    more = f" (nor any of {len(features) - 1} other listed feature(s))" if len(features) > 1 else ""
    raise DataError(f"no listed feature is in the data: {_missing_text(missing, side, columns)}{more}")


def compute_signal(plan: SignalPlan, *, features: list[str] | None = None,
                   on_feature: Callable[[str], None] | None = None, store: Store | None = None,
                   reraise: tuple[type[BaseException], ...] = (), windows: WindowReader | None = None) -> SignalResult:
    """Compute one signal (or a batch of its features). Failures are results, except ``reraise``.

    Signals that are not per feature (``SignalInfo.per_feature`` False: attribution drift, model
    performance, custom) always compute as a whole and ignore ``features``. ``store`` holds the feature
    importance cache of attribution drift (no cache without it). ``reraise``: exception types that
    propagate instead of failing the signal, so that a caller with retries (the Durable activity) retries
    transient errors such as a dropped connection rather than recording them as the signal's result.
    ``windows``: reads a window (``DataRef.read_window`` by default), e.g. the run's shared windows
    (``monitoring.run.shared_windows``).
    """
    if plan.unsupported:
        return SignalResult(type=plan.type, status="unsupported", error=plan.unsupported, notes=plan.notes)
    if plan.error:
        return SignalResult(type=plan.type, status="failed", error=one_line(plan.error), notes=plan.notes)
    try:
        return _finite(_compute(plan, features if features is not None else plan.features, on_feature, store,
                                windows or _read_window))
    except reraise:
        raise
    except MonitoringError as exc:
        return SignalResult(type=plan.type, status="failed", error=one_line(str(exc)), notes=plan.notes)
    except Exception as exc:  # noqa: BLE001 - recorded in run.json with its type; the others go on
        log.error("signal %s failed:\n%s", plan.name, traceback.format_exc())
        return SignalResult(type=plan.type, status="failed", error=one_line(f"{type(exc).__name__}: {exc}"),
                            notes=plan.notes)


def _skipped(plan: SignalPlan, production: pl.DataFrame, reference: pl.DataFrame, error: str) -> SignalResult:
    return SignalResult(type=plan.type, status="skipped", notes=plan.notes, error=error,
                        row_counts={"production": production.height, "reference": reference.height})


def _with_unparsed(result: SignalResult, unparsed: Mapping[str, int]) -> SignalResult:
    """The result with a note and a ``row_counts`` entry (``unparsed_timestamps_<side>``) per side whose
    window left out rows with an unparsable timestamp: such rows are in no window and never silently lost."""
    if not unparsed:
        return result
    notes = [*result.notes, *(f"{n} rows of {side} had unparsable timestamps and were left out"
                              for side, n in unparsed.items())]
    counts = {**result.row_counts, **{f"unparsed_timestamps_{side}": n for side, n in unparsed.items()}}
    return result.model_copy(update={"notes": notes, "row_counts": counts})


def _read_window(ref: DataRef, columns: list[str] | None) -> WindowData:
    return ref.read_window(columns)


def _read(plan: SignalPlan, info: SignalInfo, features: list[str],
          windows: WindowReader = _read_window) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]] | SignalResult:
    """Both windows with the columns the signal reads and the unparsable timestamp counts per side; an
    empty window is skipped."""
    assert plan.production is not None
    assert plan.reference is not None
    segment_column = plan.segment["feature_name"] if plan.segment else None
    prod_columns, ref_columns = info.columns(features, plan.options, segment_column)
    prod_data, ref_data = windows(plan.production, prod_columns), windows(plan.reference, ref_columns)
    production, reference = prod_data.frame, ref_data.frame
    unparsed = {side: data.unparsed_timestamps for side, data in (("production", prod_data), ("reference", ref_data))
                if data.unparsed_timestamps}
    for side, frame, ref, wanted in (("production", production, plan.production, prod_columns),
                                     ("reference", reference, plan.reference, ref_columns)):
        # a frame with none of the listed features has no columns and so no rows: the feature check names them
        if frame.height == 0 and (frame.width > 0 or not wanted or not info.selects_features):
            return _with_unparsed(_skipped(plan, production, reference, f"the {side} window "
                                           f"{Window.from_dict(ref.window)} of {ref.uri} has no rows"), unparsed)
    return production, reference, unparsed


def _segmented(plan: SignalPlan, info: SignalInfo, production: pl.DataFrame,
               reference: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame] | SignalResult:
    """Both frames cut to the segment; a side with no rows in it is skipped."""
    production = _segment(production, plan.segment, side="production")
    reference = _segment(reference, plan.segment, side="reference", required=info.segment_on_reference)
    if plan.segment:
        for side, frame in (("production", production), ("reference", reference)):
            if frame.height == 0:
                return _skipped(plan, production, reference,
                                f"segment {plan.segment['feature_name']} in {plan.segment['feature_values']} "
                                f"has no rows in the {side} window")
    return production, reference


def _compute(plan: SignalPlan, features: list[str], on_feature: Callable[[str], None] | None,
             store: Store | None, windows: WindowReader) -> SignalResult:
    info = signal_info(plan.type)
    if not info.per_feature:
        features = plan.features
    read = _read(plan, info, features, windows)
    if isinstance(read, SignalResult):
        return read
    production, reference, unparsed = read
    return _with_unparsed(_compute_frames(plan, info, features, production, reference, on_feature, store),
                          unparsed)


def _compute_frames(plan: SignalPlan, info: SignalInfo, features: list[str], production: pl.DataFrame,
                    reference: pl.DataFrame, on_feature: Callable[[str], None] | None,
                    store: Store | None) -> SignalResult:
    columns = _check_listed_features(plan, info, features, production, reference)
    prod_names, ref_names = set(production.columns), set(reference.columns)
    present = [f for f in features if f in prod_names and f in ref_names]
    kinds = infer_kinds(reference, present, overrides=plan.feature_overrides)  # type: ignore[arg-type]
    usable = [f for f in present if kinds[f] is not None]
    segmented = _segmented(plan, info, production, reference)
    if isinstance(segmented, SignalResult):
        return segmented
    production, reference = segmented
    options: dict[str, Any] = dict(plan.options)
    if info.gated:
        options["significance"] = plan.significance
    if info.needs_importance:
        options |= _importances(plan, production, reference, usable, kinds, store)  # type: ignore[arg-type]
    if info.profiled and info.profiles_itself:
        options["profile"] = True  # from the values it converts and sorts anyway, in its feature threads
    result = info.compute_function()(
        production, reference, signal_type=plan.type, features=usable,
        kinds={f: kinds[f] for f in usable}, thresholds=plan.thresholds, on_feature=on_feature, **options,
    )
    if info.profiled:
        result = attach_profiles(result, production, reference)
    return _annotated(plan, info, result, features, production, reference,
                      skipped=[f for f in present if kinds[f] is None], columns=columns)


def _annotated(plan: SignalPlan, info: SignalInfo, result: SignalResult, features: list[str],
               production: pl.DataFrame, reference: pl.DataFrame, *, skipped: list[str],
               columns: Mapping[str, list[str]]) -> SignalResult:
    """The result with the features missing on a side (a result each, or a note), the unsupported
    columns, the segment and the signal's own notes."""
    notes = list(plan.notes)
    extra: dict[str, FeatureResult] = {}
    prod_names, ref_names = set(production.columns), set(reference.columns)
    for f in features if info.selects_features else ():
        side = "production" if f not in prod_names else "reference" if f not in ref_names else None
        if side is None:
            continue
        if info.per_feature:
            extra[f] = missing_feature(f, side, columns.get(side, []))
        else:
            notes.append(f"feature `{f}` is not in the {side} data and was left out")
    if skipped:
        notes.append(UNSUPPORTED_NOTE + ", ".join(skipped))
    if plan.segment:
        notes.append(f"segment: {plan.segment['feature_name']} in {plan.segment['feature_values']}")
    notes += [n for n in result.notes if n not in notes]
    return result.model_copy(update={"features": {**result.features, **extra}, "notes": notes})


def _importances(plan: SignalPlan, production: pl.DataFrame, reference: pl.DataFrame, features: list[str],
                 kinds: Mapping[str, FeatureKind], store: Store | None) -> dict[str, Importance]:
    """Both sides' feature importances (``SignalInfo.needs_importance``), through the cache: the reference's
    for the option ``reference_target``, production's for ``production_target``, with the option ``task``
    (production is scored with the reference's task when it is None)."""
    assert plan.production is not None
    assert plan.reference is not None
    options = plan.options
    out: dict[str, Importance] = {}
    task = options.get("task")
    for side, ref, frame, target in (("reference", plan.reference, reference, options["reference_target"]),
                                     ("production", plan.production, production, options["production_target"])):
        if target not in frame.columns:
            raise DataError(f"{plan.type.replace('_', ' ')}: target column `{target}` is not in the {side} data")
        importance, _ = cached_importance(
            ref, partial(_loaded, frame, kinds), monitor=plan.monitor, store=store, target=target,
            features=features, overrides=plan.feature_overrides, task=task, segment=plan.segment,
        )
        out[f"{side}_importance"] = importance
        task = task or importance.task  # production is scored with the reference's task
    return out


def _loaded(frame: pl.DataFrame, kinds: Mapping[str, FeatureKind]) -> tuple[pl.DataFrame, Mapping[str, FeatureKind]]:
    """The frame already read and its kinds, as ``cached_importance`` loads them on a cache miss."""
    return frame, kinds


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
        details = fr.details if _all_finite(fr.details) else _clean(fr.details)
        if details != fr.details or metrics != fr.metrics:
            changed = True
            fr = fr.model_copy(update={"metrics": metrics, "details": details})
        features[name] = fr
    return result.model_copy(update={"features": features}) if changed else result


def _all_finite(details: Mapping[str, Any] | None) -> bool:
    """True when ``details`` is plain JSON without NaN or inf: one pass of json's C encoder, which a
    10,000-feature signal needs instead of ``_clean``'s Python walk (about 100 values a feature)."""
    try:
        json.dumps(details, allow_nan=False)
    except (ValueError, TypeError):
        return False
    return True


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
    """One signal result from the results of its feature batches, as the signal type's record merges them,
    with one note naming every unsupported column (each batch names its own), where the first one was."""
    return one_unsupported_note(signal_info(signal_type).merge(signal_type, batches))


def one_unsupported_note(result: SignalResult, order: Mapping[str, int] | None = None) -> SignalResult:
    """``result`` with its unsupported-column notes as one, the columns in their notes' order (or by
    ``order``, a column's position in the signal's list)."""
    columns = [c for n in result.notes if n.startswith(UNSUPPORTED_NOTE) for c in n[len(UNSUPPORTED_NOTE):].split(", ")]
    if not columns:
        return result
    if order is not None:
        columns = sorted(columns, key=lambda c: order.get(c, 0))
    at = next(i for i, n in enumerate(result.notes) if n.startswith(UNSUPPORTED_NOTE))
    notes = [n for n in result.notes if not n.startswith(UNSUPPORTED_NOTE)]
    notes.insert(at, UNSUPPORTED_NOTE + ", ".join(dict.fromkeys(columns)))
    return result.model_copy(update={"notes": notes})
