"""The vocabulary every signal shares: feature kinds and the built-in metrics with their breach direction.

The signal modules and :mod:`signals.registry` both import this module, and it imports nothing of ours,
so the registry can import the signal modules directly without a cycle. A new metric is one
``MetricInfo`` here (or in its signal's module, if no other signal judges it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FeatureKind = Literal["numerical", "categorical"]
Correction = Literal["holm", "bh"]
CORRECTIONS: tuple[Correction, ...] = ("holm", "bh")


@dataclass(frozen=True)
class Significance:
    """Settings of the gate: level, multiplicity correction, and the resampled nulls' size and seed.

    ``alpha`` (0.01) is the family-wise level of each metric across a signal's features; ``replicates``
    (1000) and ``seed`` (0) fix the resampled nulls, so the same windows always give the same p-values;
    the draws mix ``seed`` with a digest of the pooled data (``signals.nulls.seeded``), so that different
    tables do not share one Monte Carlo error.
    """

    alpha: float = 0.01
    correction: Correction = "holm"
    replicates: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"significance.alpha is {self.alpha}; it must be between 0 and 1 (exclusive)")
        if self.correction not in CORRECTIONS:
            raise ValueError(f"significance.correction is {self.correction!r}; valid: {', '.join(CORRECTIONS)}")
        if self.replicates < 100:
            raise ValueError(f"significance.replicates is {self.replicates}; use at least 100")


DEFAULT_SIGNIFICANCE = Significance()


@dataclass(frozen=True)
class MetricInfo:
    """A metric: its YAML name, older names, the groups it applies to and its breach direction."""

    name: str
    groups: tuple[str, ...]
    greater_is_better: bool = False
    aliases: tuple[str, ...] = ()


DRIFT_METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("jensen_shannon_distance", ("numerical", "categorical")),
    MetricInfo("normalized_wasserstein_distance", ("numerical",)),
    MetricInfo("population_stability_index", ("numerical", "categorical")),
    MetricInfo("two_sample_kolmogorov_smirnov_test", ("numerical",), greater_is_better=True),
    MetricInfo("pearsons_chi_squared_test", ("categorical",), greater_is_better=True,
               aliases=("chi_squared_test",)),
)
QUALITY_METRICS: tuple[MetricInfo, ...] = tuple(
    MetricInfo(name, ("numerical", "categorical"), aliases=aliases)
    for name, aliases in (("null_value_rate", ()), ("data_type_error_rate", ()),
                          ("out_of_bounds_rate", ("out_of_bound_rate",)))
)
ATTRIBUTION_METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("normalized_discounted_cumulative_gain", ("model",), greater_is_better=True),
)
PERFORMANCE_METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("accuracy", ("classification",), greater_is_better=True),
    MetricInfo("precision", ("classification",), greater_is_better=True),
    MetricInfo("recall", ("classification",), greater_is_better=True),
    MetricInfo("f1_score", ("classification",), greater_is_better=True, aliases=("f1",)),
    MetricInfo("mae", ("regression",), aliases=("mean_absolute_error",)),
    MetricInfo("mse", ("regression",), aliases=("mean_squared_error",)),
    MetricInfo("rmse", ("regression",), aliases=("root_mean_squared_error",)),
)

#: Names of the built-in metrics that breach *below* their threshold (p-values, accuracy, NDCG...).
GREATER_IS_BETTER: frozenset[str] = frozenset(
    m.name for metrics in (DRIFT_METRICS, QUALITY_METRICS, ATTRIBUTION_METRICS, PERFORMANCE_METRICS)
    for m in metrics if m.greater_is_better
)

__all__ = [
    "ATTRIBUTION_METRICS", "CORRECTIONS", "Correction", "DEFAULT_SIGNIFICANCE", "DRIFT_METRICS", "FeatureKind",
    "GREATER_IS_BETTER", "MetricInfo", "PERFORMANCE_METRICS", "QUALITY_METRICS", "Significance",
]
