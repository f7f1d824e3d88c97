"""``<monitor>/index.html``: the monitor's runs in time order with their verdicts, and per signal the trend
of every metric that breached in the last runs, threshold drawn. Rewritten after each run."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from monitoring.results.report import TREND_RUNS, environment, metric_trend, read_history
from monitoring.results.verdict import verdict
from monitoring.storage.base import Store, read_json

#: Runs listed in the overview (newest first) and trend charts per signal.
OVERVIEW_RUNS = 100
TRENDS_PER_SIGNAL = 8
_RUN_JSON = re.compile(r"^[^/]+/(\d{8}T\d{4}Z)/run\.json$")


def _runs(store: Store, monitor: str) -> list[dict[str, Any]]:
    ids = sorted({m.group(1) for p in store.list(f"{monitor}/") if (m := _RUN_JSON.match(p))}, reverse=True)
    out = []
    for run_id in ids[:OVERVIEW_RUNS]:
        run = read_json(store, f"{monitor}/{run_id}/run.json")
        if run is not None:
            out.append({"run": run, "verdict": verdict(run), "report": f"{run_id}/report.html"})
    return out


def _signal_trends(history: pl.DataFrame | None) -> dict[str, list[Any]]:
    """Per signal, the trend charts of the (feature, metric) pairs that breached in the last runs."""
    if history is None or history.is_empty():
        return {}
    times = history["fire_time"].unique().sort().tail(TREND_RUNS)
    recent = history.filter(pl.col("fire_time").is_in(times.implode()) & pl.col("breached").fill_null(False))
    out: dict[str, list[Any]] = {}
    pairs = recent.group_by("signal", "feature", "metric").agg(pl.col("threshold").last(), pl.len()) \
        .sort("signal", "len", "feature", "metric", descending=[False, True, False, False])
    for signal, feature, metric, threshold, _ in pairs.iter_rows():
        charts = out.setdefault(signal, [])
        if len(charts) < TRENDS_PER_SIGNAL:
            chart = metric_trend(history, signal, feature, metric, threshold)
            if chart is not None:
                charts.append(chart)
    return out


def render_overview(monitor: str, runs: Sequence[Mapping[str, Any]], history: pl.DataFrame | None) -> str:
    return environment().get_template("overview.html.j2").render(monitor=monitor, runs=runs,
                                                                 trends=_signal_trends(history))


def write_overview(store: Store, monitor: str) -> str:
    """Render and store ``<monitor>/index.html``; return where a person finds it."""
    html = render_overview(monitor, _runs(store, monitor), read_history(store, monitor))
    store.write_bytes(f"{monitor}/index.html", html.encode(), content_type="text/html; charset=utf-8")
    return store.location(f"{monitor}/index.html")


__all__ = ["render_overview", "write_overview"]
