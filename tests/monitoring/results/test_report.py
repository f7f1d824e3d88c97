"""The run report: content, escaping, and how it looks in a real browser (headless Chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitoring.definition import load_file
from monitoring.results.report import histogram_bars, render_report
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 4, 2, 3, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def report(demo_folder: Callable[..., Path]) -> Path:
    root = demo_folder(end=FIRE, rows_per_day=800, training_rows=6000)
    store = LocalStore(root / "results")
    plan, _ = run_local(load_file(root / "monitor.yaml"), FIRE, store)  # writes the report
    return Path(store.location(f"{plan.prefix}/report.html"))


def test_report_lists_every_signal_feature_and_verdict(report: Path) -> None:
    html = report.read_text()
    for text in ("fraud-detection-demo", "data-drift", "prediction-drift", "amount", "merchant_category",
                 "normalized_wasserstein_distance", "BREACHED", "2026-03-26T03:15:00Z", "whole dataset"):
        assert text in html
    assert "<script" not in html
    assert html.count("<svg") >= 10


def test_report_escapes_names_from_the_definition() -> None:
    run = {"monitor": "<b>m</b>", "fire_time": "t", "run_id": "r", "status": "completed", "breached": False,
           "definition_version": "v", "signals": {"s<x>": {"type": "data_drift", "status": "failed",
                                                           "error": "<img src=x onerror=alert(1)>", "breached": False,
                                                           "notes": [], "row_counts": {}, "features": {}}}}
    html = render_report(run, {})
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>m</b>" not in html


def test_histogram_bars_are_shares_of_each_side() -> None:
    chart = histogram_bars({"categories": ["a", "b"], "reference": [30, 10], "production": [1, 3]})
    assert [round(b["ref"], 3) for b in chart["bars"]] == [0.75, 0.25]
    assert [round(b["prod"], 3) for b in chart["bars"]] == [0.25, 0.75]
    assert max(max(b["ref_h"], b["prod_h"]) for b in chart["bars"]) == pytest.approx(chart["height"])


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium: `make test` installs the Debian package `chromium`")
        pytest.skip("Chromium is not installed (`make test` installs it)")
    from PIL import Image

    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1400", f"--screenshot={shot}",
         report.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    image = Image.open(shot).convert("RGB")
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None
    counts = {rgb: n for n, rgb in colors}
    production_blue = counts.get((0x09, 0x69, 0xDA), 0)
    reference_grey = counts.get((0x8C, 0x95, 0x9F), 0)
    assert production_blue > 2000, "histogram bars for production are drawn"
    assert reference_grey > 2000, "histogram bars for the reference are drawn"
    assert sum(n for rgb, n in counts.items() if rgb != (255, 255, 255)) > 0.05 * image.width * image.height


def test_report_lists_attribution_importances_with_rank_changes(report: Path) -> None:
    html = report.read_text()
    section = html[html.index('id="feature-attribution-drift"'):]
    assert "rank change" in section
    document = json.loads((report.parent / "signals" / "feature-attribution-drift.json").read_text())
    for row in document["features"]["model"]["details"]["importance"]:
        assert f"<td>{row['feature']}</td>" in section
        assert f"{row['reference_rank']} &rarr; {row['production_rank']}" in section
