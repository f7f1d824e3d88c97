"""One monitor run as three steps, shared by the local runner and the Durable activities.

``plan_run`` resolves every signal's windows, data URIs and features into a small serialisable plan;
``compute_signal`` reads one signal's two windows and computes it (a failure becomes that signal's
``failed`` result, never the run's); ``finalize_run`` writes run.json, the signal documents and the
history. ``run_local`` chains them in-process with signals in parallel.
"""

from __future__ import annotations

import logging
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
from monitoring.loader import LoadedMonitor
from monitoring.results import build_run, run_prefix, signal_document, write_history, write_json
from monitoring.store import Store
from monitoring.windows import Window, production_window, reference_window
from signals.kinds import infer_kinds
from signals.registry import signal_info
from signals.results import FeatureResult, SignalResult

log = logging.getLogger(__name__)

#: Signals whose production data is the model's outputs rather than its inputs.
_OUTPUT_SIGNALS = {"prediction_drift"}


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
    production: DataRef | None = None
    reference: DataRef | None = None
    features: list[str] = Field(default_factory=list)
    feature_overrides: dict[str, str] = Field(default_factory=dict)
    segment: dict[str, Any] | None = None
    thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)
    alert_enabled: bool = True
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
    return roles | {"correlationid"}


def _prediction_columns(signal: Any) -> list[str]:
    out: list[str] = []
    for side in (signal.production_data, signal.reference_data):
        if side is not None:
            names = side.data_column_names
            out += [c for c in (names.prediction, names.prediction_probability) if c and c not in out]
    return out


def _select_features(signal: Any, plan: SignalPlan) -> list[str]:
    """Explicit features, the prediction columns, or every common column that is not a role column."""
    assert plan.production is not None
    assert plan.reference is not None
    prod_cols, ref_cols = plan.production.columns(), plan.reference.columns()
    common = [c for c in ref_cols if c in set(prod_cols)]
    if isinstance(signal.features, list):
        return list(signal.features)
    if signal.type == "prediction_drift" and signal.features is None:
        predictions = _prediction_columns(signal)
        if not predictions:
            raise MonitoringError(
                "prediction drift needs the prediction columns: set production_data.data_column_names.prediction "
                "and/or prediction_probability"
            )
        return predictions
    if isinstance(signal.features, TopNFeatures):
        raise MonitoringError(
            "`features.top_n_feature_importance` needs feature importance, which is not available yet; "
            "list the features or use `all_features`"
        )
    if signal.features is None and signal.reference_data is not None and \
            signal.reference_data.data_context == "training" and signal.reference_data.data_column_names.target_column:
        plan.notes.append("Azure ML would monitor the top 10 features by importance here; feature importance is "
                          "not available yet, so every common feature is monitored.")
    roles = _role_columns(signal)
    segment = signal.data_segment.feature_name if signal.data_segment else None
    return [c for c in common if c not in roles and c != segment]


