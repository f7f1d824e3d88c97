"""``monitoring_signals``: one model per signal type, discriminated by ``type``.

Each model knows what its YAML means for a run: the options its signal function takes (``options``),
the features it monitors when the YAML lists none (``default_features``, ``default_top_n``) or the
features its options fix (``fixed_features``), whether it can do without reference data
(``check_no_reference``) and the model's task (``task``). The planner calls these hooks on any signal and
asks ``signals.registry`` for the rest, so it never branches on a signal type.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitoring.definition.context import PlanContext, _task
from monitoring.definition.generative import GenerationSafetyQualitySignal, GenerationTokenStatisticsSignal
from monitoring.definition.inputs import DataColumnNames, DataSegment, Features, MonitoringInput, split_production_list
from monitoring.definition.significance import SignificanceSetting
from monitoring.definition.strict import Strict, _rekeyed
from monitoring.definition.thresholds import (
    AttributionThresholds,
    CustomThreshold,
    DriftThresholds,
    PerformanceThresholds,
    QualityThresholds,
    Threshold,
    _check_preview_metrics,
    _filled,
    _listed_thresholds,
    _thresholds_union,
)
from monitoring.errors import MonitoringError
from signals.custom import lookup
from signals.info import FeatureKind
from signals.kinds import Task
from signals.registry import DEFAULT_THRESHOLDS, METRICS_BY_SIGNAL

SignalType = Literal[
    "data_drift",
    "prediction_drift",
    "data_quality",
    "feature_attribution_drift",
    "model_performance",
    "custom",
    "generation_safety_quality",
    "generation_token_statistics",
]

#: Azure ML's default number of features when the reference is training data with a label.
DEFAULT_TOP_N = 10
#: The model data collector's name of the correlation id column.
MDC_CORRELATION_ID = "correlationid"
_GROUND_TRUTH = ("model performance needs the ground truth: set reference_data.input_data.path "
                 "(data_context: ground_truth) with data_column_names.actual and correlation_id")


# --------------------------------------------------------------------------------------------------
# Signals


class SignalBase(Strict):
    production_data: MonitoringInput | None = None
    reference_data: MonitoringInput | None = None
    features: Features | None = None
    feature_type_override: dict[str, FeatureKind] | None = None
    data_segment: DataSegment | None = None
    alert_enabled: bool = True
    properties: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _preview_datasets(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        renames = {"target_dataset": "production_data", "baseline_dataset": "reference_data"}
        if not any(k in data for k in renames):
            return data
        return _rekeyed((renames.get(k) or k, v, (data, k)) for k, v in data.items())

    @field_validator("metric_thresholds", mode="after", check_fields=False)
    @classmethod
    def _preview_metric_names(cls, value: Any, info: ValidationInfo) -> Any:
        """List-form thresholds name their metric in a string: check it applies to this signal type."""
        if "type" in info.data:
            _check_preview_metrics(info.data["type"], value)
        return value

    # -- thresholds ------------------------------------------------------------------------------------

    def configured_thresholds(self) -> dict[str, dict[str, Threshold]]:
        """Thresholds per group (feature kind, task or ``model``), defaults filled in where none given."""
        signal_type: str = self.type  # type: ignore[attr-defined]
        raw = getattr(self, "metric_thresholds", None)
        groups = METRICS_BY_SIGNAL[signal_type]
        configured: dict[str, dict[str, Threshold]] = {}
        if isinstance(raw, list):
            configured = _listed_thresholds(signal_type, groups, raw)
        elif isinstance(raw, BaseModel):
            configured = self._mapped_thresholds(signal_type, groups, raw)
        for group in groups:
            configured.setdefault(group, dict(DEFAULT_THRESHOLDS.get((signal_type, group), {})))
        return configured

    def _mapped_thresholds(self, signal_type: str, groups: dict[str, tuple[str, ...]],
                           raw: BaseModel) -> dict[str, dict[str, Threshold]]:
        """The GA mapping form: one sub-mapping per group."""
        return {group: _filled(signal_type, group, sub) for group in groups
                if (sub := getattr(raw, group, None)) is not None}

    # -- planning hooks --------------------------------------------------------------------------------

    def significance_setting(self) -> SignificanceSetting:
        """The signal's own ``significance`` (None: the monitor's, else the default); only gated signal
        types (``SignalInfo.gated``) take one."""
        return None

    def task(self, ml_task: str | None) -> Task | None:
        """The model's task; signals with a ``model_type`` prefer it to the target's ``ml_task``."""
        return _task(None, ml_task)

    def check_no_reference(self) -> None:
        """Called when the YAML names no reference data, before recent production data stands in for it;
        raises when this signal cannot do with that."""

    def options(self, context: PlanContext) -> dict[str, Any]:
        """Keyword options of the signal function that come from the definition (JSON-serialisable)."""
        return {}

    def role_columns(self) -> set[str]:
        """Columns of either side that are not features: labels, predictions, ids, timestamps."""
        roles: set[str] = set()
        for side in (self.production_data, self.reference_data, getattr(self, "production_outputs", None)):
            if side is not None:
                roles |= side.data_column_names.role_columns()
        return roles | {MDC_CORRELATION_ID}

    def default_features(self, context: PlanContext) -> list[str] | None:
        """The features to monitor when the YAML lists none; None: the common feature columns, or the
        top ``default_top_n`` of them."""
        return None

    def default_top_n(self, context: PlanContext) -> int | None:
        """How many of the most important common features to monitor when the YAML lists none."""
        return None

    def fixed_features(self, options: dict[str, Any]) -> list[str]:
        """The features of a signal type whose features its options fix (``selects_features`` False)."""
        return list(self.features) if isinstance(self.features, list) else []


class _Gated(SignalBase):
    """Signals whose verdicts the significance gate judges: drift and quality (our extension)."""

    significance: SignificanceSetting = Field(None, description=(
        "Our extension: {alpha, correction}, off (Azure ML's bare threshold verdicts) or true (the defaults); "
        "unset, the monitor's create_monitor.significance, else alpha 0.01 with Holm."))

    def significance_setting(self) -> SignificanceSetting:
        return self.significance


class _Drift(_Gated):
    """Data and prediction drift: also our extension ``binning``."""

    binning: Literal["equal_width", "quantile"] = Field("equal_width", description=(
        "Our extension: bins of JS distance, PSI and the stored histogram. equal_width (Azure ML's Sturges "
        "bins over the pooled range) or quantile (the reference's quantiles, same Sturges count, open ends)."))

    def options(self, context: PlanContext) -> dict[str, Any]:
        return {"binning": self.binning}


class _FeatureSignal(SignalBase):
    """Data drift and data quality: Azure ML monitors the top features of a labelled training reference."""

    def default_top_n(self, context: PlanContext) -> int | None:
        ref = self.reference_data
        if ref is None or ref.data_context != "training":
            return None
        if ref.data_column_names.target_column:
            return DEFAULT_TOP_N
        context.notes.append("Azure ML would monitor the top 10 features by importance here, which needs "
                             "reference_data.data_column_names.target_column; every common feature is monitored.")
        return None


class DataDriftSignal(_FeatureSignal, _Drift):
    type: Literal["data_drift"]
    metric_thresholds: _thresholds_union(DriftThresholds) | None = None  # type: ignore[valid-type]


class PredictionDriftSignal(_Drift):
    type: Literal["prediction_drift"]
    metric_thresholds: _thresholds_union(DriftThresholds) | None = None  # type: ignore[valid-type]

    def _prediction_columns(self) -> list[str]:
        out: list[str] = []
        for side in (self.production_data, self.reference_data):
            if side is not None:
                names = side.data_column_names
                out += [c for c in (names.prediction, names.prediction_probability) if c and c not in out]
        return out

    def default_features(self, context: PlanContext) -> list[str] | None:
        """The prediction columns; from the collector's model_outputs, every column (all are outputs)."""
        predictions = self._prediction_columns()
        if not predictions and context.production.source == "mdc":
            reference = set(context.reference.columns())
            return [c for c in context.production.columns() if c in reference and c != MDC_CORRELATION_ID]
        if not predictions:
            raise MonitoringError(
                "prediction drift needs the prediction columns: set production_data.data_column_names.prediction "
                "and/or prediction_probability"
            )
        return predictions


