"""What an alert says: one view of the run built once, rendered as the email (Jinja2) and the webhook cards.

The view holds display strings only, so every channel shows the same numbers. The HTML template is
autoescaped (feature names come from data columns and may hold markup), styled inline and script-free so
that Outlook and Gmail render it as written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from monitoring.alerts.decide import Decision
from monitoring.names import parse_utc
from monitoring.results.verdict import LABELS, feature_count, signal_group, verdict
from monitoring.settings import check_report_url_pattern, get_settings
from monitoring.storage.base import Store
from monitoring.text import fmt_number

#: Rows of the breach table in an email; the rest are counted in "and N more".
EMAIL_MAX_ROWS = 20
_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Row:
    """One breach as displayed: numbers formatted, ``relation`` is how the value breaks the threshold."""

    signal: str
    feature: str
    metric: str
    value: str
    threshold: str
    relation: str
    new: bool = False
    p_value: str = "-"


@dataclass(frozen=True)
class SignalLine:
    """A signal's windows and row counts, so a reader can judge the evidence without opening the report."""

    name: str
    type: str
    status: str
    breached: bool
    production_window: str
    reference_window: str
    production_rows: str
    reference_rows: str
    error: str | None = None
    #: "k of m features drifted (expected by chance at alpha ...)" for a completed gated signal.
    count: str | None = None


@dataclass(frozen=True)
class Links:
    """Where the reader goes next: the run's report (when there is one) and its run.json."""

    report: str | None = None
    run_json: str | None = None
    run: str | None = None

    def items(self) -> list[tuple[str, str]]:
        out = [("Open the report", self.report), ("Open the run", self.run), ("Open run.json", self.run_json)]
        return [(label, url) for label, url in out if url]


@dataclass(frozen=True)
class AlertView:
    """Everything an alert shows, formatted once for the email and every webhook format."""

    monitor: str
    run_id: str
    fire_time: str
    fire_time_iso: str
    run_status: str
    subject: str
    headline: str
    breached_signals: int
    rows: tuple[Row, ...]
    more: int
    failures: tuple[SignalLine, ...]
    signals: tuple[SignalLine, ...]
    links: Links
    reason: str
    resolved: bool
    previous_run_id: str | None
    mode: str
    instance_id: str
    all_rows: tuple[Row, ...] = field(default=(), repr=False)

    @property
    def tone(self) -> str:
        """``resolved``, ``breached`` or ``failed``: the accent colour and the word of the banner."""
        if self.resolved:
            return "resolved"
        return "breached" if self.breached_signals else "failed"


@dataclass(frozen=True)
class EmailChart:
    """A PNG embedded in the HTML body as ``cid:<cid>`` (an inline attachment of the message)."""

    cid: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class AlertContent:
    """The digest email: subject, plain text and HTML, and the inline chart the HTML shows."""

    subject: str
    text: str
    html: str
    chart: EmailChart | None = None




def _time(iso: str | None) -> str | None:
    if not iso:
        return None
    return parse_utc(iso).strftime("%Y-%m-%d %H:%M")


def fmt_window(window: Mapping[str, Any] | None) -> str:
    """A half-open window [start, end) as text; an unbounded side reads as "all rows"."""
    window = window or {}
    start, end = _time(window.get("start")), _time(window.get("end"))
    if start and end:
        return f"{start} to {end} UTC"
    if end:
        return f"before {end} UTC"
    if start:
        return f"from {start} UTC"
    return "all rows"


def _rows(decision: Decision) -> tuple[Row, ...]:
    return tuple(
        Row(signal=b.signal, feature=b.feature, metric=b.metric, value=fmt_number(b.value),
            threshold=fmt_number(b.threshold), relation="below" if b.direction == "greater_is_better" else "above",
            new=b.key in decision.new_keys, p_value=fmt_number(b.p_value) if b.p_value is not None else "-")
        for b in decision.breaches
    )


def _verdict_label(sig: Mapping[str, Any]) -> str:
    """The signal's verdict as the report writes it (``breached, not alerting``...); other statuses as is."""
    group = signal_group(sig)
    return str(sig.get("status", "")) if group == "skipped" else LABELS[group]


def _signal_line(name: str, sig: Mapping[str, Any]) -> SignalLine:
    counts = sig.get("row_counts") or {}
    return SignalLine(
        name=name, type=sig.get("type", ""), status=_verdict_label(sig), breached=signal_group(sig) == "breached",
        production_window=fmt_window(sig.get("production_window")),
        reference_window=fmt_window(sig.get("reference_window")),
        production_rows=f"{counts['production']:,}" if counts.get("production") is not None else "-",
        reference_rows=f"{counts['reference']:,}" if counts.get("reference") is not None else "-",
        error=sig.get("error"), count=feature_count(sig),
    )


def fill_pattern(pattern: str, *, monitor: str, run_id: str) -> str:
    """REPORT_URL_PATTERN with its placeholders filled; ``{fire_time}`` is the run folder's name."""
    values = {"monitor": quote(monitor, safe=""), "fire_time": quote(run_id, safe=""),
              "run_id": quote(run_id, safe="")}
    url = check_report_url_pattern(pattern).format_map(values)
    return url


def _as_link(location: str | None) -> str | None:
    """A URL as is, a local absolute path as a file:// URI (useful in the local outbox)."""
    if not location:
        return None
    if "://" in location:
        return location
    return Path(location).as_uri() if os.path.isabs(location) else None


