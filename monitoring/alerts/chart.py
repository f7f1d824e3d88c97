"""The email's picture: the distribution chart of the worst breached feature, as an inline PNG."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from monitoring.alerts.content import EmailChart
from monitoring.alerts.decide import Decision
from monitoring.results import charts
from monitoring.storage.base import Store, read_json

log = logging.getLogger(__name__)
CID = "worst-feature"


def worst_feature_chart(run: Mapping[str, Any], decision: Decision, store: Store) -> EmailChart | None:
    """The chart of the first (worst) breach that has a distribution to draw, or None."""
    prefix = f"{run['monitor']}/{run['run_id']}"
    for breach in decision.breaches:
        doc = read_json(store, f"{prefix}/signals/{breach.signal}.json") or {}
        stored = (doc.get("features") or {}).get(breach.feature) or {}
        profile = (stored.get("details") or {}).get("profile")
        draw = {"numerical": charts.numerical_distribution, "categorical": charts.categorical_distribution}.get(
            stored.get("kind", ""))
        if draw is None:
            continue
        try:
            png = draw(breach.feature, profile, stored.get("histogram"), fmt="png")
        except (ValueError, TypeError, KeyError) as exc:  # a picture is an extra: the email goes without it
            log.warning("no chart for %s/%s: %s", breach.signal, breach.feature, exc)
            continue
        if isinstance(png, bytes):
            caption = (f"{breach.feature} ({breach.signal}): {breach.metric} past its threshold; reference in "
                       "grey, production in blue")
            return EmailChart(cid=CID, caption=caption, png=png)
    return None


__all__ = ["CID", "worst_feature_chart"]
