"""The report's charts: bars are the stored shares on their bins, and every text lies inside the figure
clear of the plot area, as matplotlib itself measures it after drawing (margins are computed from font
metrics before drawing, so this is what can go wrong)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from monitoring.results import chart_layout, charts

HOSTILE = ["plain", "a category name far longer than any chart can hold on one line, and then some more",
           "two\nlines", "$5 off $", "x^2_{a}", "naïve café ✓", ""]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the chart functions hand to ``render``, kept for inspection (render still runs)."""
    figures: list[Figure] = []
    render = charts.render

    def keep(figure: Figure, label: str, fmt: str = "svg") -> str | bytes:
        figures.append(figure)
        return render(figure, label, fmt)

    monkeypatch.setattr(charts, "render", keep)
    return figures


def _rectangles(patch: Any) -> np.ndarray:
    """(bars, 5 corners, xy) of a compound bar path, in data coordinates."""
    return np.asarray(patch.get_path().vertices).reshape(-1, 5, 2)


def test_equal_width_bars_are_each_sides_share_of_each_bin(drawn: list[Figure]) -> None:
    rng = np.random.default_rng(3)
    ref, prod = rng.normal(0, 1, 5000), rng.normal(0.4, 1.3, 3000)
    edges = np.linspace(min(ref.min(), prod.min()), max(ref.max(), prod.max()), 21)
    counts = [np.histogram(side, edges)[0] for side in (ref, prod)]
    histogram = {"edges": edges.tolist(), "reference": counts[0].tolist(), "production": counts[1].tolist()}
    assert charts.numerical_distribution("x", None, histogram) is not None
    ax = drawn[0].axes[0]
    widths = np.diff(edges)
    for patch, side, offset in zip(ax.patches, counts, (0.0, 0.45), strict=True):
        bars = _rectangles(patch)
        np.testing.assert_allclose(bars[:, :, 1].max(axis=1), 100 * side / side.sum(), rtol=1e-12)
        np.testing.assert_allclose(bars[:, :, 1].min(axis=1), 0.0)
        np.testing.assert_allclose(bars[:, :, 0].min(axis=1), edges[:-1] + offset * widths, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(bars[:, :, 0].max(axis=1), edges[:-1] + (offset + 0.45) * widths, rtol=1e-12,
                                   atol=1e-12)
    assert [p.get_label() for p in ax.patches] == ["reference", "production"]
    assert ax.get_xlim() == (edges[0], edges[-1])


def test_category_bars_are_shares_of_each_sides_count_and_new_ones_are_red(drawn: list[Figure]) -> None:
    top = [{"category": "a", "reference": 60, "production": 10}, {"category": "b", "reference": 40,
                                                                   "production": 50},
           {"category": "c", "reference": 0, "production": 40}]
    profile = {"top": top, "count": {"reference": 100, "production": 100}, "new": [{"category": "c"}]}
    charts.categorical_distribution("f", profile, None)
    ax = drawn[0].axes[0]
    ref, prod = (_rectangles(p) for p in ax.patches)
    np.testing.assert_allclose(ref[:, :, 0].max(axis=1), [60.0, 40.0, 0.0])
    np.testing.assert_allclose(prod[:, :, 0].max(axis=1), [10.0, 50.0, 40.0])
    for bars, low in ((ref, -0.42), (prod, 0.0)):  # side by side on each category, the reference above
        np.testing.assert_allclose(bars[:, :, 1].min(axis=1), np.arange(3) + low)
        np.testing.assert_allclose(bars[:, :, 1].max(axis=1), np.arange(3) + low + 0.42)
    labels = chart_layout.tick_labels(ax, "y")
    assert [t.get_text() for t in labels] == ["a", "b", "c (new)"]
    assert [t.get_color() for t in labels] == ["#57606a", "#57606a", charts.BREACH]


def _every_chart(names: list[str]) -> list[Callable[[], Any]]:
    """One call of each chart kind whose labels are ``names``."""
    histogram = {"edges": [0.0, 1.0, 2.5, 7.0], "reference": [5, 3, 1], "production": [1, 3, 6]}
    profile = {"skewness": 3.0, "quantile_bins": {"inner_edges": [0.1234, 25.0, 1e6], "reference": [1, 1, 1, 1],
                                                  "production": [0, 2, 1, 5]}}
    top = {"top": [{"category": n, "reference": i + 1, "production": 2} for i, n in enumerate(names)],
           "count": {"reference": 50, "production": 30}, "new": [{"category": names[0]}]}
    start = datetime(2026, 3, 1, tzinfo=UTC)
    hourly = [start + timedelta(hours=5 * i) for i in range(9)]
    return [
        lambda: charts.numerical_distribution(names[1], None, histogram),
        lambda: charts.numerical_distribution(names[1], profile, histogram),
        lambda: charts.categorical_distribution(names[1], top, None),
        lambda: charts.trend(f"{names[1]} · normalized_wasserstein_distance", hourly, list(range(9)), 4.5),
        lambda: charts.trend("m", [start, start + timedelta(days=1)], [None, 0.2], None),
        lambda: charts.value_bars(f"rate of {names[1]}", [(n, 0.1 * i, 0.15, i % 2 == 0) for i, n in enumerate(names)]),
        lambda: charts.value_bars("performance", [("r2", -0.4, 0.0, True), ("mae", 12.0, None, False)]),
        lambda: charts.importance_bars([{"feature": n, "reference": 0.5, "production": 0.1} for n in names]),
        lambda: charts.confusion_matrix(names[:3], [[5, 1, 0], [2, 9, 1], [0, 0, 4]]),
    ]


@pytest.mark.parametrize("kind", range(9))
def test_every_text_is_inside_the_figure_and_clear_of_the_plot_area(drawn: list[Figure], kind: int) -> None:
    for chart in (_every_chart(HOSTILE)[kind], _every_chart(["a", "b", "c"])[kind]):
        drawn.clear()
        assert isinstance(chart(), str)
        figure = drawn[0]
        figure.set_dpi(144)  # as the email's PNG; the report's SVG text is laid out unhinted, a little narrower
        renderer = FigureCanvasAgg(figure).get_renderer()
        figure.draw(renderer)
        page, ax = figure.bbox, figure.axes[0]
        texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text() and t.get_figure(root=True)]
        for text in texts:
            _inside(text, page, renderer, kind)
        _clear_of(ax, figure, renderer, kind)


