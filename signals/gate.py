r"""The significance gate: a metric breaches only when past its threshold **and** significant.

Thresholds keep their meaning as effect sizes; the gate adds that the change is statistically real at
the current sample sizes. For each metric of a signal, the p-values of its :math:`m` features form one
family, corrected for multiplicity:

* Holm (1979), doi:10.2307/4615733, the default, controls the family-wise error rate (the chance of any
  false alarm among the :math:`m` features) at :math:`\alpha`. With :math:`p_{(1)} \le \dots \le p_{(m)}`,

  .. math:: \tilde p_{(i)} = \max_{j \le i} \min\bigl(1, (m - j + 1)\, p_{(j)}\bigr)

* Benjamini & Hochberg (1995), doi:10.1111/j.2517-6161.1995.tb02031.x, ``correction="bh"``, controls the
  false discovery rate (``scipy.stats.false_discovery_control``):

  .. math:: \tilde p_{(i)} = \min_{j \ge i} \min\bigl(1, m\, p_{(j)} / j\bigr)

A metric is significant when :math:`\tilde p \le \alpha`. ``significance=None`` (off) leaves every
verdict as the bare threshold comparison, as in Azure ML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from signals.info import CORRECTIONS, DEFAULT_SIGNIFICANCE, Correction, Significance
from signals.results import FeatureResult, MetricResult, SignalResult

AUTO = "auto"


def adjust_pvalues(pvalues: Sequence[float], correction: Correction = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values, in the order given (see the module docstring)."""
    p = np.asarray(pvalues, dtype=float)
    if len(p) == 0:
        return p
    if correction == "bh":
        from scipy import stats  # only here: its import costs ~1 s of CPU (signals.laws)
        return np.asarray(stats.false_discovery_control(p, method="bh"))
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted


def check_thresholds(thresholds: Mapping[str, Mapping[str, float | str]], significance: Significance | None) -> None:
    """``auto`` needs a null to take a quantile of: reject it up front when the gate is off."""
    for kind, values in thresholds.items():
        for name, value in values.items():
            if isinstance(value, str) and value != AUTO:
                raise ValueError(f"threshold of `{name}` ({kind}) is {value!r}; use a number or 'auto'")
            if value == AUTO and significance is None:
                raise ValueError(f"threshold of `{name}` ({kind}) is 'auto', which needs significance; "
                                 "significance is off (None): give a number or turn significance on")


def gated(result: MetricResult, adjusted: float | None, significance: Significance) -> MetricResult:
    """``result`` with ``significant`` and ``breached`` = past threshold and adjusted p <= alpha."""
    if result.p_value is None or adjusted is None:
        return result
    significant = bool(adjusted <= significance.alpha)
    past = result.past_threshold
    breached = None if past is None else past and significant
    why = None
    if past and not significant:
        why = (f"past its threshold but not significant: p = {result.p_value:.3g}, {significance.correction}"
               f"-adjusted {adjusted:.3g} > alpha {significance.alpha:g}")
    return result.model_copy(update={"significant": significant, "breached": breached, "gate_reason": why})


def apply_gate(features: Mapping[str, FeatureResult], significance: Significance) -> dict[str, FeatureResult]:
    """Correct each metric's p-values across the features and set every verdict from the adjusted ones."""
    names = dict.fromkeys(n for f in features.values() for n in f.metrics)
    updated: dict[str, dict[str, MetricResult]] = {f: dict(r.metrics) for f, r in features.items()}
    for name in names:
        family = [f for f, r in features.items() if name in r.metrics and r.metrics[name].p_value is not None]
        adjusted = adjust_pvalues([features[f].metrics[name].p_value for f in family],  # type: ignore[misc]
                                  significance.correction)
        for f, adj in zip(family, adjusted, strict=True):
            updated[f][name] = gated(features[f].metrics[name], float(adj), significance)
    return {f: r.model_copy(update={"metrics": updated[f]}) for f, r in features.items()}


@dataclass(frozen=True)
class DriftCount:
    """How many features of a signal breached, and what chance alone would give at this alpha."""

    drifted: int
    features: int
    alpha: float | None
    correction: Correction | None

    def chance(self) -> str:
        r"""What chance alone gives. Holm bounds the family-wise rate: with no change, some feature
        breaches on a metric in at most :math:`\alpha` of runs. BH bounds the false discovery rate: on
        average at most :math:`\alpha` of the drifted features are false. With the gate off the verdicts
        are bare thresholds on distances, whose false-alarm rate depends on the sample size
        (``bench/calibration.py``)."""
        if self.alpha is None or self.correction is None:
            return "significance off: bare thresholds, chance not controlled"
        share = f"{self.alpha:.0%}" if self.alpha * 100 == round(self.alpha * 100) else f"{self.alpha:g}"
        if self.correction == "bh":
            return f"expected by chance at alpha {self.alpha:g}, bh: at most {share} of drifted features, on average"
        return f"expected by chance at alpha {self.alpha:g}, holm: any false alarm in at most {share} of runs"

    def sentence(self, verb: str = "drifted") -> str:
        """E.g. ``3 of 30 features drifted (expected by chance at alpha 0.01, holm: any false alarm in at
        most 1% of runs)``; ``verb`` is what a breach means for the signal (``breached`` for quality)."""
        return f"{self.drifted} of {self.features} features {verb} ({self.chance()})"


def drift_count(result: SignalResult) -> DriftCount:
    """The run-level view of a signal, at the significance it was judged with (``result.significance``)."""
    return count_breached([f.breached for f in result.features.values()], result.significance)


def count_breached(breached: Sequence[bool], significance: Significance | None) -> DriftCount:
    """The run-level view from each feature's verdict (as run.json stores them) and the gate's settings."""
    if significance is None:
        return DriftCount(sum(breached), len(breached), None, None)
    return DriftCount(sum(breached), len(breached), significance.alpha, significance.correction)


__all__ = ["AUTO", "CORRECTIONS", "DEFAULT_SIGNIFICANCE", "Correction", "DriftCount", "Significance",
           "adjust_pvalues", "apply_gate", "check_thresholds", "count_breached", "drift_count", "gated"]
