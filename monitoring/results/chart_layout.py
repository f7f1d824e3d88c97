"""The layout of the report's charts: their style, the text around a plot area measured from the font,
the margins that hold it, and the ticks, placed and labelled here rather than by matplotlib's axes.

Every tick is placed and labelled here (``scale``, ``draw_ticks``), so the text around the plot area is
known before drawing and its margins follow from the font's metrics (``fit``): constrained layout measured the
same text by drawing each figure an extra time (0.16 s a chart against about 0.05 s). The ticks are one
line of tick markers and a text per label, not matplotlib's ``Tick`` objects (two lines and two texts each,
about a third of a chart's time). Labels are one line and at most ``LABEL_WIDTH`` points wide.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from monitoring.text import fmt_number

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from matplotlib.figure import Figure

FONT, SIZE, TITLE_SIZE, LEGEND_SIZE = "DejaVu Sans", 8.5, 9.0, 8.0
#: Points: the widest category or feature label drawn (longer ones are cut and end in "…"), 40% of a
#: 5.4-inch chart.
LABEL_WIDTH = 155.0
STYLE: Any = {  # matplotlib rcParams (typed as Any: its stubs list every key as a Literal)
    "svg.fonttype": "none", "svg.hashsalt": "funcmon", "font.size": SIZE, "font.family": FONT,
    "text.parse_math": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#57606a",
    "axes.labelcolor": "#1b1f24", "xtick.color": "#57606a", "ytick.color": "#57606a", "axes.titlesize": TITLE_SIZE,
    "legend.frameon": False, "legend.fontsize": LEGEND_SIZE,
}
#: Points: figure edge to the outermost text; tick length + tick label pad (matplotlib's 3.5 + 3.5); axis
#: label pad; title pad; the band a one-row legend takes at the top.
PAD, TICK, LABELPAD, TITLEPAD, LEGEND = 4.0, 7.0, 4.0, 6.0, 2.6 * LEGEND_SIZE
#: Widths are the font's outlines (as a browser lays out SVG text); the PNG's hinted glyphs (Agg, 144 dpi)
#: run up to ~5% wider.
HINTED = 1.05


def style() -> AbstractContextManager[Any]:
    """The charts' rcParams. matplotlib is imported where it is used, so that loading this module (and the
    command line) does not pay its ~0.6 s import: a local run loads it in the background while it reads."""
    from matplotlib import rc_context

    return rc_context(STYLE)


def figure(width: float, height: float) -> tuple[Figure, Any]:
    """A figure of one plot area whose margins ``fit`` sets, with no ticks of matplotlib's (``draw_ticks``)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    fig = Figure(figsize=(width, height), dpi=72)
    ax = fig.add_subplot()
    ax.xaxis.set_major_locator(NullLocator())
    ax.yaxis.set_major_locator(NullLocator())
    return fig, ax



def cut_label(text: Any, width: float = LABEL_WIDTH, size: float = SIZE) -> str:
    """``text`` on one line, cut to ``width`` points (ending in "…") when it is wider."""
    line = " ".join(str(text).split())
    if extent(line, size)[0] <= width:
        return line
    low, high = 0, len(line)  # the longest prefix that fits with its ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if extent(line[:middle] + "…", size)[0] <= width else (low, middle - 1)
    return line[:low] + "…"


