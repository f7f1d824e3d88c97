"""The report's charts, drawn by matplotlib offline into static SVG (text stays text) or PNG (for email).

Figures are built with the object API (``matplotlib.figure.Figure``), never ``pyplot``, so rendering
holds no global state and is safe from the threads of a local run.

Drawing is the report's main cost, so each chart is built for one pass of matplotlib's renderer:

- bars of one colour are one compound path (a ``Rectangle`` per bar costs ~1 ms to add and draw);
- every tick is placed and labelled here (``_scale``, ``_ticks``), so the text around the plot area is
  known before drawing and its margins follow from the font's metrics (``_fit``). Constrained layout
  measured the same text by drawing each figure an extra time: 0.16 s a chart against about 0.05 s then;
- the ticks are one line of tick markers and a text per label, not matplotlib's ``Tick`` objects (two
  lines and two texts each, about a third of a chart's time);
- text is never parsed as mathtext (``$`` in a category name is a dollar sign), labels are one line and
  at most ``LABEL_WIDTH`` points wide (the report's tables carry the full names).
"""

from __future__ import annotations

import importlib
import io
import itertools
import math
import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from monitoring.text import fmt_number

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from matplotlib.figure import Figure

REFERENCE, PRODUCTION, THRESHOLD, BREACH = "#8c959f", "#0969da", "#cf222e", "#cf222e"
FONT, SIZE, TITLE_SIZE, LEGEND_SIZE = "DejaVu Sans", 8.5, 9.0, 8.0
#: Points: the widest category or feature label drawn (longer ones are cut and end in "…"), 40% of a
#: 5.4-inch chart.
LABEL_WIDTH = 155.0
_STYLE: Any = {  # matplotlib rcParams (typed as Any: its stubs list every key as a Literal)
    "svg.fonttype": "none", "svg.hashsalt": "funcmon", "font.size": SIZE, "font.family": FONT,
    "text.parse_math": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#57606a",
    "axes.labelcolor": "#1b1f24", "xtick.color": "#57606a", "ytick.color": "#57606a", "axes.titlesize": TITLE_SIZE,
    "legend.frameon": False, "legend.fontsize": LEGEND_SIZE,
}
#: Points: figure edge to the outermost text; tick length + tick label pad (matplotlib's 3.5 + 3.5); axis
#: label pad; title pad; the band a one-row legend takes at the top.
_PAD, _TICK, _LABELPAD, _TITLEPAD, _LEGEND = 4.0, 7.0, 4.0, 6.0, 2.6 * LEGEND_SIZE
#: Widths are the font's outlines (as a browser lays out SVG text); the PNG's hinted glyphs (Agg, 144 dpi)
#: run up to ~5% wider.
_HINTED = 1.05
_HEADER = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_GEOMETRY = re.compile(r'(\s(?:d|transform|x|y|width|height)=")([^"]*)"')
_NUMBER = re.compile(r"-?\d+\.\d+")
_GROUP_ID = re.compile(r' id="(?:patch|line2d|text|xtick|ytick|axes|figure|legend|matplotlib\.axis)_\d+"')


def _style() -> AbstractContextManager[Any]:
    """The charts' rcParams. matplotlib is imported where it is used, so that loading this module (and the
    command line) does not pay its ~0.6 s import: a local run loads it in the background while it reads."""
    from matplotlib import rc_context

    return rc_context(_STYLE)


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    """A figure of one plot area whose margins ``_fit`` sets, with no ticks of matplotlib's (``_ticks``)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    fig = Figure(figsize=(width, height), dpi=72)
    ax = fig.add_subplot()
    ax.xaxis.set_major_locator(NullLocator())
    ax.yaxis.set_major_locator(NullLocator())
    return fig, ax


def render(figure: Figure, label: str, fmt: str = "svg") -> str | bytes:
    """The figure as inline SVG markup (``role="img"`` with ``label``), or PNG bytes for ``fmt="png"``."""
    buffer = io.BytesIO()
    with _style():
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


def _label(text: Any, width: float = LABEL_WIDTH, size: float = SIZE) -> str:
    """``text`` on one line, cut to ``width`` points (ending in "…") when it is wider."""
    line = " ".join(str(text).split())
    if _extent(line, size)[0] <= width:
        return line
    low, high = 0, len(line)  # the longest prefix that fits with its ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _extent(line[:middle] + "…", size)[0] <= width else (low, middle - 1)
    return line[:low] + "…"


@lru_cache(maxsize=4096)
def _extent(text: str, size: float = SIZE) -> tuple[float, float]:
    """Width and height in points of one line of text (its height at least that of "lp", as matplotlib's
    ``Text`` pads every line)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    if not text:
        return 0.0, 0.0
    font = FontProperties(family=FONT, size=size)
    width, height, _ = text_to_path.get_text_width_height_descent(text, font, ismath=False)
    return width * _HINTED, max(height, text_to_path.get_text_width_height_descent("lp", font, ismath=False)[1])


