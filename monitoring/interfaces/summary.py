"""The CLI's run summary: one row per signal with its counts, then the breached metrics, in 80 columns."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from monitoring.results.verdict import LABELS, gate_count, signal_group, verdict
from monitoring.text import fmt_number

_STYLE = {"breached": "bold red", "not_alerting": "yellow", "failed": "bold red", "skipped": "dim", "ok": "green"}


def _signal_rows(run: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    table.add_column("signal", overflow="fold", max_width=28)
    table.add_column("verdict", no_wrap=True)
    table.add_column("features", justify="right")
    table.add_column("breached", justify="right")
    for name, sig in run["signals"].items():
        group = signal_group(sig)
        features = sig.get("features") or {}
        label = LABELS[group] if group != "skipped" else sig["status"]
        table.add_row(name, f"[{_STYLE[group]}]{label}[/]", str(len(features)),
                      str(sum(1 for f in features.values() if f["breached"])))
    return table


def _metric_rows(run: dict[str, Any], *, verbose: bool) -> Table | None:
    rows = [(f"{name} / {feature}", metric, mr)
            for name, sig in run["signals"].items() for feature, fr in (sig.get("features") or {}).items()
            for metric, mr in fr["metrics"].items() if mr["breached"] or verbose]
    if not rows:
        return None
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left",
                  title="all metrics (breached in red)" if verbose else "breached metrics")
    table.add_column("signal / feature", overflow="fold")
    # Metric names are never cut: the other columns fold instead.
    table.add_column("metric", no_wrap=True, min_width=max(len(m) for _, m, _ in rows))
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("limit", justify="right", no_wrap=True)
    if verbose:  # in 80 columns the p-values would fold the names; run.json and the report have them
        table.add_column("p", justify="right", no_wrap=True)
    for where, metric, mr in rows:
        style = "bold red" if mr["breached"] else ""
        cells = [where, metric, Text(fmt_number(mr["value"]), style=style), fmt_number(mr["threshold"])]
        if verbose:
            cells.append(fmt_number(mr["p_value"]) if mr.get("p_value") is not None else "-")
        table.add_row(*cells)
    return table


def _chance_lines(run: dict[str, Any]) -> list[Text]:
    """What chance alone gives, once per setting of the gated signals (the table has their counts)."""
    by_chance: dict[str, list[str]] = {}
    for name, sig in run["signals"].items():
        count = gate_count(sig)
        if count is not None:
            by_chance.setdefault(count.chance(), []).append(name)
    return [Text(f"{', '.join(names)}: {chance}", style="dim") for chance, names in by_chance.items()]


def summary(run: dict[str, Any], *, verbose: bool = False) -> Group:
    """What ``run`` and ``demo`` print: the verdict line, the signals, the breached (or all) metrics and
    the failures' reasons."""
    head = Text(f"{run['monitor']} @ {run['fire_time']}: {run['status']}", style="bold")
    parts: list[Any] = [head, Text(verdict(run).summary()), _signal_rows(run)]
    parts += _chance_lines(run)
    metrics = _metric_rows(run, verbose=verbose)
    if metrics is not None:
        parts.append(metrics)
    for name, sig in run["signals"].items():
        if sig.get("error"):
            parts.append(Text(f"{name}: {sig['status']}: {sig['error']}", style="red" if
                              sig["status"] == "failed" else "dim"))
        if verbose:
            parts += [Text(f"{name}: {note}", style="dim") for note in sig.get("notes", [])]
    return Group(*parts)


__all__ = ["summary"]
