"""The report's charts, drawn by matplotlib offline into static SVG (text stays text) or PNG (for email).

Figures are built with the object API (``matplotlib.figure.Figure``), never ``pyplot``, so rendering
holds no global state and is safe from the threads of a local run.

Drawing is the report's main cost, so each chart is built for one pass of matplotlib's renderer: bars of
one colour are one compound path (a ``Rectangle`` per bar costs ~1 ms to add and draw), and the text
around the plot area, its margins and the ticks are ``chart_layout``'s, measured from the font before
drawing. Text is never parsed as mathtext (``$`` in a category name is a dollar sign); labels are one
line and at most ``chart_layout.LABEL_WIDTH`` points wide (the report's tables carry the full names).
"""

from __future__ import annotations

import importlib
import io
import itertools
import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from monitoring.results import chart_layout as layout
from monitoring.text import fmt_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REFERENCE, PRODUCTION, THRESHOLD, BREACH = "#8c959f", "#0969da", "#cf222e", "#cf222e"
_HEADER = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_GEOMETRY = re.compile(r'(\s(?:d|transform|x|y|width|height)=")([^"]*)"')
_NUMBER = re.compile(r"-?\d+\.\d+")
_GROUP_ID = re.compile(r' id="(?:patch|line2d|text|xtick|ytick|axes|figure|legend|matplotlib\.axis)_\d+"')


def render(figure: Figure, label: str, fmt: str = "svg") -> str | bytes:
    """The figure as inline SVG markup (``role="img"`` with ``label``), or PNG bytes for ``fmt="png"``."""
    buffer = io.BytesIO()
    with layout.style():
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



def _bars(ax: Any, starts: ArrayLike, thickness: ArrayLike, lengths: ArrayLike, *,
          color: str | None, horizontal: bool = False, label: str | None = None) -> None:
    """Bars as one compound path: bar i covers ``[starts[i], starts[i] + thickness[i]]`` across and
    ``[0, lengths[i]]`` along the value axis (y, or x when ``horizontal``)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    across = np.asarray(starts, dtype=float)
    if across.size == 0:
        return
    ends = across + np.broadcast_to(np.asarray(thickness, dtype=float), across.shape)
    values = np.asarray(lengths, dtype=float)
    zero = np.zeros_like(values)
    corners = [(across, zero), (ends, zero), (ends, values), (across, values), (across, zero)]
    xy = np.stack([np.stack((b, a) if horizontal else (a, b), axis=-1) for a, b in corners], axis=1)
    codes = (Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY)
    ax.add_patch(PathPatch(Path(xy.reshape(-1, 2), np.tile(codes, across.size)), facecolor=color,
                           edgecolor="none", linewidth=0, label=label))


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts) or 1
    return [100.0 * c / total for c in counts]


def _paired_bars(ax: Any, ref: Sequence[float], prod: Sequence[float], *, horizontal: bool = False) -> list[str]:
    """Reference and production side by side per position 0..n-1; the value axis's tick labels."""
    positions = np.arange(len(ref), dtype=float)
    width = 0.42
    _bars(ax, positions - width, width, ref, color=REFERENCE, horizontal=horizontal, label="reference")
    _bars(ax, positions, width, prod, color=PRODUCTION, horizontal=horizontal, label="production")
    top = max([*ref, *prod, 0.0]) * 1.05
    if horizontal:
        ax.set_ylim(len(ref) - 0.5, -0.5)  # the first category on top
        return layout.scale(ax, "x", 0.0, top)
    ax.set_xlim(-0.5, len(ref) - 0.5)
    return layout.scale(ax, "y", 0.0, top)


def _legend(fig: Figure, **kwargs: Any) -> None:
    fig.legend(loc="upper right", ncols=2, borderaxespad=0.3, **kwargs)