class DataQualitySignal(_FeatureSignal, _Gated):
    type: Literal["data_quality"]
    metric_thresholds: _thresholds_union(QualityThresholds) | None = None  # type: ignore[valid-type]


class FeatureAttributionDriftSignal(SignalBase):
    type: Literal["feature_attribution_drift"]
    model_type: Literal["classification", "regression"] | None = None
    #: GA form: ``production_data`` is a list of model inputs and outputs; the outputs land here.
    production_outputs: MonitoringInput | None = None

    @model_validator(mode="before")
    @classmethod
    def _production_list(cls, data: Any) -> Any:
        return split_production_list(data)
    metric_thresholds: _thresholds_union(AttributionThresholds) | None = None  # type: ignore[valid-type]

    def _mapped_thresholds(self, signal_type: str, groups: dict[str, tuple[str, ...]],
                           raw: BaseModel) -> dict[str, dict[str, Threshold]]:
        """One flat mapping: the group is the model."""
        return {"model": _filled(signal_type, "model", raw)}

    def task(self, ml_task: str | None) -> Task | None:
        return _task(self.model_type, ml_task)

    def options(self, context: PlanContext) -> dict[str, Any]:
        """The label of the reference and the predictions of production, the targets of the importances."""
        prod = self.production_data.data_column_names if self.production_data else None
        ref = self.reference_data.data_column_names if self.reference_data else None
        reference_target = ref.target_column if ref else None
        if not reference_target:
            raise MonitoringError(
                "feature attribution drift needs the label of the reference: set "
                "reference_data.data_column_names.target_column"
            )
        outputs = self.production_outputs.data_column_names if self.production_outputs else None
        production_target = ((prod.prediction or prod.target_column) if prod else None) or (
            outputs.prediction or outputs.target_column if outputs else None)
        if not production_target:
            if reference_target not in context.production.columns():
                raise MonitoringError(
                    "feature attribution drift needs the model's predictions in production: set "
                    "production_data.data_column_names.prediction"
                )
            production_target = reference_target
        return {"reference_target": reference_target, "production_target": production_target,
                "task": self.task(context.ml_task)}


