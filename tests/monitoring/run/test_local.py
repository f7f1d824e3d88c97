"""The embedded default end to end: demo data, a monitor YAML, the CLI and its exit codes."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from rich.console import Console
from scipy import stats

from examples.generate_fraud_data import DRIFTED_FEATURES, STABLE_FEATURES
from monitoring.definition import load_file
from monitoring.interfaces.cli import EXIT_BREACH, EXIT_INVALID, EXIT_OK, main
from monitoring.run import local
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore
from tests.monitoring.conftest import EXAMPLE

FIRE = datetime(2026, 3, 10, 3, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(demo_folder: Callable[..., Path]) -> Path:
    return demo_folder(end=FIRE, rows_per_day=1500, training_rows=20_000)


def _console() -> Console:
    return Console(record=True, width=200, force_terminal=False, file=io.StringIO())


def test_demo_monitor_flags_exactly_the_drifted_features(demo: Path, tmp_path: Path) -> None:
    _plan, run = run_local(load_file(demo / "monitor.yaml"), FIRE, LocalStore(tmp_path))
    drift = run["signals"]["data-drift"]
    assert drift["status"] == "completed"
    breached = {f for f, fr in drift["features"].items() if fr["breached"]}
    assert breached == set(DRIFTED_FEATURES)
    assert set(STABLE_FEATURES) <= set(drift["features"])
    assert not {"transaction_id", "timestamp", "is_fraud", "fraud_score", "predicted_fraud"} & set(drift["features"])
    assert drift["production_window"] == {"start": "2026-03-03T03:15:00Z", "end": "2026-03-10T03:15:00Z"}
    prediction = run["signals"]["prediction-drift"]
    assert set(prediction["features"]) == {"predicted_fraud", "fraud_score"}
    assert prediction["features"]["fraud_score"]["breached"]
    assert run["breached"] is True
    assert run["status"] == "completed"


def test_stored_metric_equals_an_independent_computation_on_the_window(demo: Path, tmp_path: Path) -> None:
    _, run = run_local(load_file(demo / "monitor.yaml"), FIRE, LocalStore(tmp_path))
    files = sorted((demo / "data" / "production").rglob("*.parquet"))
    prod = pl.concat([pl.read_parquet(f) for f in files]).filter(
        (pl.col("timestamp") >= datetime(2026, 3, 3, 3, 15, tzinfo=UTC)) & (pl.col("timestamp") < FIRE))
    ref = pl.read_parquet(demo / "data" / "training" / "training.parquet")
    a, b = ref["amount"].to_numpy(), prod["amount"].to_numpy()
    stored = run["signals"]["data-drift"]["features"]["amount"]["metrics"]
    assert stored["normalized_wasserstein_distance"]["value"] == pytest.approx(
        stats.wasserstein_distance(a, b) / np.std(a, ddof=1), rel=1e-9)
    assert stored["two_sample_kolmogorov_smirnov_test"]["value"] == pytest.approx(
        stats.ks_2samp(a, b).pvalue, abs=1e-12)
    d_ref, d_prod = ref["distance_from_home"].drop_nulls(), prod["distance_from_home"].drop_nulls()
    dist = run["signals"]["data-drift"]["features"]["distance_from_home"]
    assert dist["row_counts"] == {"reference": d_ref.len(), "production": d_prod.len()}
    signal_doc = json.loads((tmp_path / "fraud-detection-demo" / "20260310T0315Z" / "signals" / "data-drift.json")
                            .read_text())
    hist = signal_doc["features"]["amount"]["histogram"]
    assert sum(hist["production"]) == len(b)
    assert hist["production"] == np.histogram(b, np.asarray(hist["edges"]))[0].tolist()


def test_cli_run_exit_codes_and_outputs(demo: Path, tmp_path: Path) -> None:
    console = _console()
    code = main(["run", str(demo / "monitor.yaml"), "--at", "2026-03-10T09:00Z", "--out", str(tmp_path)],
                console=console)
    assert code == EXIT_BREACH
    text = console.export_text()
    assert "breached" in text
    assert "amount" in text
    assert (tmp_path / "fraud-detection-demo" / "20260310T0315Z" / "run.json").exists()
    assert (tmp_path / "fraud-detection-demo" / "history.parquet").exists()
    quiet = (demo / "monitor.yaml").read_text().replace("normalized_wasserstein_distance: 0.1",
                                                        "normalized_wasserstein_distance: 100")
    quiet = quiet.replace("jensen_shannon_distance: 0.1", "jensen_shannon_distance: 1")
    quiet = quiet.replace("population_stability_index: 0.2", "population_stability_index: 100")
    (demo / "quiet.yaml").write_text(quiet)
    assert main(["run", str(demo / "quiet.yaml"), "--at", "2026-03-10T09:00Z", "--out", str(tmp_path)],
                console=_console()) == EXIT_OK


def test_a_window_with_no_rows_skips_the_signal_and_alerts_no_data(demo: Path, tmp_path: Path) -> None:
    """Issue 10: a window with no rows is `skipped` with the reason, the run is `no_data` (not `completed`),
    the owners are alerted and the exit status is 2; `alert_on_no_data: false` turns the alert off."""
    console = _console()
    code = main(["run", str(demo / "monitor.yaml"), "--at", "2020-01-01T09:00Z", "--out", str(tmp_path)],
                console=console)
    run = json.loads((tmp_path / "fraud-detection-demo" / "20200101T0315Z" / "run.json").read_text())
    assert run["signals"]["data-drift"]["status"] == "skipped"
    assert "has no rows" in run["signals"]["data-drift"]["error"]
    assert run["status"] in ("no_data", "partial")
    assert code == EXIT_INVALID
    alert = json.loads((tmp_path / "fraud-detection-demo" / "20200101T0315Z" / "alert.json").read_text())
    assert "had no data" in alert["reason"]
    quiet = (demo / "monitor.yaml").read_text().replace("  alert_notification:\n",
                                                        "  alert_notification:\n    alert_on_no_data: false\n", 1)
    assert "alert_on_no_data: false" in quiet
    (demo / "quiet.yaml").write_text(quiet)
    code = main(["run", str(demo / "quiet.yaml"), "--at", "2020-01-01T09:00Z", "--out", str(tmp_path / "q")],
                console=_console())
    assert code == EXIT_OK


def test_a_run_at_a_future_time_is_refused(demo: Path, tmp_path: Path) -> None:
    console = _console()
    code = main(["run", str(demo / "monitor.yaml"), "--at", "2100-01-01T09:00Z", "--out", str(tmp_path)],
                console=console)
    assert code == EXIT_INVALID
    assert "later than now" in console.export_text()
    assert not (tmp_path / "fraud-detection-demo").exists()


def test_listed_features_missing_from_the_data_fail_with_the_closest_name(demo: Path, tmp_path: Path) -> None:
    """Issue 10: `features: [nope]` used to be a "no rows" skip with exit 0 on a window of thousands of rows."""
    text = (demo / "monitor.yaml").read_text()
    assert "features: all_features" in text or "features:" in text
    for name, features, out in (("none", "[amout, nope]", "a"), ("some", "[amout, amount]", "b")):
        changed = text.replace("features: all_features", f"features: {features}", 1)
        assert changed != text
        (demo / f"{name}.yaml").write_text(changed)
        main(["run", str(demo / f"{name}.yaml"), "--at", "2026-03-10T09:00Z", "--out", str(tmp_path / out)],
             console=_console())
    run_dir = tmp_path / "a" / "fraud-detection-demo" / "20260310T0315Z"
    failed = next(s for s in json.loads((run_dir / "run.json").read_text())["signals"].values()
                  if s["status"] == "failed")
    assert "no listed feature is in the data: column `amout` is not in the" in failed["error"]
    assert "did you mean `amount`?" in failed["error"]
    run_dir = tmp_path / "b" / "fraud-detection-demo" / "20260310T0315Z"
    signals = json.loads((run_dir / "run.json").read_text())["signals"]
    with_amount = next(s for s in signals.values() if {"amount", "amout"} <= set(s.get("features") or {}))
    assert with_amount["status"] == "completed"
    reason = with_amount["features"]["amout"]["metrics"]["missing"]["reason"]
    assert reason.startswith("column `amout` is not in the")
    assert "did you mean `amount`?" in reason


def test_a_failing_signal_does_not_sink_the_others(demo: Path, tmp_path: Path) -> None:
    text = (demo / "monitor.yaml").read_text().replace("path: data/training/\n          type: uri_folder\n"
                                                       "        data_context: model_outputs",
                                                       "path: data/missing/\n          type: uri_folder\n"
                                                       "        data_context: model_outputs", 1)
    text = text.replace("      reference_data:\n        input_data:\n          path: data/training/\n"
                        "          type: uri_folder\n        data_context: training\n      alert_enabled",
                        "      reference_data:\n        input_data:\n          path: data/missing/\n"
                        "          type: uri_folder\n        data_context: training\n      alert_enabled")
    (demo / "broken.yaml").write_text(text)
    code = main(["run", str(demo / "broken.yaml"), "--at", "2026-03-10T09:00Z", "--out", str(tmp_path)],
                console=_console())
    run = json.loads((tmp_path / "fraud-detection-demo" / "20260310T0315Z" / "run.json").read_text())
    assert run["signals"]["prediction-drift"]["status"] == "failed"
    assert "does not exist" in run["signals"]["prediction-drift"]["error"]
    assert run["signals"]["data-drift"]["status"] == "completed"
    assert run["status"] == "partial"
    assert code == EXIT_INVALID


def test_validate_schema_and_invalid_definitions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    console = _console()
    assert main(["validate", str(EXAMPLE)], console=console) == EXIT_OK
    assert "valid" in console.export_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("frequency: day", "frequncy: day"))
    console = _console()
    assert main(["validate", str(bad)], console=console) == EXIT_INVALID
    assert "did you mean `frequency`?" in console.export_text()
    assert main(["run", str(bad)], console=_console()) == EXIT_INVALID
    assert main(["schema"], console=_console()) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["title"].startswith("Serverless model monitor")


def test_demo_command_writes_data_results_and_summary(tmp_path: Path) -> None:
    console = _console()
    assert main(["demo", "--out", str(tmp_path / "demo")], console=console) == EXIT_BREACH  # the run's status
    text = console.export_text()
    assert "breached" in text
    runs = list((tmp_path / "demo" / "results" / "fraud-detection-demo").glob("*/run.json"))
    assert len(runs) == 1


def test_the_command_line_loads_without_scipy_stats_and_matplotlib() -> None:
    """``validate``, ``--help`` and the start of a run do not wait for the tests' and the charts' imports
    (~1.6 s): the modules that need them import them where they use them, and a run preloads them."""
    code = ("import sys, monitoring.interfaces.cli; "
            "print([m for m in ('scipy.stats', 'scipy.special', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "[]"


def test_a_run_whose_preloading_fails_completes_and_says_so(demo: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise ImportError("no module named scipy.special (a broken install)")

    monkeypatch.setattr(local.metrics, "preload", broken)
    _plan, run = run_local(load_file(demo / "monitor.yaml"), FIRE, LocalStore(tmp_path))
    assert run["status"] == "completed"
    assert "preloading the run's modules failed" in caplog.text


def test_a_run_collects_the_young_generation_less_often_and_restores_the_collector(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a run lasts the young generation is collected every ``RUN_GC_THRESHOLD`` allocations (each
    collection holds the GIL the feature threads need); the caller's thresholds come back afterwards, also
    when the run fails."""
    seen: list[tuple[int, int, int]] = []
    planned = local.plan_run

    def plan(*args: object, **kwargs: object) -> object:
        seen.append(gc.get_threshold())
        return planned(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(local, "plan_run", plan)
    before = gc.get_threshold()
    run_local(load_file(demo / "monitor.yaml"), FIRE, LocalStore(tmp_path))
    assert seen == [(local.RUN_GC_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before

    def failing(*args: object, **kwargs: object) -> object:
        raise RuntimeError("planning failed")

    monkeypatch.setattr(local, "plan_run", failing)
    with pytest.raises(RuntimeError, match="planning failed"):
        run_local(load_file(demo / "monitor.yaml"), FIRE, LocalStore(tmp_path))
    assert gc.get_threshold() == before
