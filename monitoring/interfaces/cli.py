"""``funcmon`` (or ``python -m monitoring``): validate, run, demo, report and schema, on local files with no
cloud account; apply, list and show against a deployed app.

Exit codes (stable, for CI pipelines and cron jobs):
  0  the run completed and no alert-enabled signal breached (validate: every file is valid)
  1  unexpected failure (a bug: the traceback is printed)
  2  invalid definition, data or configuration; or a signal failed
  3  the run completed and at least one alert-enabled signal breached
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from monitoring import __version__
from monitoring.alerts.decide import alerting_statuses, failures
from monitoring.definition import AlertNotification, json_schema, load_file
from monitoring.demo.fraud_data import DRIFTED_FEATURES, generate
from monitoring.errors import DefinitionError, MonitoringError
from monitoring.interfaces import cli_remote
from monitoring.interfaces.summary import summary
from monitoring.names import iso_utc, parse_utc
from monitoring.results.overview import write_overview
from monitoring.results.report import write_report
from monitoring.run.custom import DEMO_SIGNAL_MODULES
from monitoring.run.local import run_local
from monitoring.run.plan import RunPlan
from monitoring.schedule.recurrence import latest_fire_time
from monitoring.settings import get_settings
from monitoring.storage.base import read_json
from monitoring.storage.local import LocalStore

EXIT_OK, EXIT_FAILURE, EXIT_INVALID, EXIT_BREACH = 0, 1, 2, 3





def _exit_code(run: dict[str, Any], notification: AlertNotification) -> int:
    """2 when an alert-enabled signal failed or (``alert_on_no_data``) had no rows, 3 on a breach, else 0."""
    if any(s["status"] == "failed" for s in run["signals"].values()) or failures(
            run, statuses=alerting_statuses(notification) - {"failed"}):
        return EXIT_INVALID
    return EXIT_BREACH if run["breached"] else EXIT_OK


def cmd_validate(args: argparse.Namespace, console: Console) -> int:

    code = EXIT_OK
    for file in args.files:
        try:
            loaded = load_file(file)
        except DefinitionError as exc:
            console.print(f"[bold red]invalid[/] {exc.source}")
            for problem in exc.problems:
                console.print(f"  - {problem}", markup=False, highlight=False)
            code = EXIT_INVALID
            continue
        signals = loaded.schedule.signals()
        console.print(f"[green]valid[/] {file}: monitor `{loaded.schedule.name}`, {len(signals)} signal(s): "
                      + ", ".join(f"{n} ({s.type})" for n, s in signals.items()), highlight=False)
        for note in loaded.schedule.notes():
            console.print(f"  [yellow]note[/]: {note}", highlight=False)
    return code


def _run(file: Path, at: datetime, out: Path, console: Console, *, fire_time: datetime | None = None,
         verbose: bool = False, custom_signal_modules: Sequence[str] | None = None,
         memory_mb: int | None = None) -> int:

    loaded = load_file(file)
    if fire_time is None:
        fire_time = latest_fire_time(loaded.schedule.trigger, at) or at
    store = LocalStore(out)
    if console.is_terminal:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            tasks: dict[str, Any] = {}

            def on_plan(plan: RunPlan) -> None:
                for sp in plan.signals:
                    tasks[sp.name] = progress.add_task(f"{sp.name}", total=max(1, len(sp.features)))

            plan, run = run_local(loaded, fire_time, store, on_plan=on_plan,
                                  on_feature=lambda signal, _: progress.advance(tasks[signal]),
                                  custom_signal_modules=custom_signal_modules, memory_mb=memory_mb)
    else:
        plan, run = run_local(loaded, fire_time, store, custom_signal_modules=custom_signal_modules,
                              memory_mb=memory_mb, **_plain_progress(console))
    console.print(summary(run, verbose=verbose))
    console.print(f"results: {store.location(plan.prefix + '/run.json')}", highlight=False)
    console.print(f"report:  {store.location(plan.prefix + '/report.html')}", highlight=False)
    for channel, record in run["alert"].get("channels", {}).items():
        where = record.get("location") or ", ".join(record.get("recipients", [])) or ""
        style = "bold red" if record.get("status") == "failed" else "cyan"
        reason = f" ({escape(record['error'])})" if record.get("error") else ""
        console.print(f"alert:   {channel} [{style}]{record.get('status')}[/] {where}{reason}", highlight=False)
    return _exit_code(run, loaded.schedule.create_monitor.alerts)


#: Seconds between two progress lines of a signal in logs and pipes (a long run is not silent for longer).
PROGRESS_EVERY_S = 30.0


def _plain_progress(console: Console, clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Callbacks that print one line per planned signal, one when each finishes its features, and one every
    ``PROGRESS_EVERY_S`` while a signal is still computing (for logs and pipes, where a progress bar would
    be invisible; a feature split by value range over 100M rows takes minutes)."""
    totals: dict[str, int] = {}
    done: dict[str, int] = {}
    started = clock()
    shown: dict[str, float] = {}

    def on_plan(plan: RunPlan) -> None:
        console.print(f"computing {len(plan.signals)} signal(s) of {plan.monitor} at {plan.fire_time:%Y-%m-%d %H:%M}"
                      " UTC", highlight=False)
        for sp in plan.signals:
            totals[sp.name] = len(sp.features)
            done[sp.name] = 0

    def on_feature(signal: str, feature: str) -> None:
        done[signal] += 1
        now = clock()
        if done[signal] == totals.get(signal):
            console.print(f"  {signal}: {done[signal]} feature(s) done", highlight=False)
        elif now - shown.get(signal, started) >= PROGRESS_EVERY_S:
            console.print(f"  {signal}: {done[signal]} of {totals.get(signal, '?')} feature(s) done after "
                          f"{now - started:.0f} s", highlight=False)
        else:
            return
        shown[signal] = now

    return {"on_plan": on_plan, "on_feature": on_feature}


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    now = datetime.now(UTC)
    if args.at is not None and args.at > now:
        raise MonitoringError(f"--at {iso_utc(args.at)} is later than now ({iso_utc(now)}): a run can only "
                              "read data that has arrived; give a past time")
    at = args.at or now
    return _run(Path(args.file), at, Path(args.out), console, verbose=args.verbose, memory_mb=args.memory_mb)


