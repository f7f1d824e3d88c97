"""The report's charts, drawn by matplotlib offline into static SVG (text stays text) or PNG (for email).

Figures are built with the object API (``matplotlib.figure.Figure``), never ``pyplot``, so rendering
holds no global state and is safe from the threads of a local run.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure

from monitoring.text import fmt_number

REFERENCE, PRODUCTION, THRESHOLD, BREACH = "#8c959f", "#0969da", "#cf222e", "#cf222e"
_STYLE: Any = {  # matplotlib rcParams (typed as Any: its stubs list every key as a Literal)
    "svg.fonttype": "none", "svg.hashsalt": "funcmon", "font.size": 8.5,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#57606a",
    "axes.labelcolor": "#1b1f24", "xtick.color": "#57606a", "ytick.color": "#57606a", "axes.titlesize": 9,
    "legend.frameon": False, "legend.fontsize": 8,
}
_HEADER = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_GEOMETRY = re.compile(r'(\s(?:d|transform|x|y|width|height)=")([^"]*)"')
_NUMBER = re.compile(r"-?\d+\.\d+")
_GROUP_ID = re.compile(r' id="(?:patch|line2d|text|xtick|ytick|axes|figure|legend|matplotlib\.axis)_\d+"')


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=72, layout="constrained")


def render(figure: Figure, label: str, fmt: str = "svg") -> str | bytes:
    """The figure as inline SVG markup (``role="img"`` with ``label``), or PNG bytes for ``fmt="png"``."""
    buffer = io.BytesIO()
    with rc_context(_STYLE):
        figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None,
                       dpi=144 if fmt == "png" else 72)
    if fmt == "png":
        return buffer.getvalue()
    svg = _minify(_METADATA.sub("", _HEADER.sub("", buffer.getvalue().decode(), count=1)))
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" class="chart" ', 1)


def _minify(svg: str) -> str:
    """Coordinates to one decimal (a tenth of a point), no indentation, no unreferenced group IDs: a chart
    is a third of matplotlib's output, so 50 features stay well under a megabyte."""
    def geometry(match: re.Match[str]) -> str:
        value = _NUMBER.sub(lambda n: f"{float(n.group()):.1f}".rstrip("0").rstrip("."), match.group(2))
        return f'{match.group(1)}{" ".join(value.split())}"'

    svg = _GEOMETRY.sub(geometry, svg)
    return re.sub(r">\s+<", "><", _GROUP_ID.sub("", svg)).strip()


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts) or 1
    return [100.0 * c / total for c in counts]


def _paired_bars(ax: Any, ref: Sequence[float], prod: Sequence[float], *, horizontal: bool = False) -> None:
    positions = range(len(ref))
    width = 0.42
    draw = ax.barh if horizontal else ax.bar
    draw([p - width / 2 for p in positions], ref, width, color=REFERENCE, label="reference")
    draw([p + width / 2 for p in positions], prod, width, color=PRODUCTION, label="production")


