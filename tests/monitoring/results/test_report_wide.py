"""The report of wide signals: every feature in one table, details only for the ones that matter, the
run-level drift sentence and the gate's fields (p-value, significant, why not breached) per metric."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from markupsafe import escape

from monitoring.results.documents import build_run, signal_document
from monitoring.results.report import render_report
from monitoring.results.selection import DETAIL_FEATURES
from signals.drift import compute_drift
from signals.gate import drift_count
from signals.info import Significance
from signals.results import SignalResult

FIRE = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
CONTEXT = {"alert_enabled": True, "production_window": None, "reference_window": None, "segment": None}
THRESHOLDS = {"numerical": {"normalized_wasserstein_distance": 0.2},
              "categorical": {"jensen_shannon_distance": 0.2}}


def _frames(columns: int, rows: int, seed: int, shifted_below: int | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Nine numerical columns in ten, the rest categorical; every twentieth column (below
    ``shifted_below``) strongly shifted."""
    rng = np.random.default_rng(seed)
    cats = np.array([f"v{j}" for j in range(8)])
    ref: dict[str, object] = {}
    prod: dict[str, object] = {}
    for i in range(columns):
        shifted = i % 20 == 0 and i < (shifted_below or columns)
        if i % 10 == 9:
            ref[f"c{i}"] = cats[rng.integers(0, 8, rows)]
            prod[f"c{i}"] = cats[rng.integers(0, 4 if i % 20 == 19 and i < (shifted_below or columns) else 8, rows)]
        else:
            ref[f"n{i}"] = rng.normal(0, 1, rows)
            prod[f"n{i}"] = rng.normal(1.5 if shifted else 0.0, 1, rows)
    return pl.DataFrame(ref), pl.DataFrame(prod)


def _report(results: dict[str, SignalResult]) -> str:
    run = build_run(monitor="wide", fire_time=FIRE, definition_version="v",
                    signals={name: (r, CONTEXT) for name, r in results.items()})
    documents = {name: signal_document(name, r, CONTEXT) for name, r in results.items()}
    return render_report(run, documents)


def _drift(columns: int, rows: int, *, significance: Significance | None, seed: int = 0,
           shifted_below: int | None = None) -> SignalResult:
    ref, prod = _frames(columns, rows, seed, shifted_below)
    kinds = {c: "categorical" if c.startswith("c") else "numerical" for c in ref.columns}
    return compute_drift(prod, ref, signal_type="data_drift", features=ref.columns, kinds=kinds,  # type: ignore[arg-type]
                         thresholds=THRESHOLDS, significance=significance, workers=1)


@pytest.fixture(scope="module")
def wide() -> tuple[SignalResult, str]:
    result = _drift(400, 400, significance=None)
    return result, _report({"drift": result})


def _section(html: str, name: str) -> str:
    return html[html.index(f'<section class="signal" id="{name}">'):]


def test_wide_report_names_every_feature_and_details_every_breached_one(wide: tuple[SignalResult, str]) -> None:
    result, html = wide
    rows = re.findall(r'<tr data-row="([^"]+)">', html)
    assert sorted(rows) == sorted(result.features), "every feature is a row of the table, once"
    details = re.findall(r'<div class="feature" data-feature="([^"]+)"', html)
    breached = {f for f, fr in result.features.items() if fr.breached}
    assert 10 <= len(breached) < DETAIL_FEATURES
    assert breached <= set(details), "every breached feature has its details"
    assert len(details) == len(set(details)) <= DETAIL_FEATURES
    assert html.count('class="chart"') == len(details), "a chart per detailed feature, none for the others"
    assert f"Details for {len(details)} of 400 features" in html
    assert f"{400 - len(details)} are summarised" in html
    for name in breached:  # the table links a detailed feature to its details
        assert f'<a href="#drift:{name}">{name}</a>' in html
        assert f'id="drift:{name}"' in html