def _fit(fig: Figure, ax: Any, *, left: Sequence[str] = (), ylabel: str = "", bottom: Sequence[str] = (),
         xlabel: str = "", title: str = "", legend: bool = False) -> None:
    """Margins that hold the text around the plot area: the ``left`` and ``bottom`` tick labels, the axis
    labels, the title and a legend above, each measured from the font; sets the axis labels and the title,
    cut to the width they have."""
    width, height = (float(v) * 72 for v in fig.get_size_inches())
    tick_width = max((_extent(t)[0] for t in left), default=0.0)
    tick_height = max((_extent(t)[1] for t in bottom), default=0.0)
    margin_left = _PAD + (_extent(ylabel)[1] + _LABELPAD if ylabel else 0.0) + (tick_width + _TICK if left else 0)
    margin_bottom = _PAD + (_extent(xlabel)[1] + _LABELPAD if xlabel else 0.0) + (tick_height + _TICK if bottom else 0)
    overhang = _extent(bottom[-1])[0] / 2 if bottom else 0.0  # the last tick label is centred on the right edge
    margin_right = _PAD + overhang
    margin_top = (_PAD + (_extent(title, TITLE_SIZE)[1] + _TITLEPAD if title else 0.0) +
                  (_LEGEND if legend else 0.0) + (0.0 if title or legend else _extent("0")[1] / 2))
    left_share = min(margin_left / width, 0.6)  # labels are cut to LABEL_WIDTH, so this holds
    right_share = max(1 - margin_right / width, left_share + 0.1)
    fig.subplots_adjust(left=left_share, right=right_share, bottom=margin_bottom / height,
                        top=max(1 - margin_top / height, margin_bottom / height + 0.1))
    centre = (left_share + right_share) / 2 * width  # an axis label is centred on the plot area
    ax.set_xlabel(_label(xlabel, 2 * min(centre, width - centre) - 2 * _PAD))
    ax.set_ylabel(_label(ylabel, (1 - margin_bottom / height) * height - _PAD))
    _place_axis_labels(fig, ax, below=_LABELPAD + (tick_height + _TICK if bottom else 0.0),
                       beside=_LABELPAD + (tick_width + _TICK if left else 0.0))
    ax.set_title(_label(title, width - left_share * width - _PAD, TITLE_SIZE), loc="left")


def _place_axis_labels(fig: Figure, ax: Any, *, below: float, beside: float) -> None:
    """The x label ``below`` points under the plot area and the y label ``beside`` points left of it (the
    tick labels are ``_ticks``' texts, which matplotlib's own placement does not see)."""
    from matplotlib.transforms import ScaledTranslation

    ax.xaxis.set_label_coords(0.5, 0.0, transform=ax.transAxes + ScaledTranslation(0.0, -below / 72,
                                                                                     fig.dpi_scale_trans))
    ax.yaxis.set_label_coords(0.0, 0.5, transform=ax.transAxes + ScaledTranslation(-beside / 72, 0.0,
                                                                                    fig.dpi_scale_trans))


def _scale(ax: Any, axis: str, low: float, high: float) -> list[str]:
    """The limits and up to 6 round ticks of a value axis; its tick labels."""
    from matplotlib.ticker import MaxNLocator

    if not high > low:
        low, high = (low - 0.5, high + 0.5) if low == 0 else (low - abs(low) * 0.05, high + abs(high) * 0.05)
    span = (high - low) * 1e-9
    ticks = [float(t) for t in MaxNLocator(nbins=5).tick_values(low, high) if low - span <= t <= high + span]
    labels = [fmt_number(t) for t in ticks]
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low, high)
    _ticks(ax, axis, ticks, labels)
    return labels


