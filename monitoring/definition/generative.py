"""Signals of generative models, valid in a definition and ``unsupported`` at run time.

``generation_safety_quality`` needs a language-model judge and ``generation_token_statistics`` a tokenizer;
this project ships neither. Their definitions load (as Azure ML's SDK schema has them), so a monitor that
also has tabular signals runs those, and the runner reports these as unsupported with ``UNSUPPORTED``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from monitoring.definition.inputs import MonitoringInput
from monitoring.definition.strict import Strict

#: Why each generative signal type does not run here (one line, shown as the signal's reason).
UNSUPPORTED = {
    "generation_safety_quality": "generation safety and quality needs a language-model judge (groundedness, "
                                 "relevance, coherence, fluency, similarity), which this project does not ship",
    "generation_token_statistics": "generation token statistics needs the model's tokenizer, which this "
                                   "project does not ship",
}


class _GenerativeBase(Strict):
    production_data: list[MonitoringInput] | MonitoringInput | None = None
    alert_enabled: bool = True
    properties: dict[str, Any] | None = None
    sampling_rate: float | None = Field(None, ge=0, le=1)
    metric_thresholds: dict[str, dict[str, float]] | None = None

    def configured_thresholds(self) -> dict[str, dict[str, float]]:
        return {group: dict(metrics) for group, metrics in (self.metric_thresholds or {}).items()}

    @property
    def unsupported(self) -> str:
        return UNSUPPORTED[self.type]  # type: ignore[attr-defined]


class GenerationSafetyQualitySignal(_GenerativeBase):
    type: Literal["generation_safety_quality"]
    connection_id: str | None = None
    workspace_connection_id: str | None = None


class GenerationTokenStatisticsSignal(_GenerativeBase):
    type: Literal["generation_token_statistics"]


__all__ = ["UNSUPPORTED", "GenerationSafetyQualitySignal", "GenerationTokenStatisticsSignal"]
