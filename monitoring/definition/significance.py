"""Our extensions for honest verdicts: ``significance`` (per monitor or per signal) and what it resolves to.

``significance`` gates every drift and quality verdict (``signals.gate``): a metric breaches only when past
its threshold **and** significant after multiplicity control across the signal's features. It is on by
default (alpha 0.01, Holm). A signal's own setting wins over the monitor's (``create_monitor.significance``)::

    significance: {alpha: 0.01, correction: holm}   # or bh (Benjamini-Hochberg)
    significance: off                               # Azure ML's bare threshold verdicts, exactly
    significance: true                              # the defaults (false is the same as off)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from monitoring.definition.strict import Strict
from signals.info import DEFAULT_SIGNIFICANCE, Significance


class SignificanceSpec(Strict):
    """The gate's level and multiplicity correction."""

    alpha: float = Field(DEFAULT_SIGNIFICANCE.alpha, gt=0, lt=1, description=(
        "Family-wise level (Holm) or false discovery rate (bh) of each metric across the signal's features."))
    correction: Literal["holm", "bh"] = Field(DEFAULT_SIGNIFICANCE.correction, description=(
        "holm (Holm 1979, family-wise error rate) or bh (Benjamini-Hochberg 1995, false discovery rate)."))

    def settings(self) -> Significance:
        return Significance(alpha=self.alpha, correction=self.correction)


#: As written in the YAML: settings, ``off``, a boolean, or nothing (inherit).
SignificanceSetting = SignificanceSpec | Literal["off"] | bool | None


def resolve_significance(*settings: SignificanceSetting) -> Significance | None:
    """The first setting given (the signal's, then the monitor's), else the default; ``None`` when off."""
    for setting in settings:
        if setting is None:
            continue
        if setting == "off" or setting is False:
            return None
        return setting.settings() if isinstance(setting, SignificanceSpec) else DEFAULT_SIGNIFICANCE
    return DEFAULT_SIGNIFICANCE


__all__ = ["SignificanceSetting", "SignificanceSpec", "resolve_significance"]