def _ticks(ax: Any, axis: str, positions: Sequence[float], labels: Sequence[str], *, size: float = SIZE,
           colors: Sequence[str] | None = None) -> None:
    """Tick marks and labels of one axis, below it (``axis="x"``) or left of it: the marks as one line of
    tick markers and a text per label, placed as matplotlib places its own (``_TICK`` points out, centred
    on the tick). matplotlib's ``Tick`` objects, two lines and two texts each, took a third of a chart's
    time (a chart with 14 of them: 48 ms, with these 25). The labels have the gid ``xtick`` or ``ytick``."""
    from matplotlib.lines import Line2D
    from matplotlib.markers import TICKDOWN, TICKLEFT, MarkerStyle
    from matplotlib.transforms import ScaledTranslation

    if not len(positions):
        return
    along = ax.get_xaxis_transform() if axis == "x" else ax.get_yaxis_transform()  # data along, axes across
    color = _STYLE["xtick.color"]
    at = ([float(p) for p in positions], [0.0] * len(positions))
    mark = MarkerStyle(TICKDOWN if axis == "x" else TICKLEFT)
    ax.add_artist(Line2D(*(at if axis == "x" else at[::-1]), transform=along, linestyle="none", clip_on=False,
                         marker=mark, markersize=_TICK / 2, markeredgewidth=0.8, markeredgecolor=color))
    shift = ScaledTranslation(*((0.0, -_TICK / 72) if axis == "x" else (-_TICK / 72, 0.0)),
                              ax.get_figure(root=True).dpi_scale_trans)
    for i, (position, label) in enumerate(zip(positions, labels, strict=True)):
        xy = (float(position), 0.0) if axis == "x" else (0.0, float(position))
        ax.text(*xy, label, transform=along + shift, fontsize=size, clip_on=False, gid=f"{axis}tick",
                color=colors[i] if colors else color, ha="center" if axis == "x" else "right",
                va="top" if axis == "x" else "center_baseline")


def tick_labels(ax: Any, axis: str) -> list[Any]:
    """The tick labels ``_ticks`` drew on ``axis`` ("x" or "y"), in order."""
    return [t for t in ax.texts if t.get_gid() == f"{axis}tick"]


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
        return _scale(ax, "x", 0.0, top)
    ax.set_xlim(-0.5, len(ref) - 0.5)
    return _scale(ax, "y", 0.0, top)


def _legend(fig: Figure, **kwargs: Any) -> None:
    fig.legend(loc="upper right", ncols=2, borderaxespad=0.3, **kwargs)


