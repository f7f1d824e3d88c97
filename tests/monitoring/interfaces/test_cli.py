"""The CLI as a user meets it: help text, --version, the 80-column summary, plain progress, report."""

from __future__ import annotations

import argparse
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from monitoring import __version__
from monitoring.interfaces.cli import EXIT_BREACH, EXIT_OK, build_parser, main

FIRE = datetime(2026, 3, 10, 3, 15, tzinfo=UTC)


def _console(width: int = 80) -> Console:
    return Console(record=True, width=width, force_terminal=False, file=io.StringIO())


@pytest.fixture(scope="module")
def ran(demo_folder: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    demo = demo_folder(end=FIRE, rows_per_day=600, training_rows=5000)
    out = tmp_path_factory.mktemp("results")
    console = _console()
    with pytest.MonkeyPatch.context() as patch:  # the demo monitor has a custom signal; `run` loads the setting's
        patch.setenv("CUSTOM_SIGNAL_MODULES", "monitoring.demo.custom_signals")
        code = main(["run", str(demo / "monitor.yaml"), "--at", "2026-03-10T09:00Z", "--out", str(out)],
                    console=console)
    return code, console.export_text(), out


def test_help_has_no_markup_and_every_argument_is_described(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = capsys.readouterr().out
    assert "``" not in text
    assert "====" not in text
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    undescribed = [f"{name} {action.dest}" for name, sub in subparsers.choices.items() for action in sub._actions
                   if not action.help and action.dest != "help"]
    assert undescribed == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip().endswith(__version__)


def test_summary_fits_80_columns_with_whole_metric_names(ran: tuple[int, str, Path]) -> None:
    code, text, out = ran
    assert code == EXIT_BREACH
    assert max(len(line) for line in text.splitlines()) <= 80
    run = json.loads(next(out.glob("*/*/run.json")).read_text())
    breached = [(s, f, m) for s, sig in run["signals"].items() for f, fr in sig["features"].items()
                for m, mr in fr["metrics"].items() if mr["breached"]]
    assert breached
    for _, _, metric in breached:
        assert re.search(rf"\s{metric}\s", text), metric
    for name in run["signals"]:
        assert re.search(rf"^ {re.escape(name)}\s+\S", text, re.M), name
    assert len(text.splitlines()) < 64  # progress lines, the signal counts, one chance line, 9 breached rows


def test_plain_progress_lines_when_not_a_terminal(ran: tuple[int, str, Path]) -> None:
    _, text, _ = ran
    assert re.search(r"computing \d+ signal\(s\) of fraud-detection-demo", text)
    assert "data-drift: " in text


def test_plain_progress_speaks_every_thirty_seconds_of_a_long_signal() -> None:
    """In logs a signal whose features take minutes (value ranges over 100M rows) is not silent: a line
    every ``PROGRESS_EVERY_S`` with the count done and the seconds, then the final line."""
    from types import SimpleNamespace

    from monitoring.interfaces import cli

    now = [0.0]
    console = _console(100)
    callbacks = cli._plain_progress(console, clock=lambda: now[0])
    callbacks["on_plan"](SimpleNamespace(monitor="m", fire_time=datetime(2026, 1, 1, tzinfo=UTC),
                                         signals=[SimpleNamespace(name="drift", features=["a", "b", "c", "d"])]))
    for seconds, feature in ((10.0, "a"), (31.0, "b"), (45.0, "c"), (70.0, "d")):
        now[0] = seconds
        callbacks["on_feature"]("drift", feature)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines == ["computing 1 signal(s) of m at 2026-01-01 00:00 UTC",
                     "  drift: 2 of 4 feature(s) done after 31 s", "  drift: 4 feature(s) done"]


def test_the_outbox_is_inside_the_results_folder(ran: tuple[int, str, Path]) -> None:
    _, _, out = ran
    assert list((out / "_outbox").glob("*.eml"))


def test_report_command_rerenders_a_run_and_a_monitor(ran: tuple[int, str, Path]) -> None:
    _, _, out = ran
    run_dir = next(out.glob("*/*/run.json")).parent
    (run_dir / "report.html").unlink()
    (run_dir.parent / "index.html").unlink()
    assert main(["report", str(run_dir)], console=_console()) == EXIT_OK
    assert (run_dir / "report.html").stat().st_size > 10_000
    assert (run_dir.parent / "index.html").exists()
    (run_dir / "report.html").unlink()
    assert main(["report", str(run_dir.parent)], console=_console()) == EXIT_OK
    assert (run_dir / "report.html").exists()
    console = _console()
    assert main(["report", str(out / "nothing-here")], console=console) == 2
    assert "is neither a run folder" in " ".join(console.export_text().split())


def test_summary_says_once_what_chance_gives_for_the_gated_signals(ran: tuple[int, str, Path]) -> None:
    _, text, out = ran
    run = json.loads(next(out.glob("*/*/run.json")).read_text())
    gated = [n for n, s in run["signals"].items() if s.get("significance") and s["status"] == "completed"]
    assert gated
    flat = " ".join(text.split())
    assert f"{', '.join(gated)}: expected by chance at alpha 0.01, holm: any false alarm in at most 1% of runs" in flat
