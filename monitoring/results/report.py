"""The run report: one self-contained HTML page (inline CSS and SVG charts, no scripts, nothing fetched).

It is written next to run.json so that the link in an alert email opens a page that works anywhere:
from Blob Storage, a file share or an email attachment. Per feature it shows both sides' distributions
(skewed numerical features on the reference's quantile bins), their summary statistics side by side, and
for each breached metric its trend over the monitor's runs with the threshold drawn. The header's counts
come from ``monitoring.results.verdict``, as the email's do.

Every feature of a signal is a row of one compact table (each metric's value, p-value and verdict); the
details (charts, statistics, trends) are drawn only for the features ``monitoring.results.selection``
picks (failed, breached, the worst of each metric; at most 50), so a 10,000-feature run stays a few MB.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from monitoring.results import charts
from monitoring.results.selection import DETAIL_FEATURES, TOP_PER_METRIC, detailed
from monitoring.results.verdict import LABELS, feature_count, signal_group, verdict
from monitoring.storage.base import Store, read_json
from monitoring.text import fmt_number

#: Runs drawn in a trend chart.
TREND_RUNS = 30
_NUMERIC_STATS = ("count", "nulls", "mean", "std", "min", "p5", "p50", "p95", "max")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("monitoring.results", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["num"] = fmt_number
    return env


def _svg(markup: str | bytes | None) -> Markup | None:
    """Chart markup from matplotlib (our own renderer, with labels escaped by ``charts``) as safe HTML."""
    return Markup(markup) if isinstance(markup, str) else None


def read_history(store: Store, monitor: str) -> pl.DataFrame | None:
    data = store.read_bytes(f"{monitor}/history.parquet")
    return pl.read_parquet(io.BytesIO(data)) if data is not None else None


def metric_trend(history: pl.DataFrame | None, signal: str, feature: str, metric: str,
                 threshold: float | None) -> Markup | None:
    """The metric's last runs from history.parquet with its threshold, or None with fewer than two runs."""
    if history is None or history.is_empty():
        return None
    rows = history.filter((pl.col("signal") == signal) & (pl.col("feature") == feature) &
                          (pl.col("metric") == metric)).sort("fire_time").tail(TREND_RUNS)
    if rows.height < 2:
        return None
    return _svg(charts.trend(f"{feature} · {metric}", rows["fire_time"].to_list(), rows["value"].to_list(),
                             threshold))


def _cell(value: Any) -> str:
    """Counts with thousands separators, everything else as the report formats numbers."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else fmt_number(value)


def _stats(profile: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    """(statistic, reference, production) rows of a feature's profile, formatted."""
    if not profile:
        return []
    if profile["kind"] == "numerical":
        names = [s for s in _NUMERIC_STATS if s in profile]
    else:
        names = ["count", "nulls", "distinct"]
    rows = [(s, _cell(profile[s]["reference"]), _cell(profile[s]["production"])) for s in names]
    if profile["kind"] == "categorical":
        total = profile["count"]
        for top in profile["top"]:
            rows.append((f"% {top['category']}", fmt_number(100 * top["reference"] / (total["reference"] or 1)),
                         fmt_number(100 * top["production"] / (total["production"] or 1))))
    return rows


def _distribution(name: str, kind: str, stored: Mapping[str, Any]) -> Markup | None:
    profile = (stored.get("details") or {}).get("profile")
    histogram = stored.get("histogram")
    if kind == "numerical":
        return _svg(charts.numerical_distribution(name, profile, histogram))
    if kind == "categorical":
        return _svg(charts.categorical_distribution(name, profile, histogram))
    return None


def _feature(signal: str, name: str, summary: Mapping[str, Any], stored: Mapping[str, Any],
             history: pl.DataFrame | None, *, draw: bool) -> dict[str, Any]:
    details = stored.get("details") or {}
    profile = details.get("profile")
    trends = [t for metric, m in summary["metrics"].items() if m.get("breached")
              if (t := metric_trend(history, signal, name, metric, m.get("threshold"))) is not None]
    return {
        "name": name, **summary, "chart": _distribution(name, summary["kind"], stored) if draw else None,
        "stats": _stats(profile), "new_categories": (profile or {}).get("new") or [],
        "skewness": (profile or {}).get("skewness"), "trends": trends,
        "importance": details.get("importance"),
    }