def numerical_distribution(feature: str, profile: dict[str, Any] | None, histogram: dict[str, Any] | None,
                           *, fmt: str = "svg") -> str | bytes | None:
    """Reference vs production shares per bin: the reference's quantile bins when the feature is skewed
    (so the bulk of the values is not in one bar), else the signal's equal-width bins."""
    quantiles = (profile or {}).get("quantile_bins")
    skewed = profile is not None and abs(profile.get("skewness") or 0.0) > 1.0 and quantiles
    with layout.style():
        fig, ax = layout.figure(5.4, 2.1)
        if skewed or (quantiles and not histogram):
            assert quantiles is not None
            edges = quantiles["inner_edges"]
            ref, prod = _shares(quantiles["reference"]), _shares(quantiles["production"])
            labels = [f"< {fmt_number(edges[0])}"] + [f"{fmt_number(e)}" for e in edges[:-1]] + \
                     [f"≥ {fmt_number(edges[-1])}"] if edges else ["all"]
            values = _paired_bars(ax, ref, prod)
            step = max(1, len(labels) // 7)
            shown = [labels[i] for i in range(0, len(labels), step)]
            layout.draw_ticks(ax, "x", range(0, len(labels), step), shown)
            xlabel = f"{feature}: reference quantile bins ({100 / max(len(ref), 1):.0f}% of reference each; " \
                     "tick = bin start)"
        elif histogram and len(histogram.get("edges") or []) >= 2:
            edges = histogram["edges"]
            ref, prod = _shares(histogram["reference"]), _shares(histogram["production"])
            widths = [(b - a) * 0.45 for a, b in itertools.pairwise(edges)]
            _bars(ax, edges[:-1], widths, ref, color=REFERENCE, label="reference")
            _bars(ax, [e + w for e, w in zip(edges[:-1], widths, strict=True)], widths, prod, color=PRODUCTION,
                  label="production")
            shown = layout.scale(ax, "x", edges[0], edges[-1])
            values = layout.scale(ax, "y", 0.0, max([*ref, *prod, 0.0]) * 1.05)
            xlabel = f"{feature} (equal-width bins)"
        else:
            return None
        _legend(fig)
        layout.fit(fig, ax, left=values, ylabel="% of rows", bottom=shown, xlabel=xlabel, legend=True)
        return render(fig, f"distribution of {feature}", fmt)


def categorical_distribution(feature: str, profile: dict[str, Any] | None, histogram: dict[str, Any] | None,
                             *, fmt: str = "svg") -> str | bytes | None:
    """Horizontal bars of the top categories as shares of each side; new ones marked."""
    if profile is not None:
        top = profile["top"]
        totals = profile["count"]
        names = [t["category"] for t in top]
        ref = [100.0 * t["reference"] / (totals["reference"] or 1) for t in top]
        prod = [100.0 * t["production"] / (totals["production"] or 1) for t in top]
        new = {n["category"] for n in profile["new"]}
    elif histogram and histogram.get("categories"):
        names, ref, prod = histogram["categories"][:10], _shares(histogram["reference"])[:10], \
            _shares(histogram["production"])[:10]
        new = set()
    else:
        return None
    if not names:
        return None
    room = layout.LABEL_WIDTH - layout.extent(" (new)")[0]
    labels = [layout.cut_label(n, room) + " (new)" if n in new else layout.cut_label(n) for n in names]
    xlabel = f"% of rows ({feature})"
    with layout.style():
        fig, ax = layout.figure(5.4, 0.5 + 0.24 * max(len(labels), 2))
        values = _paired_bars(ax, ref, prod, horizontal=True)
        plain = layout.STYLE["ytick.color"]
        layout.draw_ticks(ax, "y", range(len(labels)), labels, colors=[BREACH if n in new else plain for n in names])
        _legend(fig)
        layout.fit(fig, ax, left=labels, bottom=values, xlabel=xlabel, legend=True)
        return render(fig, f"top categories of {feature}", fmt)


def _time_ticks(times: Sequence[datetime]) -> tuple[list[float], list[str]]:
    """Up to 4 of the runs' times as ticks (3 when they differ in time of day, whose labels are longer)."""
    from matplotlib.dates import date2num

    same_time = len({t.time() for t in times}) == 1
    chosen = sorted({round(i) for i in np.linspace(0, len(times) - 1, min(len(times), 4 if same_time else 3))})
    return ([float(date2num(times[i])) for i in chosen],
            [f"{times[i]:%b %d}" if same_time else f"{times[i]:%b %d %H:%M}" for i in chosen])


def trend(title: str, times: Sequence[datetime], values: Sequence[float | None], threshold: float | None,
          *, fmt: str = "svg") -> str | bytes:
    """A metric over runs with its threshold as a dashed line."""
    from matplotlib.dates import date2num

    points = [(t, v) for t, v in zip(times, values, strict=True) if v is not None and math.isfinite(v)]
    with layout.style():
        fig, ax = layout.figure(3.6, 1.7)
        ticks, labels = _time_ticks([t for t, _ in points] or list(times[:1]))
        if points:
            ax.plot([float(date2num(t)) for t, _ in points], [v for _, v in points], marker="o", markersize=3.5,
                    color=PRODUCTION, linewidth=1.2, label="value")
        if threshold is not None:
            ax.axhline(threshold, color=THRESHOLD, linestyle="--", linewidth=1,
                       label=f"threshold {fmt_number(threshold)}")
        levels = [v for _, v in points] + ([threshold] if threshold is not None else [])
        low, high = min(levels, default=0.0), max(levels, default=1.0)
        margin = (high - low) * 0.08
        values_shown = layout.scale(ax, "y", low - margin, high + margin)
        if ticks:
            span = (ticks[-1] - ticks[0]) * 0.06 or 0.5  # days
            ax.set_xlim(ticks[0] - span, ticks[-1] + span)
        layout.draw_ticks(ax, "x", ticks, labels, size=7)
        _legend(fig, fontsize=7)
        layout.fit(fig, ax, left=values_shown, bottom=labels, title=title, legend=True)
        return render(fig, f"trend of {title}", fmt)


def value_bars(title: str, rows: Sequence[tuple[str, float | None, float | None, bool | None]], *,
               xlabel: str = "value", fmt: str = "svg") -> str | bytes | None:
    """One bar per (label, value, threshold, breached), the threshold as a black tick: data quality rates,
    model performance metrics."""
    shown = [(layout.cut_label(r[0]), float(r[1]), r[2] if r[2] is not None and math.isfinite(r[2]) else None,
              bool(r[3])) for r in rows if r[1] is not None and math.isfinite(r[1])]
    if not shown:
        return None
    label = f"{xlabel} (black tick: threshold; red bar: breached)"
    with layout.style():
        fig, ax = layout.figure(5.4, 0.55 + 0.22 * max(len(shown), 2))
        for breached, color in ((True, BREACH), (False, PRODUCTION)):
            chosen = [(i, r[1]) for i, r in enumerate(shown) if r[3] is breached]
            _bars(ax, [i - 0.3 for i, _ in chosen], 0.6, [v for _, v in chosen], color=color, horizontal=True)
        marks = [(r[2], i) for i, r in enumerate(shown) if r[2] is not None]
        if marks:
            ax.plot([x for t, _ in marks for x in (t, t, math.nan)],
                    [y for _, i in marks for y in (i - 0.4, i + 0.4, math.nan)], color="#1b1f24", linewidth=1.5)
        levels = [r[1] for r in shown] + [t for t, _ in marks]
        values = layout.scale(ax, "x", min(0.0, *levels) * 1.05, max(0.0, *levels) * 1.05)
        layout.draw_ticks(ax, "y", range(len(shown)), [r[0] for r in shown])
        ax.set_ylim(len(shown) - 0.5, -0.5)
        layout.fit(fig, ax, left=[r[0] for r in shown], bottom=values, xlabel=label, title=title)
        return render(fig, title, fmt)


def importance_bars(rows: Sequence[dict[str, Any]], *, fmt: str = "svg") -> str | bytes | None:
    """Feature importance on both sides, most important (in the reference) first."""
    if not rows:
        return None
    rows = list(rows)[:15]
    labels = [layout.cut_label(r["feature"]) for r in rows]
    with layout.style():
        fig, ax = layout.figure(5.4, 0.5 + 0.24 * max(len(rows), 2))
        values = _paired_bars(ax, [r.get("reference") or 0.0 for r in rows],
                              [r.get("production") or 0.0 for r in rows], horizontal=True)
        layout.draw_ticks(ax, "y", range(len(rows)), labels)
        _legend(fig)
        layout.fit(fig, ax, left=labels, bottom=values, xlabel="feature importance", legend=True)
        return render(fig, "feature importance, reference and production", fmt)


def confusion_matrix(classes: Sequence[Any], matrix: Sequence[Sequence[int]], *, fmt: str = "svg") -> str | bytes:
    """Counts of actual (rows) by predicted (columns) labels."""
    k = len(classes)
    width = 1.6 + 0.55 * k
    across = [layout.cut_label(c, 0.95 * 72 * 0.55) for c in classes]  # a column is 0.55 inch wide
    down = [layout.cut_label(c, 0.3 * 72 * width) for c in classes]
    with layout.style():
        fig, ax = layout.figure(width, 0.9 + 0.45 * k)
        ax.imshow(matrix, cmap="Blues")
        top = max((max(r) for r in matrix), default=0) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                ax.text(j, i, str(count), ha="center", va="center", color="white" if count > top / 2 else "#1b1f24")
        layout.draw_ticks(ax, "x", range(k), across)
        layout.draw_ticks(ax, "y", range(k), down)
        ax.spines[:].set_visible(False)
        layout.fit(fig, ax, left=down, ylabel="actual", bottom=across, xlabel="predicted")
        return render(fig, "confusion matrix", fmt)


def preload() -> None:
    """Import matplotlib and its SVG and PNG renderers and load the font, e.g. from a thread while a run
    computes (the first chart would otherwise pay ~0.8 s for them)."""
    importlib.import_module("matplotlib.figure")
    importlib.import_module("matplotlib.backends.backend_svg")
    importlib.import_module("matplotlib.backends.backend_agg")
    layout.extent("lp")


__all__ = ["BREACH", "categorical_distribution", "confusion_matrix", "importance_bars", "numerical_distribution",
           "preload", "render", "trend", "value_bars"]