def run_links(run: Mapping[str, Any], store: Store, *, report_location: str | None = None) -> Links:
    """Links from REPORT_URL_PATTERN, else the caller's report location and the store's own locations.

    A filled pattern ending in ``/`` is the run's folder: the links are its ``report.html`` (when the
    store has one) and ``run.json``. Any other pattern is one link to the run as a whole, for viewers
    that take the run in a query string.
    """
    monitor, run_id = run["monitor"], run["run_id"]
    prefix = f"{monitor}/{run_id}"
    has_report = bool(store.list(f"{prefix}/report.html"))
    pattern = get_settings().report_url_pattern
    if pattern:
        url = fill_pattern(pattern, monitor=monitor, run_id=run_id)
        if url.endswith("/"):
            return Links(report=f"{url}report.html" if has_report or report_location else None,
                         run_json=f"{url}run.json")
        return Links(run=url)
    report = report_location or (store.location(f"{prefix}/report.html") if has_report else None)
    return Links(report=_as_link(report), run_json=_as_link(store.location(f"{prefix}/run.json")))


def subject_line(monitor: str, *, breached_signals: int, failed: int, fire_time: str, resolved: bool,
                 no_data: int = 0) -> str:
    """``[<monitor>] <n> signal(s) breached - <fire time>``, with the failures, the signals whose window
    had no rows (``no_data``, not counted as failed) and a resolution noted."""
    failed_part = (f", {failed} failed" if failed else "") + (f", {no_data} had no data" if no_data else "")
    resolved_part = " (resolved)" if resolved else ""
    return f"[{monitor}] {breached_signals} signal(s) breached{failed_part} - {fire_time}{resolved_part}"


def build_view(run: Mapping[str, Any], decision: Decision, *, links: Links, instance_id: str,
               max_rows: int = EMAIL_MAX_ROWS) -> AlertView:
    """The view of one run's alert; ``max_rows`` caps the table, the rest become "and N more"."""
    fire_time = f"{_time(run['fire_time'])} UTC"
    rows = _rows(decision)
    n_signals = verdict(run).count("breached")  # the report's header counts the same way
    failures = tuple(_signal_line(f.signal, run["signals"][f.signal]) for f in decision.failures)
    enabled = [s for s in run["signals"].values() if s.get("alert_enabled", True)]
    no_data = sum(f.status == "skipped" for f in decision.failures)
    failed = len(decision.failures) - no_data
    if decision.resolved:
        since = f"run {decision.previous_run_id}" if decision.previous_run_id else "the previous run"
        headline = f"All clear: no alert-enabled signal breached or failed, unlike {since}."
    else:
        parts = []
        if n_signals:
            parts.append(f"{n_signals} of {len(enabled)} alert-enabled signals breached "
                         f"{len(rows)} threshold{'s' if len(rows) != 1 else ''}")
        if failed:
            parts.append(f"{failed} signal{'s' if failed != 1 else ''} failed")
        if no_data:
            parts.append(f"{no_data} signal{'s' if no_data != 1 else ''} had no data")
        headline = " and ".join(parts) + f" in the run at {fire_time}." if parts else f"Run at {fire_time}."
    return AlertView(
        monitor=run["monitor"], run_id=run["run_id"], fire_time=fire_time, fire_time_iso=run["fire_time"],
        run_status=run.get("status", ""),
        subject=subject_line(run["monitor"], breached_signals=n_signals,
                             failed=failed, no_data=no_data, fire_time=fire_time,
                             resolved=decision.resolved),
        headline=headline, breached_signals=n_signals, rows=rows[:max_rows], more=max(0, len(rows) - max_rows),
        failures=failures,
        signals=tuple(_signal_line(name, sig) for name, sig in run["signals"].items()),
        links=links, reason=decision.reason, resolved=decision.resolved,
        previous_run_id=decision.previous_run_id, mode=decision.mode, instance_id=instance_id, all_rows=rows,
    )


def text_table(header: tuple[str, ...], rows: list[tuple[str, ...]], *, right: frozenset[int] = frozenset()) -> str:
    """Rows as aligned plain-text columns (numbers right-aligned), for the text body."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)])


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def render_email(view: AlertView, *, chart: EmailChart | None = None) -> AlertContent:
    """The digest email of a view: the HTML and text templates over the same data."""
    env = _environment()
    breach_table = text_table(
        ("signal", "feature", "metric", "value", "threshold", "p-value"),
        [(r.signal, r.feature + (" (new)" if r.new else ""), r.metric, r.value, f"{r.relation} {r.threshold}",
          r.p_value) for r in view.rows],
        right=frozenset({3, 4, 5}),
    )
    signal_table = text_table(
        ("signal", "status", "production window", "reference window", "rows (prod / ref)"),
        [(s.name, s.status, s.production_window, s.reference_window,
          f"{s.production_rows} / {s.reference_rows}") for s in view.signals],
    )
    text = env.get_template("email.txt.j2").render(view=view, breach_table=breach_table, signal_table=signal_table)
    html = env.get_template("email.html.j2").render(view=view, chart=chart)
    return AlertContent(subject=view.subject, text=text, html=html, chart=chart)


__all__ = [
    "EMAIL_MAX_ROWS", "AlertContent", "AlertView", "Links", "Row", "SignalLine", "build_view", "fill_pattern",
    "EmailChart", "fmt_number", "fmt_window", "render_email", "run_links", "subject_line",
    "text_table",
]