def numerical_distribution(feature: str, profile: dict[str, Any] | None, histogram: dict[str, Any] | None,
                           *, fmt: str = "svg") -> str | bytes | None:
    """Reference vs production shares per bin: the reference's quantile bins when the feature is skewed
    (so the bulk of the values is not in one bar), else the signal's equal-width bins."""
    quantiles = (profile or {}).get("quantile_bins")
    skewed = profile is not None and abs(profile.get("skewness") or 0.0) > 1.0 and quantiles
    with _style():
        fig, ax = _figure(5.4, 2.1)
        if skewed or (quantiles and not histogram):
            assert quantiles is not None
            edges = quantiles["inner_edges"]
            ref, prod = _shares(quantiles["reference"]), _shares(quantiles["production"])
            labels = [f"< {fmt_number(edges[0])}"] + [f"{fmt_number(e)}" for e in edges[:-1]] + \
                     [f"≥ {fmt_number(edges[-1])}"] if edges else ["all"]
            values = _paired_bars(ax, ref, prod)
            step = max(1, len(labels) // 7)
            shown = [labels[i] for i in range(0, len(labels), step)]
            _ticks(ax, "x", range(0, len(labels), step), shown)
            xlabel = f"{feature}: reference quantile bins ({100 / max(len(ref), 1):.0f}% of reference each; " \
                     "tick = bin start)"
        elif histogram and len(histogram.get("edges") or []) >= 2:
            edges = histogram["edges"]
            ref, prod = _shares(histogram["reference"]), _shares(histogram["production"])
            widths = [(b - a) * 0.45 for a, b in itertools.pairwise(edges)]
            _bars(ax, edges[:-1], widths, ref, color=REFERENCE, label="reference")
            _bars(ax, [e + w for e, w in zip(edges[:-1], widths, strict=True)], widths, prod, color=PRODUCTION,
                  label="production")
            shown = _scale(ax, "x", edges[0], edges[-1])
            values = _scale(ax, "y", 0.0, max([*ref, *prod, 0.0]) * 1.05)
            xlabel = f"{feature} (equal-width bins)"
        else:
            return None
        _legend(fig)
        _fit(fig, ax, left=values, ylabel="% of rows", bottom=shown, xlabel=xlabel, legend=True)
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
    labels = [_label(n, LABEL_WIDTH - _extent(" (new)")[0]) + " (new)" if n in new else _label(n) for n in names]
    xlabel = f"% of rows ({feature})"
    with _style():
        fig, ax = _figure(5.4, 0.5 + 0.24 * max(len(labels), 2))
        values = _paired_bars(ax, ref, prod, horizontal=True)
        _ticks(ax, "y", range(len(labels)), labels, colors=[BREACH if n in new else _STYLE["ytick.color"]
                                                            for n in names])
        _legend(fig)
        _fit(fig, ax, left=labels, bottom=values, xlabel=xlabel, legend=True)
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
    with _style():
        fig, ax = _figure(3.6, 1.7)
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
        values_shown = _scale(ax, "y", low - margin, high + margin)
        if ticks:
            span = (ticks[-1] - ticks[0]) * 0.06 or 0.5  # days
            ax.set_xlim(ticks[0] - span, ticks[-1] + span)
        _ticks(ax, "x", ticks, labels, size=7)
        _legend(fig, fontsize=7)
        _fit(fig, ax, left=values_shown, bottom=labels, title=title, legend=True)
        return render(fig, f"trend of {title}", fmt)


def value_bars(title: str, rows: Sequence[tuple[str, float | None, float | None, bool | None]], *,
               xlabel: str = "value", fmt: str = "svg") -> str | bytes | None:
    """One bar per (label, value, threshold, breached), the threshold as a black tick: data quality rates,
    model performance metrics."""
    shown = [(_label(r[0]), float(r[1]), r[2] if r[2] is not None and math.isfinite(r[2]) else None, bool(r[3]))
             for r in rows if r[1] is not None and math.isfinite(r[1])]
    if not shown:
        return None
    label = f"{xlabel} (black tick: threshold; red bar: breached)"
    with _style():
        fig, ax = _figure(5.4, 0.55 + 0.22 * max(len(shown), 2))
        for breached, color in ((True, BREACH), (False, PRODUCTION)):
            chosen = [(i, r[1]) for i, r in enumerate(shown) if r[3] is breached]
            _bars(ax, [i - 0.3 for i, _ in chosen], 0.6, [v for _, v in chosen], color=color, horizontal=True)
        marks = [(r[2], i) for i, r in enumerate(shown) if r[2] is not None]
        if marks:
            ax.plot([x for t, _ in marks for x in (t, t, math.nan)],
                    [y for _, i in marks for y in (i - 0.4, i + 0.4, math.nan)], color="#1b1f24", linewidth=1.5)
        levels = [r[1] for r in shown] + [t for t, _ in marks]
        values = _scale(ax, "x", min(0.0, *levels) * 1.05, max(0.0, *levels) * 1.05)
        _ticks(ax, "y", range(len(shown)), [r[0] for r in shown])
        ax.set_ylim(len(shown) - 0.5, -0.5)
        _fit(fig, ax, left=[r[0] for r in shown], bottom=values, xlabel=label, title=title)
        return render(fig, title, fmt)


def importance_bars(rows: Sequence[dict[str, Any]], *, fmt: str = "svg") -> str | bytes | None:
    """Feature importance on both sides, most important (in the reference) first."""
    if not rows:
        return None
    rows = list(rows)[:15]
    labels = [_label(r["feature"]) for r in rows]
    with _style():
        fig, ax = _figure(5.4, 0.5 + 0.24 * max(len(rows), 2))
        values = _paired_bars(ax, [r.get("reference") or 0.0 for r in rows],
                              [r.get("production") or 0.0 for r in rows], horizontal=True)
        _ticks(ax, "y", range(len(rows)), labels)
        _legend(fig)
        _fit(fig, ax, left=labels, bottom=values, xlabel="feature importance", legend=True)
        return render(fig, "feature importance, reference and production", fmt)


def confusion_matrix(classes: Sequence[Any], matrix: Sequence[Sequence[int]], *, fmt: str = "svg") -> str | bytes:
    """Counts of actual (rows) by predicted (columns) labels."""
    k = len(classes)
    width = 1.6 + 0.55 * k
    across = [_label(c, 0.95 * 72 * 0.55) for c in classes]  # a column is 0.55 inch wide
    down = [_label(c, 0.3 * 72 * width) for c in classes]
    with _style():
        fig, ax = _figure(width, 0.9 + 0.45 * k)
        ax.imshow(matrix, cmap="Blues")
        top = max((max(r) for r in matrix), default=0) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                ax.text(j, i, str(count), ha="center", va="center", color="white" if count > top / 2 else "#1b1f24")
        _ticks(ax, "x", range(k), across)
        _ticks(ax, "y", range(k), down)
        ax.spines[:].set_visible(False)
        _fit(fig, ax, left=down, ylabel="actual", bottom=across, xlabel="predicted")
        return render(fig, "confusion matrix", fmt)


def preload() -> None:
    """Import matplotlib and its SVG and PNG renderers and load the font, e.g. from a thread while a run
    computes (the first chart would otherwise pay ~0.8 s for them)."""
    importlib.import_module("matplotlib.figure")
    importlib.import_module("matplotlib.backends.backend_svg")
    importlib.import_module("matplotlib.backends.backend_agg")
    _extent("lp")


__all__ = ["LABEL_WIDTH", "categorical_distribution", "confusion_matrix", "importance_bars", "numerical_distribution",
           "preload", "render", "trend", "value_bars"]
