"""One monitor run as three steps, shared by the local runner and the Durable activities.

``plan_run`` resolves every signal's windows, data URIs and features into a small serialisable plan;
``compute_signal`` reads one signal's two windows and computes it (a failure becomes that signal's
``failed`` result, never the run's); ``finalize_run`` writes run.json, the signal documents and the
history. ``run_local`` chains them in-process with signals in parallel.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, Field

from monitoring import data as datamod
from monitoring.definition import MonitoringInput, MonitorSchedule, TopNFeatures
from monitoring.errors import DataError, MonitoringError
from monitoring.importance_cache import cached_importance
from monitoring.loader import LoadedMonitor
from monitoring.results import build_run, run_prefix, signal_document, write_history, write_json
from monitoring.store import Store
from monitoring.windows import Window, production_window, reference_window
from signals.importance import Importance
from signals.kinds import infer_kinds
from signals.registry import FeatureKind, signal_info
from signals.results import FeatureResult, MetricResult, SignalResult, judge

log = logging.getLogger(__name__)

#: Signals whose production data is the model's outputs rather than its inputs.
_OUTPUT_SIGNALS = {"prediction_drift", "model_performance"}
#: Azure ML's default number of features when the reference is training data with a label.
DEFAULT_TOP_N = 10
#: MDC's name of the correlation id column.
MDC_CORRELATION_ID = "correlationid"
#: Longest error text kept in run.json; longer ones are cut (the log has the whole traceback).
MAX_ERROR_CHARS = 500


class DataRef(BaseModel):
    """A dataset window by reference: what crosses function boundaries instead of data."""

    uri: str
    source: Literal["files", "mdc"] = "files"
    window: dict[str, str | None] = Field(default_factory=dict)
    timestamp_column: str | None = None

    def read(self, columns: list[str] | None = None) -> pl.DataFrame:
        window = Window.from_dict(self.window)
        if self.source == "mdc":
            frame = datamod.read_mdc_window(self.uri, window).frame
            return frame.select([c for c in columns if c in frame.columns]) if columns is not None else frame
        return datamod.read_window(self.uri, window, timestamp_column=self.timestamp_column, columns=columns).frame

    def columns(self) -> list[str]:
        if self.source == "mdc":
            return self.read().columns
        return datamod.scan_files(datamod.list_files(self.uri)).collect_schema().names()


class SignalPlan(BaseModel):
    """Everything ``compute_signal`` needs for one signal, resolved at plan time."""

    name: str
    type: str
    monitor: str = ""
    production: DataRef | None = None
    reference: DataRef | None = None
    features: list[str] = Field(default_factory=list)
    feature_overrides: dict[str, str] = Field(default_factory=dict)
    segment: dict[str, Any] | None = None
    thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)
    alert_enabled: bool = True
    options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword options of the signal function (targets, join columns...).")
    notes: list[str] = Field(default_factory=list)
    error: str | None = None
    unsupported: str | None = None

    def context(self) -> dict[str, Any]:
        """What run.json records about this signal besides its results."""
        return {
            "alert_enabled": self.alert_enabled,
            "production_window": self.production.window if self.production else None,
            "reference_window": self.reference.window if self.reference else None,
            "segment": self.segment,
            "thresholds": self.thresholds,
        }


class RunPlan(BaseModel):
    monitor: str
    fire_time: datetime
    definition_version: str
    signals: list[SignalPlan]
    alert_notification: dict[str, Any] = Field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return run_prefix(self.monitor, self.fire_time)


# --------------------------------------------------------------------------------------------------
# Plan


def _data_ref(spec: MonitoringInput | None, *, schedule: MonitorSchedule, signal_type: str, window: Window,
              base_dir: Path | None, asset_map: dict[str, str] | None, side: str) -> DataRef:
    if spec is not None and spec.input_data is not None:
        uri = datamod.resolve_path(spec.input_data.path, base_dir=base_dir, asset_map=asset_map)
        return DataRef(uri=uri, window=window.to_dict(), timestamp_column=spec.data_column_names.timestamp)
    target = schedule.create_monitor.monitoring_target
    endpoint = target.endpoint_and_deployment if target else None
    if endpoint is None:
        raise MonitoringError(
            f"`{side}.input_data.path` is required: without monitoring_target.endpoint_deployment_id there is "
            "no model data collector to read from"
        )
    collection = "model_outputs" if signal_type in _OUTPUT_SIGNALS else "model_inputs"
    return DataRef(uri=datamod.mdc_uri(*endpoint, collection), source="mdc", window=window.to_dict())


def _role_columns(signal: Any) -> set[str]:
    roles: set[str] = set()
    for side in (signal.production_data, signal.reference_data):
        if side is not None:
            roles |= side.data_column_names.role_columns()
    return roles | {MDC_CORRELATION_ID}


def _prediction_columns(signal: Any) -> list[str]:
    out: list[str] = []
    for side in (signal.production_data, signal.reference_data):
        if side is not None:
            names = side.data_column_names
            out += [c for c in (names.prediction, names.prediction_probability) if c and c not in out]
    return out


def _task(signal: Any, schedule: MonitorSchedule) -> Literal["classification", "regression"] | None:
    """The model's task: the signal's ``model_type``, else the monitoring target's ``ml_task``."""
    model_type = getattr(signal, "model_type", None)
    if model_type:
        return model_type  # type: ignore[no-any-return]
    target = schedule.create_monitor.monitoring_target
    if target is not None and target.ml_task in ("classification", "regression"):
        return target.ml_task  # type: ignore[return-value]
    return None


