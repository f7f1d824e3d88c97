"""Plan a run: resolve every signal's windows, data references and features into a small serialisable plan."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, Field

from monitoring.data.mdc import mdc_uri
from monitoring.data.refs import DataRef
from monitoring.data.uris import resolve_path
from monitoring.definition import LoadedMonitor, MonitoringInput, MonitorSchedule, TopNFeatures
from monitoring.errors import DataError, MonitoringError
from monitoring.names import run_prefix
from monitoring.run.importance_cache import cached_importance
from monitoring.schedule.windows import Window, production_window, reference_window
from monitoring.storage.base import Store
from monitoring.text import one_line
from signals.custom import lookup
from signals.kinds import infer_kinds
from signals.registry import FeatureKind, signal_info

log = logging.getLogger(__name__)

#: Signals whose production data is the model's outputs rather than its inputs.
_OUTPUT_SIGNALS = {"prediction_drift", "model_performance"}
#: Azure ML's default number of features when the reference is training data with a label.
DEFAULT_TOP_N = 10
#: MDC's name of the correlation id column.
MDC_CORRELATION_ID = "correlationid"


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
        uri = resolve_path(spec.input_data.path, base_dir=base_dir, asset_map=asset_map)
        return DataRef(uri=uri, window=window.to_dict(), timestamp_column=spec.data_column_names.timestamp)
    target = schedule.create_monitor.monitoring_target
    endpoint = target.endpoint_and_deployment if target else None
    if endpoint is None:
        raise MonitoringError(
            f"`{side}.input_data.path` is required: without monitoring_target.endpoint_deployment_id there is "
            "no model data collector to read from"
        )
    collection = "model_outputs" if signal_type in _OUTPUT_SIGNALS else "model_inputs"
    return DataRef(uri=mdc_uri(*endpoint, collection), source="mdc", window=window.to_dict())


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
    if getattr(signal, "unsupported", None):  # generative signal types: valid definitions, not computed here
        return SignalPlan(name=name, type=signal.type, monitor=schedule.name, alert_enabled=signal.alert_enabled,
                          unsupported=signal.unsupported)
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
        plan.error = one_line(str(exc))
    except Exception as exc:
        log.exception("planning signal %s failed", name)
        plan.error = one_line(f"{type(exc).__name__}: {exc}")
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