@lru_cache(maxsize=4096)
def extent(text: str, size: float = SIZE) -> tuple[float, float]:
    """Width and height in points of one line of text (its height at least that of "lp", as matplotlib's
    ``Text`` pads every line)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    if not text:
        return 0.0, 0.0
    font = FontProperties(family=FONT, size=size)
    width, height, _ = text_to_path.get_text_width_height_descent(text, font, ismath=False)
    return width * HINTED, max(height, text_to_path.get_text_width_height_descent("lp", font, ismath=False)[1])


def fit(fig: Figure, ax: Any, *, left: Sequence[str] = (), ylabel: str = "", bottom: Sequence[str] = (),
         xlabel: str = "", title: str = "", legend: bool = False) -> None:
    """Margins that hold the text around the plot area: the ``left`` and ``bottom`` tick labels, the axis
    labels, the title and a legend above, each measured from the font; sets the axis labels and the title,
    cut to the width they have."""
    width, height = (float(v) * 72 for v in fig.get_size_inches())
    tick_width = max((extent(t)[0] for t in left), default=0.0)
    tick_height = max((extent(t)[1] for t in bottom), default=0.0)
    margin_left = PAD + (extent(ylabel)[1] + LABELPAD if ylabel else 0.0) + (tick_width + TICK if left else 0)
    margin_bottom = PAD + (extent(xlabel)[1] + LABELPAD if xlabel else 0.0) + (tick_height + TICK if bottom else 0)
    overhang = extent(bottom[-1])[0] / 2 if bottom else 0.0  # the last tick label is centred on the right edge
    margin_right = PAD + overhang
    margin_top = (PAD + (extent(title, TITLE_SIZE)[1] + TITLEPAD if title else 0.0) +
                  (LEGEND if legend else 0.0) + (0.0 if title or legend else extent("0")[1] / 2))
    left_share = min(margin_left / width, 0.6)  # labels are cut to LABEL_WIDTH, so this holds
    right_share = max(1 - margin_right / width, left_share + 0.1)
    fig.subplots_adjust(left=left_share, right=right_share, bottom=margin_bottom / height,
                        top=max(1 - margin_top / height, margin_bottom / height + 0.1))
    centre = (left_share + right_share) / 2 * width  # an axis label is centred on the plot area
    ax.set_xlabel(cut_label(xlabel, 2 * min(centre, width - centre) - 2 * PAD))
    ax.set_ylabel(cut_label(ylabel, (1 - margin_bottom / height) * height - PAD))
    _place_axis_labels(fig, ax, below=LABELPAD + (tick_height + TICK if bottom else 0.0),
                       beside=LABELPAD + (tick_width + TICK if left else 0.0))
    ax.set_title(cut_label(title, width - left_share * width - PAD, TITLE_SIZE), loc="left")


def _place_axis_labels(fig: Figure, ax: Any, *, below: float, beside: float) -> None:
    """The x label ``below`` points under the plot area and the y label ``beside`` points left of it (the
    tick labels are ``draw_ticks``' texts, which matplotlib's own placement does not see)."""
    from matplotlib.transforms import ScaledTranslation

    ax.xaxis.set_label_coords(0.5, 0.0, transform=ax.transAxes + ScaledTranslation(0.0, -below / 72,
                                                                                     fig.dpi_scale_trans))
    ax.yaxis.set_label_coords(0.0, 0.5, transform=ax.transAxes + ScaledTranslation(-beside / 72, 0.0,
                                                                                    fig.dpi_scale_trans))


def scale(ax: Any, axis: str, low: float, high: float) -> list[str]:
    """The limits and up to 6 round ticks of a value axis; its tick labels."""
    from matplotlib.ticker import MaxNLocator

    if not high > low:
        low, high = (low - 0.5, high + 0.5) if low == 0 else (low - abs(low) * 0.05, high + abs(high) * 0.05)
    span = (high - low) * 1e-9
    ticks = [float(t) for t in MaxNLocator(nbins=5).tick_values(low, high) if low - span <= t <= high + span]
    labels = [fmt_number(t) for t in ticks]
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low, high)
    draw_ticks(ax, axis, ticks, labels)
    return labels


def draw_ticks(ax: Any, axis: str, positions: Sequence[float], labels: Sequence[str], *, size: float = SIZE,
           colors: Sequence[str] | None = None) -> None:
    """Tick marks and labels of one axis, below it (``axis="x"``) or left of it: the marks as one line of
    tick markers and a text per label, placed as matplotlib places its own (``TICK`` points out, centred
    on the tick). matplotlib's ``Tick`` objects, two lines and two texts each, took a third of a chart's
    time (a chart with 14 of them: 48 ms, with these 25). The labels have the gid ``xtick`` or ``ytick``."""
    from matplotlib.lines import Line2D
    from matplotlib.markers import TICKDOWN, TICKLEFT, MarkerStyle
    from matplotlib.transforms import ScaledTranslation

    if not len(positions):
        return
    along = ax.get_xaxis_transform() if axis == "x" else ax.get_yaxis_transform()  # data along, axes across
    color = STYLE["xtick.color"]
    at = ([float(p) for p in positions], [0.0] * len(positions))
    mark = MarkerStyle(TICKDOWN if axis == "x" else TICKLEFT)
    ax.add_artist(Line2D(*(at if axis == "x" else at[::-1]), transform=along, linestyle="none", clip_on=False,
                         marker=mark, markersize=TICK / 2, markeredgewidth=0.8, markeredgecolor=color))
    shift = ScaledTranslation(*((0.0, -TICK / 72) if axis == "x" else (-TICK / 72, 0.0)),
                              ax.get_figure(root=True).dpi_scale_trans)
    for i, (position, label) in enumerate(zip(positions, labels, strict=True)):
        xy = (float(position), 0.0) if axis == "x" else (0.0, float(position))
        ax.text(*xy, label, transform=along + shift, fontsize=size, clip_on=False, gid=f"{axis}tick",
                color=colors[i] if colors else color, ha="center" if axis == "x" else "right",
                va="top" if axis == "x" else "center_baseline")


def tick_labels(ax: Any, axis: str) -> list[Any]:
    """The tick labels ``draw_ticks`` drew on ``axis`` ("x" or "y"), in order."""
    return [t for t in ax.texts if t.get_gid() == f"{axis}tick"]



__all__ = ["FONT", "HINTED", "LABELPAD", "LABEL_WIDTH", "LEGEND", "LEGEND_SIZE", "PAD", "SIZE", "STYLE", "TICK",
           "TITLEPAD", "TITLE_SIZE", "cut_label", "draw_ticks", "extent", "figure", "fit", "scale", "style",
           "tick_labels"]
