"""Which features of a signal the report details.

A wide signal (10,000 features) cannot draw a chart per feature: each costs ~50-100 ms of matplotlib and
~10 KB of SVG. The report lists every feature in one compact table and details (charts, statistics,
trends) only the features that matter: the failed ones, the breached ones (most severe first) and the
``TOP_PER_METRIC`` worst values of each metric, at most ``DETAIL_FEATURES`` per signal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: Features detailed per signal, at most.
DETAIL_FEATURES = 50
#: The worst values of each metric detailed even when they did not breach.
TOP_PER_METRIC = 5


def failed(feature: Mapping[str, Any]) -> bool:
    """A feature none of whose metrics has a value (a missing column, no finite values)."""
    metrics = feature.get("metrics") or {}
    return bool(metrics) and all(m.get("value") is None for m in metrics.values())


def excess(metric: Mapping[str, Any]) -> float:
    """How far past its threshold a metric is, as a ratio (> 1 past it); 0 without a value or threshold."""
    value, threshold = metric.get("value"), metric.get("threshold")
    if value is None or threshold is None:
        return 0.0
    if metric.get("direction") == "greater_is_better":
        return threshold / value if value > 0 else math.inf
    return value / threshold if threshold > 0 else (math.inf if value > threshold else 0.0)


def _worst(features: Mapping[str, Mapping[str, Any]], metric: str, count: int) -> list[str]:
    """The ``count`` features with the worst value of ``metric`` (largest, or smallest when greater is better)."""
    rows = [(name, m) for name, fr in features.items()
            if (m := (fr.get("metrics") or {}).get(metric)) is not None and m.get("value") is not None]
    if not rows:
        return []
    sign = 1.0 if rows[0][1].get("direction") == "greater_is_better" else -1.0
    rows.sort(key=lambda r: (sign * r[1]["value"], r[0]))
    return [name for name, _ in rows[:count]]


def detailed(features: Mapping[str, Mapping[str, Any]], *, limit: int = DETAIL_FEATURES,
             top: int = TOP_PER_METRIC) -> list[str]:
    """The features to detail, in priority order: failed, breached (largest ``excess`` first), then the
    ``top`` worst of each metric; at most ``limit``."""
    chosen = dict.fromkeys(name for name, fr in features.items() if failed(fr))
    breached = [(name, max((excess(m) for m in fr["metrics"].values() if m.get("breached")), default=0.0))
                for name, fr in features.items() if fr.get("breached")]
    breached.sort(key=lambda r: (-r[1], r[0]))
    chosen |= dict.fromkeys(name for name, _ in breached)
    metrics = dict.fromkeys(m for fr in features.values() for m in (fr.get("metrics") or {}))
    for metric in metrics:
        chosen |= dict.fromkeys(_worst(features, metric, top))
    return list(chosen)[:limit]


__all__ = ["DETAIL_FEATURES", "TOP_PER_METRIC", "detailed", "excess", "failed"]
