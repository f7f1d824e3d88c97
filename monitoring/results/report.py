"""The run report: one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched).

It is written next to run.json so that the link in an alert email opens a page that works anywhere:
from Blob Storage, a file share or an email attachment.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from monitoring.storage.base import Store, read_json
from monitoring.text import fmt_number

_BAR_WIDTH = 360
_BAR_HEIGHT = 90


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("monitoring.results", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["num"] = fmt_number
    return env




def histogram_bars(histogram: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Bar geometry for both sides as shares of their totals, so different sample sizes compare."""
    if not histogram:
        return None
    ref, prod = histogram["reference"], histogram["production"]
    n_ref, n_prod = sum(ref) or 1, sum(prod) or 1
    shares = [(r / n_ref, p / n_prod) for r, p in zip(ref, prod, strict=True)]
    top = max(max(s) for s in shares) or 1.0
    k = len(shares)
    slot = _BAR_WIDTH / max(k, 1)
    bars = []
    for i, (r, p) in enumerate(shares):
        label = histogram["categories"][i] if histogram.get("categories") else None
        if label is None and histogram.get("edges"):
            label = f"[{fmt_number(histogram['edges'][i])}, {fmt_number(histogram['edges'][i + 1])})"
        bars.append({
            "x": i * slot, "w": max(slot / 2 - 1, 0.5),
            "ref_h": r / top * _BAR_HEIGHT, "prod_h": p / top * _BAR_HEIGHT,
            "label": label, "ref": r, "prod": p,
        })
    edges = histogram.get("edges") or [None, None]
    return {"bars": bars, "width": _BAR_WIDTH, "height": _BAR_HEIGHT, "categorical": bool(histogram.get("categories")),
            "low": edges[0], "high": edges[-1]}


def render_report(run: Mapping[str, Any], signal_documents: Mapping[str, Mapping[str, Any]]) -> str:
    """The report of one run from its run.json and its signal documents (for histograms)."""
    signals = []
    for name, sig in run["signals"].items():
        doc = signal_documents.get(name, {})
        features = []
        for feature, fr in sig.get("features", {}).items():
            stored = doc.get("features", {}).get(feature, {})
            features.append({"name": feature, **fr, "chart": histogram_bars(stored.get("histogram")),
                             "importance": (stored.get("details") or {}).get("importance")})
        features.sort(key=lambda f: (not f["breached"], f["name"]))
        defaults: dict[str, Any] = {"production_window": None, "reference_window": None, "segment": None,
                                    "notes": [], "error": None, "row_counts": {}}
        signals.append({**defaults, "name": name, **sig, "feature_list": features})
    return _environment().get_template("report.html.j2").render(run=run, signals=signals)


def write_report(store: Store, prefix: str, run: Mapping[str, Any]) -> str:
    """Render and store ``<prefix>/report.html``; return where a person finds it."""
    documents = {name: read_json(store, f"{prefix}/signals/{name}.json") or {} for name in run["signals"]}
    store.write_bytes(f"{prefix}/report.html", render_report(run, documents).encode(),
                      content_type="text/html; charset=utf-8")
    return store.location(f"{prefix}/report.html")


__all__ = ["histogram_bars", "render_report", "write_report"]