def _reference_target(signal: Any) -> str | None:
    ref = signal.reference_data
    return ref.data_column_names.target_column if ref is not None else None


def _select_features(signal: Any, plan: SignalPlan, *, schedule: MonitorSchedule, store: Store | None) -> list[str]:
    """Explicit features, the prediction columns, the top N by importance, or every common non-role column."""
    assert plan.production is not None
    assert plan.reference is not None
    if isinstance(signal.features, list):
        return list(signal.features)
    if signal.type == "prediction_drift" and signal.features is None:
        predictions = _prediction_columns(signal)
        if not predictions and plan.production.source == "mdc":
            # The collector's model_outputs hold nothing but the model's outputs: every column is one.
            return [c for c in plan.production.columns() if c in set(plan.reference.columns()) and c != "correlationid"]
        if not predictions:
            raise MonitoringError(
                "prediction drift needs the prediction columns: set production_data.data_column_names.prediction "
                "and/or prediction_probability"
            )
        return predictions
    prod_cols, ref_cols = plan.production.columns(), plan.reference.columns()
    roles = _role_columns(signal)
    segment = signal.data_segment.feature_name if signal.data_segment else None
    common = [c for c in ref_cols if c in set(prod_cols) and c not in roles and c != segment]
    top_n: int | None = None
    if isinstance(signal.features, TopNFeatures):
        top_n = signal.features.top_n_feature_importance
    elif signal.features is None and signal.type in ("data_drift", "data_quality") and \
            signal.reference_data is not None and signal.reference_data.data_context == "training":
        if _reference_target(signal):
            top_n = DEFAULT_TOP_N
        else:
            plan.notes.append("Azure ML would monitor the top 10 features by importance here, which needs "
                              "reference_data.data_column_names.target_column; every common feature is monitored.")
    if top_n is None:
        return common
    return _top_features(signal, plan, common, top_n, schedule=schedule, store=store)


def _top_features(signal: Any, plan: SignalPlan, candidates: list[str], n: int, *, schedule: MonitorSchedule,
                  store: Store | None) -> list[str]:
    """The ``n`` most important candidates for the reference's label (Azure ML's TopNByAttribution)."""
    assert plan.reference is not None
    target = _reference_target(signal)
    if not target:
        raise MonitoringError(
            "`features.top_n_feature_importance` needs the label: set reference_data.data_column_names."
            "target_column, or list the features, or use `all_features`"
        )
    if not candidates:
        raise MonitoringError("`features.top_n_feature_importance`: the reference and production data have no "
                              "common feature columns")
    reference = plan.reference

    def load() -> tuple[pl.DataFrame, dict[str, FeatureKind | None]]:
        frame = reference.read([*candidates, target])
        if frame.height == 0:
            raise DataError(f"the reference window {Window.from_dict(reference.window)} of {reference.uri} has "
                            "no rows to compute feature importance on")
        return frame, infer_kinds(frame, candidates, overrides=plan.feature_overrides)  # type: ignore[arg-type]

    importance, cached = cached_importance(
        reference, load, monitor=plan.monitor, store=store, target=target, features=candidates,
        overrides=plan.feature_overrides, task=_task(signal, schedule), segment=None,
    )
    top = importance.ranked()[:n]
    plan.notes.append(
        f"top {len(top)} of {len(importance.values)} features by importance for `{target}` "
        f"({importance.task}{', cached' if cached else ''}): {', '.join(top)}"
    )
    return top


