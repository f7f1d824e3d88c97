"""Plan a run: resolve every signal's windows, data references and features into a small serialisable plan."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, Field

from monitoring.data.mdc import mdc_uri
from monitoring.data.refs import DataRef
from monitoring.data.uris import resolve_path
from monitoring.definition import LoadedMonitor, MonitoringInput, MonitorSchedule, TopNFeatures
from monitoring.definition.signals import MDC_CORRELATION_ID, PlanContext
from monitoring.definition.significance import resolve_significance
from monitoring.errors import DataError, MonitoringError
from monitoring.names import run_prefix
from monitoring.run.importance_cache import cached_importance
from monitoring.schedule.windows import Window, production_window, reference_window
from monitoring.storage.base import Store
from monitoring.text import one_line
from signals.info import DEFAULT_SIGNIFICANCE, FeatureKind, Significance
from signals.kinds import infer_kinds
from signals.registry import SignalInfo, signal_info

log = logging.getLogger(__name__)



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
    thresholds: dict[str, dict[str, float | Literal["auto"]]] = Field(default_factory=dict)
    significance: Significance | None = Field(
        DEFAULT_SIGNIFICANCE, description="The gate of a gated signal type (SignalInfo.gated); None: off.")
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
            "significance": asdict(self.significance) if self.significance else None,
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


def _data_ref(spec: MonitoringInput | None, *, schedule: MonitorSchedule, info: SignalInfo, window: Window,
              base_dir: Path | None, asset_map: dict[str, str] | None, side: str,
              collection: str | None = None) -> DataRef:
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
    return DataRef(uri=mdc_uri(*endpoint, collection or info.production_data), source="mdc", window=window.to_dict())


def _with_outputs(signal: Any, production: DataRef, **where: Any) -> DataRef:
    """GA feature attribution drift: the model outputs (``production_outputs``) joined to the inputs on
    their correlation ids (either side's ``data_column_names.correlation_id``, else the collector's)."""
    outputs_spec = getattr(signal, "production_outputs", None)
    if outputs_spec is None:
        return production
    outputs = _data_ref(outputs_spec, side="production_outputs", collection="model_outputs", **where)
    own_names = signal.production_data.data_column_names if signal.production_data else None
    own_id = own_names.correlation_id if own_names else None
    out_id = outputs_spec.data_column_names.correlation_id
    return production.model_copy(update={"outputs": outputs, "join_on": (
        own_id or out_id or MDC_CORRELATION_ID, out_id or own_id or MDC_CORRELATION_ID)})


def _reference_target(signal: Any) -> str | None:
    ref = signal.reference_data
    return ref.data_column_names.target_column if ref is not None else None


def _select_features(signal: Any, plan: SignalPlan, context: PlanContext, *, store: Store | None) -> list[str]:
    """Explicit features, the definition's default, the top N by importance, or every common non-role column."""
    if isinstance(signal.features, list):
        return list(signal.features)
    if signal.features is None:
        default = signal.default_features(context)
        if default is not None:
            return list(default)
    prod_cols, ref_cols = context.production.columns(), context.reference.columns()
    roles = signal.role_columns()
    segment = signal.data_segment.feature_name if signal.data_segment else None
    prod_names = set(prod_cols)  # built once: a set per column made 10,000 columns quadratic
    common = [c for c in ref_cols if c in prod_names and c not in roles and c != segment]
    top_n: int | None = None
    if isinstance(signal.features, TopNFeatures):
        top_n = signal.features.top_n_feature_importance
    elif signal.features is None:
        top_n = signal.default_top_n(context)
    if top_n is None:
        return common
    return _top_features(signal, plan, common, top_n, ml_task=context.ml_task, store=store)


def _top_features(signal: Any, plan: SignalPlan, candidates: list[str], n: int, *, ml_task: str | None,
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
        overrides=plan.feature_overrides, task=signal.task(ml_task), segment=None,
    )
    top = importance.ranked()[:n]
    plan.notes.append(
        f"top {len(top)} of {len(importance.values)} features by importance for `{target}` "
        f"({importance.task}{', cached' if cached else ''}): {', '.join(top)}"
    )
    return top


def _resolve_data(signal: Any, plan: SignalPlan, info: SignalInfo, loaded: LoadedMonitor, fire_time: datetime,
                  asset_map: dict[str, str] | None) -> None:
    """Both sides' data references with their windows; no reference data means recent production data."""
    schedule, trigger = loaded.schedule, loaded.schedule.trigger
    prod_spec, ref_spec = signal.production_data, signal.reference_data
    prod_window = production_window(prod_spec.data_window if prod_spec else None, trigger, fire_time)
    plan.production = _data_ref(prod_spec, schedule=schedule, info=info, window=prod_window,
                                base_dir=loaded.base_dir, asset_map=asset_map, side="production_data")
    plan.production = _with_outputs(signal, plan.production, schedule=schedule, info=info, window=prod_window,
                                    base_dir=loaded.base_dir, asset_map=asset_map)
    if ref_spec is None or ref_spec.input_data is None:
        signal.check_no_reference()
        ref_window = reference_window(ref_spec.data_window if ref_spec else None, trigger, fire_time,
                                      recent_production=True)
        plan.reference = plan.production.model_copy(update={"window": ref_window.to_dict()})
        plan.notes.append("No reference_data: the reference is recent past production data.")
        return
    ref_window = reference_window(ref_spec.data_window, trigger, fire_time)
    plan.reference = _data_ref(ref_spec, schedule=schedule, info=info, window=ref_window,
                               base_dir=loaded.base_dir, asset_map=asset_map, side="reference_data")


def _plan(signal: Any, plan: SignalPlan, info: SignalInfo, loaded: LoadedMonitor, fire_time: datetime, *,
          asset_map: dict[str, str] | None, store: Store | None) -> None:
    """Fill in the plan's data, options and features, asking the signal's model and its registry record."""
    _resolve_data(signal, plan, info, loaded, fire_time, asset_map)
    assert plan.production is not None
    assert plan.reference is not None
    target = loaded.schedule.create_monitor.monitoring_target
    context = PlanContext(ml_task=target.ml_task if target else None, production=plan.production,
                          reference=plan.reference, notes=plan.notes)
    plan.options = signal.options(context)
    if info.selects_features:
        plan.features = _select_features(signal, plan, context, store=store)
    else:
        plan.features = signal.fixed_features(plan.options)


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
    significance = resolve_significance(signal.significance_setting(), schedule.create_monitor.significance)
    plan = SignalPlan(name=name, type=signal.type, monitor=schedule.name, alert_enabled=signal.alert_enabled,
                      thresholds=signal.configured_thresholds(), significance=significance if info.gated else None,
                      feature_overrides=dict(signal.feature_type_override or {}),
                      segment=signal.data_segment.model_dump(mode="json") if signal.data_segment else None)
    if info.compute is None:
        plan.unsupported = info.reason_unsupported
        return plan
    try:
        _plan(signal, plan, info, loaded, fire_time, asset_map=asset_map, store=store)
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