class ModelPerformanceSignal(SignalBase):
    type: Literal["model_performance"]
    model_type: Literal["classification", "regression"] | None = None
    minimum_join_coverage: float = Field(0.1, ge=0, le=1)
    metric_thresholds: PerformanceThresholds | None = None  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _tabular_names(cls, data: Any) -> Any:
        """The how-to YAML writes ``tabular_classification``; the SDK schema says ``classification``."""
        if isinstance(data, dict) and isinstance(data.get("metric_thresholds"), dict):
            mt = data["metric_thresholds"]
            if any(isinstance(k, str) and k.startswith("tabular_") for k in mt):
                renamed = _rekeyed((k.removeprefix("tabular_"), v, (mt, k)) for k, v in mt.items())
                return _rekeyed((k, renamed if k == "metric_thresholds" else v, (data, k)) for k, v in data.items())
        return data

    def task(self, ml_task: str | None) -> Task | None:
        """``model_type``, else ``ml_task``, else the one task whose thresholds the YAML sets."""
        task = _task(self.model_type, ml_task)
        thresholds = self.metric_thresholds
        if task is None and thresholds is not None:
            configured = [g for g in ("classification", "regression") if getattr(thresholds, g) is not None]
            task = "classification" if configured == ["classification"] else \
                "regression" if configured == ["regression"] else None
        return task

    def check_no_reference(self) -> None:
        raise MonitoringError(_GROUND_TRUTH)

    def options(self, context: PlanContext) -> dict[str, Any]:
        """The prediction and label columns, their join keys, the task and the minimum join coverage."""
        if self.reference_data is None or self.reference_data.input_data is None:
            raise MonitoringError(_GROUND_TRUTH)
        prod = self.production_data.data_column_names if self.production_data else DataColumnNames()
        ref = self.reference_data.data_column_names
        prediction = prod.prediction or prod.target_column
        if not prediction:
            raise MonitoringError("model performance needs production_data.data_column_names.prediction")
        actual = ref.actual or ref.target_column
        if not actual:
            raise MonitoringError("model performance needs reference_data.data_column_names.actual (the label)")
        production_id = prod.correlation_id or MDC_CORRELATION_ID
        if self.reference_data.data_context not in (None, "ground_truth"):
            context.notes.append(f"reference_data.data_context is `{self.reference_data.data_context}`; model "
                                 "performance reads it as ground truth")
        return {"prediction": prediction, "actual": actual, "production_id": production_id,
                "ground_truth_id": ref.correlation_id or production_id, "task": self.task(context.ml_task),
                "minimum_join_coverage": self.minimum_join_coverage}

    def fixed_features(self, options: dict[str, Any]) -> list[str]:
        """The prediction column: performance is one result for the whole model."""
        return [options["prediction"]]


class CustomSignal(SignalBase):
    type: Literal["custom"]
    component_id: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    input_data: dict[str, MonitoringInput] | None = None
    metric_thresholds: list[CustomThreshold] = Field(default_factory=list)

    @model_validator(mode="after")
    def _inputs(self) -> CustomSignal:
        """GA custom signals put their datasets under ``input_data``; map the usual names."""
        if self.input_data:
            updates: dict[str, Any] = {}
            if self.production_data is None and "production_data" in self.input_data:
                updates["production_data"] = self.input_data["production_data"]
            if self.reference_data is None and "reference_data" in self.input_data:
                updates["reference_data"] = self.input_data["reference_data"]
            for key, value in updates.items():
                object.__setattr__(self, key, value)
        return self

    def configured_thresholds(self) -> dict[str, dict[str, Threshold]]:
        return {"custom": {t.metric_name: t.threshold for t in self.metric_thresholds if t.threshold is not None}}

    def options(self, context: PlanContext) -> dict[str, Any]:
        """The registered function's name and the YAML's ``inputs``; an unregistered name fails the plan."""
        try:
            info = lookup(self.component_id)
        except LookupError as exc:
            raise MonitoringError(str(exc)) from None
        return {"component_id": info.name, "inputs": dict(self.inputs)}


Signal = Annotated[
    Union[
        DataDriftSignal,
        PredictionDriftSignal,
        DataQualitySignal,
        FeatureAttributionDriftSignal,
        ModelPerformanceSignal,
        CustomSignal,
        GenerationSafetyQualitySignal,
        GenerationTokenStatisticsSignal,
    ],
    Field(discriminator="type"),
]