def _signal_options(signal: Any, plan: SignalPlan, schedule: MonitorSchedule) -> dict[str, Any]:
    """Keyword options of the signal function that come from the definition (JSON-serialisable)."""
    prod = signal.production_data.data_column_names if signal.production_data else None
    ref = signal.reference_data.data_column_names if signal.reference_data else None
    if signal.type == "feature_attribution_drift":
        reference_target = ref.target_column if ref else None
        if not reference_target:
            raise MonitoringError(
                "feature attribution drift needs the label of the reference: set "
                "reference_data.data_column_names.target_column"
            )
        production_target = (prod.prediction or prod.target_column) if prod else None
        if not production_target:
            assert plan.production is not None
            if reference_target not in plan.production.columns():
                raise MonitoringError(
                    "feature attribution drift needs the model's predictions in production: set "
                    "production_data.data_column_names.prediction"
                )
            production_target = reference_target
        return {"reference_target": reference_target, "production_target": production_target,
                "task": _task(signal, schedule)}
    if signal.type == "model_performance":
        if signal.reference_data is None or signal.reference_data.input_data is None:
            raise MonitoringError("model performance needs the ground truth: set reference_data.input_data.path "
                                  "(data_context: ground_truth) with data_column_names.actual and correlation_id")
        prediction = (prod.prediction or prod.target_column) if prod else None
        if not prediction:
            raise MonitoringError("model performance needs production_data.data_column_names.prediction")
        actual = (ref.actual or ref.target_column) if ref else None
        if not actual:
            raise MonitoringError("model performance needs reference_data.data_column_names.actual (the label)")
        production_id = (prod.correlation_id if prod else None) or MDC_CORRELATION_ID
        task = _task(signal, schedule)
        thresholds = signal.metric_thresholds
        if task is None and thresholds is not None:
            configured = [g for g in ("classification", "regression") if getattr(thresholds, g) is not None]
            task = configured[0] if len(configured) == 1 else None
        if signal.reference_data.data_context not in (None, "ground_truth"):
            plan.notes.append(f"reference_data.data_context is `{signal.reference_data.data_context}`; model "
                              "performance reads it as ground truth")
        return {"prediction": prediction, "actual": actual, "production_id": production_id,
                "ground_truth_id": (ref.correlation_id if ref else None) or production_id, "task": task,
                "minimum_join_coverage": signal.minimum_join_coverage}
    if signal.type == "custom":
        from signals.custom import lookup

        try:
            info = lookup(signal.component_id)
        except LookupError as exc:
            raise MonitoringError(str(exc)) from None
        return {"component_id": info.name, "inputs": dict(signal.inputs)}
    return {}