def plan_signal(name: str, signal: Any, loaded: LoadedMonitor, fire_time: datetime, *,
                asset_map: dict[str, str] | None = None) -> SignalPlan:
    """Resolve one signal; a problem becomes the plan's ``error`` so the other signals still run."""
    schedule = loaded.schedule
    info = signal_info(signal.type)
    plan = SignalPlan(name=name, type=signal.type, alert_enabled=signal.alert_enabled,
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
            ref_window = reference_window(ref_spec.data_window if ref_spec else None, trigger, fire_time,
                                          recent_production=True)
            plan.reference = plan.production.model_copy(update={"window": ref_window.to_dict()})
            plan.notes.append("No reference_data: the reference is recent past production data.")
        else:
            ref_window = reference_window(ref_spec.data_window, trigger, fire_time)
            plan.reference = _data_ref(ref_spec, schedule=schedule, signal_type=signal.type, window=ref_window,
                                       base_dir=loaded.base_dir, asset_map=asset_map, side="reference_data")
        plan.features = _select_features(signal, plan)
    except MonitoringError as exc:
        plan.error = str(exc)
    except Exception as exc:
        log.exception("planning signal %s failed", name)
        plan.error = f"{type(exc).__name__}: {exc}"
    return plan


def plan_run(loaded: LoadedMonitor, fire_time: datetime, *, asset_map: dict[str, str] | None = None) -> RunPlan:
    """The plan of one run: every signal resolved, in definition order."""
    schedule = loaded.schedule
    alerts = schedule.create_monitor.alerts.model_dump(mode="json")
    return RunPlan(
        monitor=schedule.name, fire_time=fire_time.astimezone(UTC), definition_version=loaded.version,
        signals=[plan_signal(name, sig, loaded, fire_time, asset_map=asset_map)
                 for name, sig in schedule.signals().items()],
        alert_notification=alerts,
    )


# --------------------------------------------------------------------------------------------------
# Compute


def _segment(frame: pl.DataFrame, segment: Mapping[str, Any] | None) -> pl.DataFrame:
    if not segment:
        return frame
    column = segment["feature_name"]
    if column not in frame.columns:
        raise DataError(f"data_segment column `{column}` is not in the data")
    values = [str(v) for v in segment["feature_values"]]
    return frame.filter(pl.col(column).cast(pl.String).is_in(values))


def _missing_feature(feature: str, side: str) -> FeatureResult:
    from signals.results import judge

    return FeatureResult(kind="unknown", row_counts={"reference": 0, "production": 0},
                         metrics={"missing": judge(None, None, greater_is_better=False,
                                                   reason=f"column `{feature}` is not in the {side} data")})


def compute_signal(plan: SignalPlan, *, features: list[str] | None = None,
                   on_feature: Callable[[str], None] | None = None) -> SignalResult:
    """Compute one signal (or a batch of its features). Never raises: failures are results."""
    if plan.unsupported:
        return SignalResult(type=plan.type, status="unsupported", error=plan.unsupported, notes=plan.notes)
    if plan.error:
        return SignalResult(type=plan.type, status="failed", error=plan.error, notes=plan.notes)
    try:
        return _compute(plan, features if features is not None else plan.features, on_feature)
    except MonitoringError as exc:
        return SignalResult(type=plan.type, status="failed", error=str(exc), notes=plan.notes)
    except Exception as exc:  # noqa: BLE001 - recorded in run.json with its type; the others go on
        log.error("signal %s failed:\n%s", plan.name, traceback.format_exc())
        return SignalResult(type=plan.type, status="failed", error=f"{type(exc).__name__}: {exc}",
                            notes=plan.notes)


def _compute(plan: SignalPlan, features: list[str], on_feature: Callable[[str], None] | None) -> SignalResult:
    assert plan.production is not None
    assert plan.reference is not None
    segment_col = [plan.segment["feature_name"]] if plan.segment else []
    wanted = list(dict.fromkeys([*features, *segment_col]))
    production = plan.production.read(wanted)
    reference = plan.reference.read(wanted)
    for side, frame, ref in (("production", production, plan.production), ("reference", reference, plan.reference)):
        if frame.height == 0:
            return SignalResult(
                type=plan.type, status="skipped", notes=plan.notes,
                error=f"the {side} window {Window.from_dict(ref.window)} of {ref.uri} has no rows",
                row_counts={"production": production.height, "reference": reference.height},
            )
    present = [f for f in features if f in production.columns and f in reference.columns]
    kinds = infer_kinds(reference, present, overrides=plan.feature_overrides)  # on the unsegmented reference
    usable = [f for f in present if kinds[f] is not None]
    production, reference = _segment(production, plan.segment), _segment(reference, plan.segment)
    result = signal_info(plan.type).compute_function()(
        production, reference, signal_type=plan.type, features=usable,
        kinds={f: kinds[f] for f in usable}, thresholds=plan.thresholds, on_feature=on_feature,
    )
    extra: dict[str, FeatureResult] = {}
    for f in features:
        if f not in production.columns:
            extra[f] = _missing_feature(f, "production")
        elif f not in reference.columns:
            extra[f] = _missing_feature(f, "reference")
    notes = list(plan.notes)
    skipped = [f for f in present if kinds[f] is None]
    if skipped:
        notes.append(f"not monitored (unsupported column type): {', '.join(skipped)}")
    if plan.segment:
        notes.append(f"segment: {plan.segment['feature_name']} in {plan.segment['feature_values']}")
    return result.model_copy(update={"features": {**result.features, **extra}, "notes": notes})


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
