"""The run report and the monitor overview: content, escaping, counts, size, and how they look in a real
browser (headless Chromium)."""

from __future__ import annotations

import email
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from monitoring.definition import load_file
from monitoring.interfaces.api import run_signal
from monitoring.results.report import render_report
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 4, 2, 3, 15, tzinfo=UTC)
RUNS = 3


@pytest.fixture(scope="module")
def report(demo_folder: Callable[..., Path]) -> Path:
    """The report of the last of three daily runs (so trends have three points)."""
    root = demo_folder(end=FIRE, rows_per_day=800, training_rows=6000)
    store = LocalStore(root / "results")
    loaded = load_file(root / "monitor.yaml")
    for day in range(RUNS - 1, -1, -1):
        plan, _ = run_local(loaded, FIRE - timedelta(days=day), store)
    return Path(store.location(f"{plan.prefix}/report.html"))


def test_report_lists_every_signal_feature_and_verdict(report: Path) -> None:
    html = report.read_text()
    for text in ("fraud-detection-demo", "data-drift", "prediction-drift", "amount", "merchant_category",
                 "normalized_wasserstein_distance", "BREACHED", "2026-03-26T03:15:00Z", "whole dataset"):
        assert text in html
    assert "<script" not in html
    assert not re.search(r'(src|href)="https?://', html), "nothing is fetched"
    assert html.count('class="chart"') >= 15


def test_header_counts_agree_with_run_and_email(report: Path) -> None:
    run = json.loads((report.parent / "run.json").read_text())
    alerting = [n for n, s in run["signals"].items() if s["breached"] and s["alert_enabled"]]
    silent = [n for n, s in run["signals"].items() if s["breached"] and not s["alert_enabled"]]
    assert silent == ["data-quality"]  # the example's data quality signal has alert_enabled: false
    html = report.read_text()
    header = html[html.index('id="verdict"'):html.index("<h2>Signals")]
    assert f"{len(alerting)} breached," in header
    assert "1 breached, not alerting" in header
    assert "data-quality" in header
    eml = report.parents[2] / "_outbox" / f"{run['monitor']}-{run['run_id']}.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert f"{len(alerting)} signal(s) breached" in message["subject"]
    text = message.get_body(("plain",)).get_content()
    assert re.search(r"data-quality\s+breached, not alerting", text)


def test_new_categories_and_side_by_side_statistics(report: Path) -> None:
    html = report.read_text()
    drift = html[html.index('id="data-drift"'):html.index('id="prediction-drift"')]
    assert "New in production (not in the reference): <strong>" in drift
    production = pl.read_parquet(report.parents[3] / "data" / "production" / "**" / "*.parquet")
    training = pl.read_parquet(report.parents[3] / "data" / "training" / "*.parquet")
    new = set(production["device_type"].unique()) - set(training["device_type"].unique())
    assert new
    assert all(f"<strong>{c}</strong>" in drift for c in new)
    mean = float(np.mean(training["amount"].to_numpy()))
    amount = drift[drift.index('data-feature="amount"'):]
    assert f"{mean:.4g}" in amount[:amount.index("</table>", amount.index("statistic"))]


def test_breached_metrics_have_a_trend_with_every_run(report: Path) -> None:
    html = report.read_text()
    amount = html[html.index('data-feature="amount"'):]
    amount = amount[:amount.index('class="feature"', 10)]
    trend = amount[amount.index('class="trend"'):]
    trend = trend[:trend.index("</figure>")]
    assert "threshold 0.1" in trend
    assert re.search(r'style="fill: none; stroke: #0969da', trend), "the value line is drawn"
    assert len(re.findall(r"<use ", trend[trend.index("#0969da"):])) >= RUNS, "a marker per run"


def test_overview_lists_runs_newest_first_with_trends(report: Path) -> None:
    html = (report.parents[1] / "index.html").read_text()
    runs = re.findall(r"<td>(2026-\d\d-\d\dT03:15:00Z)</td>", html)
    assert runs == sorted(runs, reverse=True)
    assert len(runs) == RUNS
    assert 'data-signal="data-drift"' in html
    assert html.count('class="trend"') >= 3