def plan_signal(name: str, signal: Any, loaded: LoadedMonitor, fire_time: datetime, *,
                asset_map: dict[str, str] | None = None, store: Store | None = None) -> SignalPlan:
    """Resolve one signal; a problem becomes the plan's ``error`` so the other signals still run.

    ``store`` holds the feature importance cache used by top-N feature selection (no cache without it).
    """
    schedule = loaded.schedule
    info = signal_info(signal.type)
    plan = SignalPlan(name=name, type=signal.type, monitor=schedule.name, alert_enabled=signal.alert_enabled,
                      thresholds=signal.configured_thresholds(),
                      feature_overrides=dict(signal.feature_type_override or {}),
                      segment=signal.data_segment.model_dump(mode="json") if signal.data_segment else None)
    if info.compute is None:
        plan.unsupported = info.reason_unsupported
        return plan
    try:
        trigger = schedule.trigger
        prod_spec, ref_spec = signal.production_data, signal.reference_data
        prod_window = production_window(prod_spec.data_window if prod_spec else None, trigger, fire_time)
        plan.production = _data_ref(prod_spec, schedule=schedule, signal_type=signal.type, window=prod_window,
                                    base_dir=loaded.base_dir, asset_map=asset_map, side="production_data")
        if ref_spec is None or ref_spec.input_data is None:
            if signal.type == "model_performance":
                raise MonitoringError(
                    "model performance needs the ground truth: set reference_data.input_data.path "
                    "(data_context: ground_truth) with data_column_names.actual and correlation_id")
            ref_window = reference_window(ref_spec.data_window if ref_spec else None, trigger, fire_time,
                                          recent_production=True)
            plan.reference = plan.production.model_copy(update={"window": ref_window.to_dict()})
            plan.notes.append("No reference_data: the reference is recent past production data.")
        else:
            ref_window = reference_window(ref_spec.data_window, trigger, fire_time)
            plan.reference = _data_ref(ref_spec, schedule=schedule, signal_type=signal.type, window=ref_window,
                                       base_dir=loaded.base_dir, asset_map=asset_map, side="reference_data")
        plan.options = _signal_options(signal, plan, schedule)
        if signal.type == "model_performance":
            plan.features = [plan.options["prediction"]]
        elif signal.type == "custom":
            plan.features = list(signal.features) if isinstance(signal.features, list) else []
        else:
            plan.features = _select_features(signal, plan, schedule=schedule, store=store)
    except MonitoringError as exc:
        plan.error = _one_line(str(exc))
    except Exception as exc:
        log.exception("planning signal %s failed", name)
        plan.error = _one_line(f"{type(exc).__name__}: {exc}")
    return plan


def plan_run(loaded: LoadedMonitor, fire_time: datetime, *, asset_map: dict[str, str] | None = None,
             store: Store | None = None) -> RunPlan:
    """The plan of one run: every signal resolved, in definition order.

    ``store``: the results store, used to cache feature importance for top-N selection (optional).
    """
    schedule = loaded.schedule
    alerts = schedule.create_monitor.alerts.model_dump(mode="json")
    return RunPlan(
        monitor=schedule.name, fire_time=fire_time.astimezone(UTC), definition_version=loaded.version,
        signals=[plan_signal(name, sig, loaded, fire_time, asset_map=asset_map, store=store)
                 for name, sig in schedule.signals().items()],
        alert_notification=alerts,
    )


# --------------------------------------------------------------------------------------------------
# Compute


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


def _one_line(text: str) -> str:
    """The first non-empty line of an error message, cut to MAX_ERROR_CHARS: run.json has one line."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())
    return line if len(line) <= MAX_ERROR_CHARS else line[:MAX_ERROR_CHARS - 3] + "..."


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
        return SignalResult(type=plan.type, status="failed", error=_one_line(plan.error), notes=plan.notes)
    try:
        return _finite(_compute(plan, features if features is not None else plan.features, on_feature, store))
    except reraise:
        raise
    except MonitoringError as exc:
        return SignalResult(type=plan.type, status="failed", error=_one_line(str(exc)), notes=plan.notes)
    except Exception as exc:  # noqa: BLE001 - recorded in run.json with its type; the others go on
        log.error("signal %s failed:\n%s", plan.name, traceback.format_exc())
        return SignalResult(type=plan.type, status="failed", error=_one_line(f"{type(exc).__name__}: {exc}"),
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


# --------------------------------------------------------------------------------------------------
# Finalize


def finalize_run(plan: RunPlan, results: Mapping[str, SignalResult], store: Store, *,
                 started_at: datetime | None = None) -> dict[str, Any]:
    """Write every signal's document, run.json and the history rows; return run.json."""
    by_name = {p.name: p for p in plan.signals}
    for name, result in results.items():
        write_json(store, f"{plan.prefix}/signals/{name}.json",
                   signal_document(name, result, by_name[name].context()))
    run = build_run(monitor=plan.monitor, fire_time=plan.fire_time, definition_version=plan.definition_version,
                    signals={name: (results[name], by_name[name].context()) for name in results},
                    started_at=started_at)
    write_json(store, f"{plan.prefix}/run.json", run)
    write_history(store, plan.monitor, run)
    return run


__all__ = [
    "DataRef", "RunPlan", "SignalPlan", "compute_signal", "finalize_run", "merge_batches", "plan_run",
    "plan_signal",
]