def numerical_distribution(feature: str, profile: dict[str, Any] | None, histogram: dict[str, Any] | None,
                           *, fmt: str = "svg") -> str | bytes | None:
    """Reference vs production shares per bin: the reference's quantile bins when the feature is skewed
    (so the bulk of the values is not in one bar), else the signal's equal-width bins."""
    with rc_context(_STYLE):
        quantiles = (profile or {}).get("quantile_bins")
        skewed = profile is not None and abs(profile.get("skewness") or 0.0) > 1.0 and quantiles
        fig = _figure(5.4, 2.1)
        ax = fig.add_subplot()
        if skewed or (quantiles and not histogram):
            assert quantiles is not None
            edges = quantiles["inner_edges"]
            ref, prod = _shares(quantiles["reference"]), _shares(quantiles["production"])
            labels = [f"< {fmt_number(edges[0])}"] + [f"{fmt_number(e)}" for e in edges[:-1]] + \
                     [f"≥ {fmt_number(edges[-1])}"] if edges else ["all"]
            _paired_bars(ax, ref, prod)
            step = max(1, len(labels) // 7)
            ax.set_xticks(range(0, len(labels), step), [labels[i] for i in range(0, len(labels), step)],
                          rotation=0)
            ax.set_xlabel(f"{feature}: reference quantile bins ({100 / max(len(ref), 1):.0f}% of reference each; "
                          "tick = bin start)")
        elif histogram and histogram.get("edges"):
            edges = histogram["edges"]
            ref, prod = _shares(histogram["reference"]), _shares(histogram["production"])
            widths = [b - a for a, b in itertools.pairwise(edges)]
            ax.bar(edges[:-1], ref, [w * 0.45 for w in widths], align="edge", color=REFERENCE, label="reference")
            ax.bar([e + w * 0.45 for e, w in zip(edges[:-1], widths, strict=True)], prod,
                   [w * 0.45 for w in widths], align="edge", color=PRODUCTION, label="production")
            ax.set_xlabel(f"{feature} (equal-width bins)")
        else:
            return None
        ax.set_ylabel("% of rows")
        fig.legend(loc="outside upper right", ncols=2)
        return render(fig, f"distribution of {feature}", fmt)


def categorical_distribution(feature: str, profile: dict[str, Any] | None, histogram: dict[str, Any] | None,
                             *, fmt: str = "svg") -> str | bytes | None:
    """Horizontal bars of the top categories (full labels) as shares of each side; new ones marked."""
    with rc_context(_STYLE):
        if profile is not None:
            top = profile["top"]
            totals = profile["count"]
            labels = [t["category"] for t in top]
            ref = [100.0 * t["reference"] / (totals["reference"] or 1) for t in top]
            prod = [100.0 * t["production"] / (totals["production"] or 1) for t in top]
            new = {n["category"] for n in profile["new"]}
        elif histogram and histogram.get("categories"):
            labels, ref, prod = histogram["categories"][:10], _shares(histogram["reference"])[:10], \
                _shares(histogram["production"])[:10]
            new = set()
        else:
            return None
        labels = [f"{lab} (new)" if lab in new else lab for lab in labels]
        fig = _figure(5.4, 0.5 + 0.24 * max(len(labels), 2))
        ax = fig.add_subplot()
        _paired_bars(ax, ref, prod, horizontal=True)
        ax.set_yticks(range(len(labels)), labels)
        for tick, lab in zip(ax.get_yticklabels(), labels, strict=True):
            if lab.endswith(" (new)"):
                tick.set_color(BREACH)
        ax.invert_yaxis()
        ax.set_xlabel(f"% of rows ({feature})")
        fig.legend(loc="outside upper right", ncols=2)
        return render(fig, f"top categories of {feature}", fmt)


def trend(title: str, times: Sequence[datetime], values: Sequence[float | None], threshold: float | None,
          *, fmt: str = "svg") -> str | bytes:
    """A metric over runs with its threshold as a dashed line; breaching points in red."""
    with rc_context(_STYLE):
        fig = _figure(3.6, 1.7)
        ax = fig.add_subplot()
        points = [(t, v) for t, v in zip(times, values, strict=True) if v is not None]
        if points:
            xs: Any = [t for t, _ in points]  # datetimes: matplotlib's date converter handles them
            ax.plot(xs, [v for _, v in points], marker="o", markersize=3.5, color=PRODUCTION, linewidth=1.2,
                    label="value")
        if threshold is not None:
            ax.axhline(threshold, color=THRESHOLD, linestyle="--", linewidth=1,
                       label=f"threshold {fmt_number(threshold)}")
        ax.set_title(title, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        fig.autofmt_xdate(rotation=30)
        fig.legend(loc="outside upper right", ncols=2, fontsize=7)
        return render(fig, f"trend of {title}", fmt)


def value_bars(title: str, rows: Sequence[tuple[str, float | None, float | None, bool | None]], *,
               xlabel: str = "value", fmt: str = "svg") -> str | bytes | None:
    """One bar per (label, value, threshold, breached), the threshold as a red tick: data quality rates,
    model performance metrics."""
    rows = [r for r in rows if r[1] is not None]
    if not rows:
        return None
    with rc_context(_STYLE):
        fig = _figure(5.4, 0.55 + 0.22 * max(len(rows), 2))
        ax = fig.add_subplot()
        ax.barh(range(len(rows)), [r[1] or 0.0 for r in rows], 0.6,
                color=[BREACH if r[3] else PRODUCTION for r in rows])
        for i, (_, _, threshold, _) in enumerate(rows):
            if threshold is not None:
                ax.plot([threshold, threshold], [i - 0.4, i + 0.4], color="#1b1f24", linewidth=1.5)
        ax.set_yticks(range(len(rows)), [r[0] for r in rows])
        ax.invert_yaxis()
        ax.set_title(title, loc="left")
        ax.set_xlabel(f"{xlabel} (black tick: threshold; red bar: breached)")
        return render(fig, title, fmt)


def importance_bars(rows: Sequence[dict[str, Any]], *, fmt: str = "svg") -> str | bytes | None:
    """Feature importance on both sides, most important (in the reference) first."""
    if not rows:
        return None
    rows = list(rows)[:15]
    with rc_context(_STYLE):
        fig = _figure(5.4, 0.5 + 0.24 * max(len(rows), 2))
        ax = fig.add_subplot()
        _paired_bars(ax, [r.get("reference") or 0.0 for r in rows], [r.get("production") or 0.0 for r in rows],
                     horizontal=True)
        ax.set_yticks(range(len(rows)), [r["feature"] for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel("feature importance")
        fig.legend(loc="outside upper right", ncols=2)
        return render(fig, "feature importance, reference and production", fmt)


def confusion_matrix(classes: Sequence[Any], matrix: Sequence[Sequence[int]], *, fmt: str = "svg") -> str | bytes:
    """Counts of actual (rows) by predicted (columns) labels."""
    with rc_context(_STYLE):
        k = len(classes)
        fig = _figure(1.2 + 0.55 * k, 0.9 + 0.45 * k)
        ax = fig.add_subplot()
        ax.imshow(matrix, cmap="Blues")
        top = max((max(r) for r in matrix), default=0) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                ax.text(j, i, str(count), ha="center", va="center", color="white" if count > top / 2 else "#1b1f24")
        ax.set_xticks(range(k), [str(c) for c in classes])
        ax.set_yticks(range(k), [str(c) for c in classes])
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.spines[:].set_visible(False)
        return render(fig, "confusion matrix", fmt)


__all__ = ["categorical_distribution", "confusion_matrix", "importance_bars", "numerical_distribution", "render",
           "trend", "value_bars"]