def _signal_charts(sig: Mapping[str, Any], doc: Mapping[str, Any], chosen: list[str]) -> list[Markup]:
    """Charts of a whole signal: quality rates per feature (the ``chosen`` ones when there are more than
    ``DETAIL_FEATURES``), importance on both sides, performance."""
    out: list[str | bytes | None] = []
    features = sig.get("features", {})
    if sig.get("type") == "data_quality":
        shown = list(features) if len(features) <= DETAIL_FEATURES else chosen
        label = "rate" if len(shown) == len(features) else f"rate, {len(shown)} of {len(features)} features"
        metrics = sorted({m for fr in features.values() for m in fr["metrics"]})
        for metric in metrics:
            rows = [(f, features[f]["metrics"][metric]["value"], features[f]["metrics"][metric]["threshold"],
                     features[f]["metrics"][metric]["breached"]) for f in shown if metric in features[f]["metrics"]]
            out.append(charts.value_bars(metric, rows, xlabel=label))
    for name, fr in features.items():
        details = (doc.get("features", {}).get(name) or {}).get("details") or {}
        if details.get("importance"):
            out.append(charts.importance_bars(details["importance"]))
        if sig.get("type") == "model_performance":
            out.append(charts.value_bars(f"{name} metrics", [(m, v["value"], v["threshold"], v["breached"])
                                                             for m, v in fr["metrics"].items()]))
            confusion = details.get("confusion_matrix")
            if confusion:
                out.append(charts.confusion_matrix(confusion["classes"], confusion["rows_actual_columns_predicted"]))
    return [m for m in (_svg(c) for c in out) if m is not None]


def _metric_cell(metric: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """(text, css class, title) of one metric in the table of every feature."""
    if metric is None:
        return "", "", ""
    if metric.get("value") is None:
        return "-", "na", metric.get("reason") or ""
    text = fmt_number(metric["value"])
    if metric.get("p_value") is not None:
        text += f" · p {fmt_number(metric['p_value'])}"
    css = "b" if metric.get("breached") else ""
    return text, css, metric.get("gate_reason") or ""


def _table(features: Mapping[str, Mapping[str, Any]], chosen: set[str]) -> dict[str, Any]:
    """Every feature as a row (breached first, then by name), one column per metric."""
    metrics = list(dict.fromkeys(m for fr in features.values() for m in fr.get("metrics") or {}))
    names = sorted(features, key=lambda f: (not features[f].get("breached"), f))
    rows = [(f, features[f]["kind"], features[f].get("row_counts") or {}, bool(features[f].get("breached")),
             f in chosen, [_metric_cell(features[f]["metrics"].get(m)) for m in metrics]) for f in names]
    return {"metrics": metrics, "rows": rows}


def _signal(name: str, sig: Mapping[str, Any], doc: Mapping[str, Any], history: pl.DataFrame | None) -> dict[str, Any]:
    all_features = sig.get("features", {})
    chosen = detailed(all_features)
    draw = sig.get("type") in ("data_drift", "prediction_drift")
    features = [_feature(name, f, all_features[f], doc.get("features", {}).get(f, {}), history, draw=draw)
                for f in chosen]
    features.sort(key=lambda f: (not f["breached"], f["name"]))
    defaults: dict[str, Any] = {"production_window": None, "reference_window": None, "segment": None,
                                "notes": [], "error": None, "row_counts": {}}
    group = signal_group(sig)
    notes = [n for n in sig.get("notes", []) if not n.startswith("segment: ")]  # the segment has its own line
    gated = any(m.get("p_value") is not None for fr in all_features.values() for m in fr["metrics"].values())
    return {**defaults, "name": name, **sig, "notes": notes, "group": group, "label": LABELS[group],
            "feature_list": features, "charts": _signal_charts(sig, doc, chosen), "gated": gated,
            "sentence": feature_count({**{k: v for k, v in doc.items() if k == "significance"}, **sig}),
            "table": _table(all_features, set(chosen)),
            "detail_rule": f"the failed and breached features and the {TOP_PER_METRIC} worst of each metric, "
                           f"at most {DETAIL_FEATURES}"}


def render_report(run: Mapping[str, Any], signal_documents: Mapping[str, Mapping[str, Any]],
                  history: pl.DataFrame | None = None) -> str:
    """The report of one run from its run.json, its signal documents and the monitor's history."""
    signals = [_signal(name, sig, signal_documents.get(name, {}), history) for name, sig in run["signals"].items()]
    return environment().get_template("report.html.j2").render(run=run, signals=signals, verdict=verdict(run))


def write_report(store: Store, prefix: str, run: Mapping[str, Any]) -> str:
    """Render and store ``<prefix>/report.html``; return where a person finds it."""
    documents = {name: read_json(store, f"{prefix}/signals/{name}.json") or {} for name in run["signals"]}
    html = render_report(run, documents, read_history(store, run["monitor"]))
    store.write_bytes(f"{prefix}/report.html", html.encode(), content_type="text/html; charset=utf-8")
    return store.location(f"{prefix}/report.html")


def preload() -> None:
    """Load what a report draws with (``charts.preload``) and compile its templates, e.g. from a thread while
    a run computes."""
    charts.preload()
    for name in ("report.html.j2", "overview.html.j2"):
        environment().get_template(name)


__all__ = ["environment", "metric_trend", "preload", "read_history", "render_report", "write_report"]
