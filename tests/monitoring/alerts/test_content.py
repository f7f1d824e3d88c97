"""What the digest says: subject, worst-first table with its cap, failures, windows, links, escaping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitoring.alerts.content import (
    Links,
    build_view,
    fill_pattern,
    fmt_window,
    render_email,
    run_links,
    subject_line,
)
from monitoring.alerts.decide import decide
from monitoring.definition import AlertNotification
from monitoring.errors import ConfigurationError
from monitoring.storage.local import LocalStore
from tests.monitoring.alerts.conftest import MakeRun

RUN_ID = "20261128T0315Z"
INSTANCE = "fraud-detection-demo-20261128T0315Z"
AMOUNT = ("data-drift", "amount", "normalized_wasserstein_distance")


def _render(run: dict[str, Any], **options: Any) -> Any:
    decision = decide(run, AlertNotification())
    view = build_view(run, decision, links=Links(run_json="https://r.example.com/run.json"), instance_id=INSTANCE,
                      **options)
    return view, render_email(view)


def _many_breaches(make_run: MakeRun, n: int) -> dict[str, Any]:
    run = make_run(RUN_ID)
    features = run["signals"]["data-drift"]["features"]
    template = features["amount"]
    for i in range(n):
        feature = {**template, "metrics": {"jensen_shannon_distance": {
            "value": 0.1 + (i + 1) / 100, "threshold": 0.1, "direction": "less_is_better", "breached": True,
            "reason": None}}}
        features[f"feature_{i:02d}"] = feature
    run["signals"]["data-drift"]["breached"] = True
    return run


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"breached_signals": 2, "failed": 0, "resolved": False},
     "[fraud-detection-demo] 2 signal(s) breached - 2026-11-28 03:15 UTC"),
    ({"breached_signals": 1, "failed": 1, "resolved": False},
     "[fraud-detection-demo] 1 signal(s) breached, 1 failed - 2026-11-28 03:15 UTC"),
    ({"breached_signals": 0, "failed": 0, "resolved": True},
     "[fraud-detection-demo] 0 signal(s) breached - 2026-11-28 03:15 UTC (resolved)"),
    ({"breached_signals": 0, "failed": 1, "no_data": 2, "resolved": False},
     "[fraud-detection-demo] 0 signal(s) breached, 1 failed, 2 had no data - 2026-11-28 03:15 UTC"),
])
def test_subject(kwargs: dict[str, Any], expected: str) -> None:
    assert subject_line("fraud-detection-demo", fire_time="2026-11-28 03:15 UTC", **kwargs) == expected


def test_the_table_is_worst_first_and_capped_with_and_n_more(make_run: MakeRun) -> None:
    view, content = _render(_many_breaches(make_run, 25))
    assert len(view.rows) == 20
    assert view.more == 5
    assert [r.feature for r in view.rows[:2]] == ["feature_24", "feature_23"]
    assert "... and 5 more" in content.text
    assert "&hellip; and 5 more" in content.html
    assert content.text.index("feature_24") < content.text.index("feature_05")
    assert "feature_04" not in content.text


def test_failed_signals_windows_and_row_counts_are_shown(make_run: MakeRun) -> None:
    _, content = _render(make_run(RUN_ID, breaches=[AMOUNT], failed=["prediction-drift"]))
    assert content.subject.endswith("1 signal(s) breached, 1 failed - 2026-11-28 03:15 UTC")
    for body in (content.text, content.html):
        assert "prediction-drift" in body
        assert "DataError: the production window has no readable file" in body
        assert "2026-11-21 03:15 to 2026-11-28 03:15 UTC" in body
        assert "20,936 / 50,000" in body
        assert "https://r.example.com/run.json" in body


def test_html_escapes_names_from_the_data(make_run: MakeRun) -> None:
    run = make_run(RUN_ID, breaches=[AMOUNT])
    features = run["signals"]["data-drift"]["features"]
    features['<img src=x onerror="alert(1)">'] = features.pop("amount")
    _, content = _render(run)
    assert "<img" not in content.html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in content.html
    assert '<img src=x onerror="alert(1)">' in content.text  # plain text is not HTML
    assert "<script" not in content.html


@pytest.mark.parametrize(("window", "expected"), [
    ({"start": "2026-11-21T03:15:00Z", "end": "2026-11-28T03:15:00Z"}, "2026-11-21 03:15 to 2026-11-28 03:15 UTC"),
    ({"start": None, "end": None}, "all rows"),
    ({"start": None, "end": "2026-11-28T03:15:00Z"}, "before 2026-11-28 03:15 UTC"),
    (None, "all rows"),
])
def test_windows(window: dict[str, Any] | None, expected: str) -> None:
    assert fmt_window(window) == expected


def test_report_url_pattern_fills_monitor_and_fire_time(monkeypatch: pytest.MonkeyPatch, results: LocalStore,
                                                        make_run: MakeRun) -> None:
    run = make_run(RUN_ID)
    monkeypatch.setenv("REPORT_URL_PATTERN", "https://st.blob.core.windows.net/results/{monitor}/{fire_time}/")
    links = run_links(run, results)
    assert links.run_json == "https://st.blob.core.windows.net/results/fraud-detection-demo/20261128T0315Z/run.json"
    assert links.report is None  # no report.html in the store yet
    results.write_bytes(f"fraud-detection-demo/{RUN_ID}/report.html", b"<html></html>")
    assert run_links(run, results).report.endswith("/20261128T0315Z/report.html")

    monkeypatch.setenv("REPORT_URL_PATTERN", "https://viewer.example.com/?monitor={monitor}&run={run_id}")
    assert run_links(run, results).items() == [
        ("Open the run", "https://viewer.example.com/?monitor=fraud-detection-demo&run=20261128T0315Z")]


def test_without_a_pattern_links_are_the_report_location_and_the_store(results: LocalStore,
                                                                       make_run: MakeRun) -> None:
    links = run_links(make_run(RUN_ID), results, report_location="https://reports.example.com/r.html")
    assert links.report == "https://reports.example.com/r.html"
    assert links.run_json == Path(results.location(f"fraud-detection-demo/{RUN_ID}/run.json")).as_uri()


@pytest.mark.parametrize(("pattern", "message"), [
    ("https://x/{monitor}/{fire}/", "uses `{fire}`; the placeholders are {fire_time}, {monitor}, {run_id}"),
    ("javascript:alert({monitor})", "must start with https://"),
    ("https://x/{monitor", "not a valid pattern"),
])
def test_bad_patterns_are_configuration_errors(pattern: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("{", r"\{").replace("}", r"\}")):
        fill_pattern(pattern, monitor="m", run_id=RUN_ID)


def test_each_gated_signal_says_how_many_features_breached_and_what_chance_gives(make_run: MakeRun) -> None:
    run = make_run(RUN_ID, breaches=[AMOUNT])
    drift = run["signals"]["data-drift"]
    drift["significance"] = {"alpha": 0.01, "correction": "holm", "replicates": 1000, "seed": 0}
    drift["features"]["amount"]["metrics"]["normalized_wasserstein_distance"]["p_value"] = 3.2e-7
    run["signals"]["prediction-drift"]["significance"] = None  # judged with the gate off
    breached = sum(any(m.get("breached") for m in f["metrics"].values()) for f in drift["features"].values())
    _, content = _render(run)
    expected = (f"{breached} of {len(drift['features'])} features drifted (expected by chance at alpha 0.01, "
                "holm: any false alarm in at most 1% of runs)")
    bare = f"of {len(run['signals']['prediction-drift']['features'])} features drifted (significance off"
    for body in (content.text, content.html):
        assert expected in body
        assert bare in body
        assert "3.20e-07" in body  # the breached metric's p-value, as stored (3 significant figures)
    # a run stored before the field says nothing rather than guess
    del drift["significance"]
    assert f"of {len(drift['features'])} features drifted" not in _render(run)[1].text