def test_table_cells_show_each_metric_value_and_mark_breaches(wide: tuple[SignalResult, str]) -> None:
    result, html = wide
    name = next(f for f, fr in result.features.items() if fr.breached and fr.kind == "numerical")
    row = html[html.index(f'<tr data-row="{name}">'):]
    row = row[:row.index("</tr>")]
    nwd = result.features[name].metrics["normalized_wasserstein_distance"].value
    assert nwd is not None
    assert f'<td class="num b">{nwd:.4g}</td>' in row
    quiet = next(f for f, fr in result.features.items() if not fr.breached and fr.kind == "categorical")
    row = html[html.index(f'<tr data-row="{quiet}">'):]
    row = row[:row.index("</tr>")]
    jsd = result.features[quiet].metrics["jensen_shannon_distance"].value
    assert jsd is not None
    assert f'<td class="num ">{jsd:.4g}</td>' in row
    assert "breached" not in row


def test_detail_grows_with_the_breaches_not_with_the_width() -> None:
    """Four times the features and the same drifted ones: at most the worst values of each metric add
    detail, and each further feature adds a table row (a few hundred bytes), not a chart (~10 KB)."""
    narrow = _drift(100, 300, significance=None, seed=3)
    wide = _drift(400, 300, significance=None, seed=3, shifted_below=100)
    small, large = _report({"drift": narrow}), _report({"drift": wide})
    charts_small, charts_large = small.count('class="chart"'), large.count('class="chart"')
    assert charts_large <= DETAIL_FEATURES
    extra_breaches = sum(fr.breached for fr in wide.features.values()) - \
        sum(fr.breached for fr in narrow.features.values())
    assert charts_large - charts_small <= extra_breaches + 5 * 5, "only breaches and the worst values add detail"
    rows_bytes = len(large.encode()) - len(small.encode()) - (charts_large - charts_small) * 12_000
    assert rows_bytes / 300 < 600
    assert large.count("<tr data-row=") == 400


def test_the_drift_sentence_is_the_gate_count_of_each_signal() -> None:
    gated = _drift(30, 60, significance=Significance(), seed=5)
    bare = _drift(30, 60, significance=None, seed=5)
    html = _report({"gated": gated, "bare": bare})
    for name, result in (("gated", gated), ("bare", bare)):
        section = _section(html, name)
        sentence = drift_count(result).sentence()
        assert f'<p class="count">{escape(sentence)}</p>' in section[:section.index("</section>")]
    assert "significance off" in drift_count(bare).sentence()
    assert "holm" in drift_count(gated).sentence()


def test_each_detailed_metric_shows_its_p_value_significance_and_gate_reason() -> None:
    result = _drift(30, 60, significance=Significance(), seed=5)
    html = _report({"drift": result})
    reasons = 0
    for name in re.findall(r'<div class="feature" data-feature="([^"]+)"', html):
        block = html[html.index(f'<div class="feature" data-feature="{name}"'):]
        block = block[:block.index('<div class="feature"', 10)] if '<div class="feature"' in block[10:] else block
        assert "<th>p-value</th><th>significant</th>" in block
        for metric, mr in result.features[name].metrics.items():
            row = block[block.index(f"<tr><td>{metric}</td>"):]
            row = row[:row.index("</tr>")]
            assert mr.p_value is not None
            assert mr.significant is not None
            p = f"{mr.p_value:.4g}" if abs(mr.p_value) >= 1e-4 or mr.p_value == 0 else f"{mr.p_value:.2e}"
            assert f'<td class="num">{p}</td><td>{"yes" if mr.significant else "no"}</td>' in row
            if mr.gate_reason:
                reasons += 1
                assert str(escape(mr.gate_reason)) in row
    assert reasons > 0, "60 rows and a 0.2 threshold: some values are past it by chance, and the gate says so"
    table = html[html.index('<table class="all"'):]
    assert " · p " in table, "the table shows each value's p-value too"