def test_report_escapes_names_from_the_definition() -> None:
    run = {"monitor": "<b>m</b>", "fire_time": "t", "run_id": "r", "status": "completed", "breached": False,
           "definition_version": "v", "signals": {"s<x>": {"type": "data_drift", "status": "failed",
                                                           "error": "<img src=x onerror=alert(1)>", "breached": False,
                                                           "notes": [], "row_counts": {}, "features": {}}}}
    html = render_report(run, {})
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>m</b>" not in html


def test_report_of_fifty_features_is_under_a_megabyte() -> None:
    """25 skewed numerical and 25 categorical features, all drifted: every chart is drawn."""
    rng = np.random.default_rng(1)
    cats = [f"category_{i}_with_a_long_label" for i in range(14)]
    ref = pl.DataFrame({**{f"n{i}": rng.lognormal(1, 1, 4000) for i in range(25)},
                        **{f"c{i}": rng.choice(cats[:12], 4000) for i in range(25)}})
    prod = pl.DataFrame({**{f"n{i}": rng.lognormal(1.3, 1, 3000) for i in range(25)},
                         **{f"c{i}": rng.choice(cats, 3000) for i in range(25)}})
    result = run_signal("data_drift", reference=ref, production=prod,
                        metric_thresholds={"numerical": {"normalized_wasserstein_distance": 0.1},
                                           "categorical": {"jensen_shannon_distance": 0.05}})
    html = result.report()
    size = len(html.encode())
    print(f"report of 50 features: {size:,} bytes")
    assert html.count('class="chart"') == 50
    assert size < 1_000_000


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browser(args: list[str], page: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium: `make test` installs the Debian package `chromium`")
        pytest.skip("Chromium is not installed (`make test` installs it)")
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
        check=True, capture_output=True, timeout=120, text=True,
    )


def test_report_dom_in_headless_chromium_holds_features_values_and_charts(report: Path, tmp_path: Path) -> None:
    dom = _browser(["--dump-dom"], report, tmp_path).stdout
    run = json.loads((report.parent / "run.json").read_text())
    for feature in run["signals"]["data-drift"]["features"]:
        assert f'data-feature="{feature}"' in dom
    assert dom.count("<svg") >= 15
    assert 'aria-label="distribution of amount"' in dom
    assert 'aria-label="top categories of merchant_category"' in dom
    assert "trend of amount" in dom


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "report.png"
    _browser(["--window-size=1200,1600", f"--screenshot={shot}"], report, tmp_path)
    image = Image.open(shot).convert("RGB")
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None
    counts = {rgb: n for n, rgb in colors}
    production_blue = counts.get((0x09, 0x69, 0xDA), 0)
    reference_grey = counts.get((0x8C, 0x95, 0x9F), 0)
    assert production_blue > 2000, "distribution bars for production are drawn"
    assert reference_grey > 2000, "distribution bars for the reference are drawn"
    assert sum(n for rgb, n in counts.items() if rgb != (255, 255, 255)) > 0.05 * image.width * image.height


def test_report_lists_attribution_importances_with_rank_changes(report: Path) -> None:
    html = report.read_text()
    section = html[html.index('id="feature-attribution-drift"'):]
    assert "rank change" in section
    assert 'aria-label="feature importance, reference and production"' in section
    document = json.loads((report.parent / "signals" / "feature-attribution-drift.json").read_text())
    for row in document["features"]["model"]["details"]["importance"]:
        assert f"<td>{row['feature']}</td>" in section
        assert f"{row['reference_rank']} &rarr; {row['production_rank']}" in section


def test_performance_and_quality_are_charts(report: Path) -> None:
    html = report.read_text()
    performance = html[html.index('id="model-performance"'):]
    assert 'aria-label="confusion matrix"' in performance
    quality = html[html.index('id="data-quality"'):html.index('id="data-drift-west"')]
    assert 'aria-label="null_value_rate"' in quality


def test_email_embeds_the_worst_feature_chart_inline(report: Path) -> None:
    from PIL import Image

    run = json.loads((report.parent / "run.json").read_text())
    eml = report.parents[2] / "_outbox" / f"{run['monitor']}-{run['run_id']}.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    html = message.get_body(("html",)).get_content()
    match = re.search(r'<img src="cid:([^"]+)"', html)
    assert match
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == f"<{match.group(1)}>"
    picture = Image.open(io.BytesIO(image.get_content()))
    assert picture.width > 300
    colors = {rgb for _, rgb in picture.convert("RGB").getcolors(maxcolors=1 << 20)}
    assert (0x09, 0x69, 0xDA) in colors  # production bars