def _inside(text: Text, page: Any, renderer: Any, kind: int) -> None:
    box = text.get_window_extent(renderer)
    for low, high in ((page.x0, box.x0), (box.x1, page.x1), (page.y0, box.y0), (box.y1, page.y1)):
        assert low <= high + 0.5, (kind, text.get_text(), box)
    assert "\n" not in text.get_text()


def _clear_of(ax: Any, figure: Figure, renderer: Any, kind: int) -> None:
    """Tick and axis labels left of and below the plot area, legend and title above it."""
    area = ax.get_window_extent(renderer)
    for label in chart_layout.tick_labels(ax, "y"):
        if label.get_text():
            assert label.get_window_extent(renderer).x1 <= area.x0, (kind, label.get_text())
    for label in [*chart_layout.tick_labels(ax, "x"), ax.xaxis.label]:
        if label.get_text():
            assert label.get_window_extent(renderer).y1 <= area.y0, (kind, label.get_text())
    for legend in figure.legends:
        assert legend.get_window_extent(renderer).y0 >= area.y1 - 0.5, kind
    titles = [t for t in figure.findobj(Text) if t.get_text() and t.get_text() == ax.get_title(loc="left")]
    for title in titles:
        assert title.get_window_extent(renderer).y0 >= area.y1, kind


def test_labels_are_cut_to_the_label_width_and_dollars_stay_text(drawn: list[Figure]) -> None:
    svg = charts.categorical_distribution("f", None, {"categories": HOSTILE, "reference": [1] * len(HOSTILE),
                                                      "production": [1] * len(HOSTILE)})
    assert isinstance(svg, str)
    assert ">$5 off $</text>" in svg  # dollar signs as text, not mathtext (which draws "5 off" in glyph runs)
    labels = [t.get_text() for t in chart_layout.tick_labels(drawn[0].axes[0], "y")]
    assert labels[1].endswith("…")
    assert HOSTILE[1].startswith(labels[1][:-1])
    assert labels[2] == "two lines"
    drawn[0].set_dpi(144)
    renderer = FigureCanvasAgg(drawn[0]).get_renderer()
    widths = [t.get_window_extent(renderer).width / 2 for t in chart_layout.tick_labels(drawn[0].axes[0], "y")]
    assert max(widths) <= chart_layout.LABEL_WIDTH + 1


def test_constant_feature_and_empty_inputs() -> None:
    assert charts.numerical_distribution("x", None, {"edges": [3.0, 3.0], "reference": [10], "production": [4]})
    assert charts.numerical_distribution("x", None, {"edges": [3.0], "reference": [], "production": []}) is None
    assert charts.categorical_distribution("x", None, {"categories": [], "reference": [], "production": []}) is None
    assert charts.value_bars("t", [("a", None, 0.1, None), ("b", float("nan"), None, None)]) is None
