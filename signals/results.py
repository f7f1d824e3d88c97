"""Typed results of a signal: what each metric was, against which threshold, and whether it breached.

Results are values (frozen pydantic models) so they cross process and JSON boundaries unchanged: the
Durable activities return them as dicts and the alert step reads them back.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from signals.info import Significance

#: Fields of ``MetricResult`` set only by the significance gate.
GATE_FIELDS = ("p_value", "null_quantile", "significant", "gate_reason")

SignalStatus = Literal["completed", "failed", "skipped", "unsupported", "insufficient_data"]


class MetricResult(BaseModel):
    """One metric's value, the threshold applied (``None`` when none is configured) and the verdict.

    With the significance gate on (``signals.gate``), ``p_value`` is the metric's p-value under "no
    change" at the current sample sizes, ``null_quantile`` the (1 - alpha) quantile of its null in the
    metric's own units, ``significant`` the verdict after multiplicity control across the signal's
    features, and ``gate_reason`` says why a value past its threshold did not breach. With the gate off
    all four stay ``None`` and ``breached`` is the bare threshold comparison (Azure ML's verdict).
    """

    model_config = ConfigDict(frozen=True)

    value: float | None
    threshold: float | None = None
    direction: Literal["greater_is_better", "less_is_better"]
    breached: bool | None = None
    reason: str | None = Field(None, description="Why the value is null, when it is.")
    p_value: float | None = Field(None, description="P-value under no change, when the gate is on.")
    null_quantile: float | None = Field(None, description="The (1 - alpha) quantile of the metric's null.")
    significant: bool | None = Field(None, description="Significant after multiplicity control.")
    gate_reason: str | None = Field(None, description="Why a value past its threshold did not breach.")

    @model_serializer(mode="wrap")
    def _without_unset_gate(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """Gate fields are left out while null, so results with the gate off serialise as before it existed."""
        data: dict[str, object] = handler(self)
        for key in GATE_FIELDS:
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @property
    def past_threshold(self) -> bool | None:
        """The bare threshold comparison: below it for greater-is-better metrics, above it otherwise."""
        if self.value is None or self.threshold is None:
            return None
        return self.value < self.threshold if self.direction == "greater_is_better" else self.value > self.threshold


class Histogram(BaseModel):
    """Both sides' distributions: bin edges for numerical features, categories for categorical ones."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["numerical", "categorical"]
    edges: list[float] | None = None
    categories: list[str] | None = None
    reference: list[int]
    production: list[int]


class FeatureResult(BaseModel):
    """Every metric of one feature (or one group, for signals that are not per feature)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    row_counts: dict[str, int]
    metrics: dict[str, MetricResult]
    histogram: Histogram | None = None
    details: dict[str, object] | None = None

    @property
    def breached(self) -> bool:
        return any(m.breached for m in self.metrics.values())


class SignalResult(BaseModel):
    """A signal's outcome: status, the reason when it did not complete, and per-feature results."""

    model_config = ConfigDict(frozen=True)

    type: str
    status: SignalStatus
    error: str | None = None
    row_counts: dict[str, int] = Field(default_factory=dict)
    features: dict[str, FeatureResult] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    significance: Significance | None = Field(
        None, description="The gate's settings the verdicts were judged with; null when the gate was off "
                          "or the signal has no p-values.")

    @property
    def breached(self) -> bool:
        return self.status == "completed" and any(f.breached for f in self.features.values())


def judge(value: float | None, threshold: float | None, *, greater_is_better: bool,
          reason: str | None = None) -> MetricResult:
    """Apply a threshold: greater-is-better metrics breach below it, the rest above; equality never.

    A value that is not finite is stored as null with a reason, never as NaN or inf.
    """
    direction: Literal["greater_is_better", "less_is_better"] = (
        "greater_is_better" if greater_is_better else "less_is_better"
    )
    if value is not None and not math.isfinite(value):
        reason = reason or f"value is {value}"
        value = None
    if value is None:
        return MetricResult(value=None, threshold=threshold, direction=direction, breached=None,
                            reason=reason or "undefined")
    value = float(value)
    if threshold is None:
        return MetricResult(value=value, threshold=None, direction=direction, breached=None)
    breached = value < threshold if greater_is_better else value > threshold
    return MetricResult(value=value, threshold=threshold, direction=direction, breached=breached)


__all__ = ["GATE_FIELDS", "FeatureResult", "Histogram", "MetricResult", "SignalResult", "SignalStatus", "judge"]