def _megabytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number of MiB, got {text!r}")
    return value


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    monitor = out / "fraud-monitor.yaml"
    monitor.write_bytes(resources.files("monitoring.demo").joinpath("fraud-monitor.yaml").read_bytes())
    fire_time = latest_fire_time(load_file(monitor).schedule.trigger, datetime.now(UTC))
    assert fire_time is not None
    data = generate(out / "data", end=fire_time)
    console.print(f"generated a fraud-detection dataset in {out / 'data'}: training baseline and "
                  f"{data.start:%Y-%m-%d} .. {data.end:%Y-%m-%d} of production, with drift injected in "
                  f"{', '.join(DRIFTED_FEATURES)} over the last 7 days", highlight=False)
    console.print(f"running {monitor} at its latest fire time {fire_time:%Y-%m-%d %H:%M} UTC", highlight=False)
    code = _run(monitor, fire_time, out / "results", console, fire_time=fire_time, verbose=args.verbose,
                custom_signal_modules=[*get_settings().custom_signal_modules, *DEMO_SIGNAL_MODULES])
    console.print("demo finished: the breaches above are the injected drift (exit status 3, 'breached', "
                  "as expected here)", highlight=False)
    return code


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """Re-render a run's report.html (RUN_DIR holds run.json) or every report of a monitor and its index.html."""
    folder = Path(args.folder).resolve()
    if (folder / "run.json").is_file():
        store, monitor, runs = LocalStore(folder.parent.parent), folder.parent.name, [folder.name]
    elif folder.is_dir() and any(folder.glob("*/run.json")):
        store, monitor, runs = LocalStore(folder.parent), folder.name, sorted(p.parent.name for p in
                                                                             folder.glob("*/run.json"))
    else:
        raise MonitoringError(f"{args.folder} is neither a run folder (with run.json) nor a monitor folder (with "
                              "<run>/run.json)")
    for run_id in runs:
        run = read_json(store, f"{monitor}/{run_id}/run.json")
        assert run is not None
        console.print(f"report:   {write_report(store, f'{monitor}/{run_id}', run)}", highlight=False)
    console.print(f"overview: {write_overview(store, monitor)}", highlight=False)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, console: Console) -> int:

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return EXIT_OK


def _datetime(text: str) -> datetime:

    try:
        return parse_utc(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not an ISO-8601 time such as 2026-01-31T03:15Z") from None


def _prog() -> str:
    """``funcmon`` when run as the installed command, else ``python -m monitoring``."""
    return "funcmon" if Path(sys.argv[0]).name == "funcmon" else "python -m monitoring"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(), description="Serverless ML model monitoring.",
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check monitor definitions and print every problem with its line")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="monitor YAML files to check")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("run", help="run a monitor over its data now and write results")
    p.add_argument("file", type=Path, metavar="FILE", help="the monitor YAML to run")
    p.add_argument("--at", type=_datetime, help="run the latest fire time at or before this time (default: now)")
    p.add_argument("--out", type=Path, default=Path("monitoring-results"),
                   help="results folder (default: monitoring-results); the local outbox is its _outbox/")
    p.add_argument("--verbose", action="store_true", help="list every metric and note, not only the breached ones")
    p.add_argument("--memory-mb", type=_megabytes, default=None,
                   help="memory budget of the run in MiB: how many columns are read together, and when a "
                        "column is split by value range (default: MEMORY_BUDGET_MB, else 40%% of the memory)")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("demo", help="generate a fraud-detection dataset with drift and monitor it")
    p.add_argument("--out", type=Path, default=Path("demo-output"),
                   help="folder for the generated data, the monitor YAML and the results (default: demo-output)")
    p.add_argument("--verbose", action="store_true", help="list every metric and note, not only the breached ones")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("report", help="re-render a run's report, or every report and the overview of a monitor")
    p.add_argument("folder", type=Path, metavar="RUN_DIR|MONITOR_DIR",
                   help="a run folder (<results>/<monitor>/<run>) or a monitor folder (<results>/<monitor>)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("schema", help="print the JSON Schema of monitor definitions")
    p.set_defaults(func=cmd_schema)
    cli_remote.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = console or Console(width=None if sys.stdout.isatty() else 80)
    try:
        return int(args.func(args, console))
    except DefinitionError as exc:
        console.print(f"[bold red]invalid[/] {exc.source}")
        for problem in exc.problems:
            console.print(f"  - {problem}", markup=False, highlight=False)
        return EXIT_INVALID
    except MonitoringError as exc:
        console.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        return EXIT_INVALID


__all__ = ["EXIT_BREACH", "EXIT_FAILURE", "EXIT_INVALID", "EXIT_OK", "build_parser", "main"]
