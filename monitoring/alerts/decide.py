"""Whether a run alerts: its breaches (worst first), its failed signals, and the ``on_change`` comparison.

Everything here reads run.json documents only, so the decision is the same in the Durable ``alert``
activity, in the local runner and on a retry: a run's alert never depends on when it is evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from monitoring.definition import AlertNotification
from monitoring.names import is_run_id
from monitoring.storage.base import Store, read_json

BreachKey = tuple[str, str, str]


@dataclass(frozen=True)
class Breach:
    """One metric past its threshold: the row of the alert's table."""

    signal: str
    feature: str
    metric: str
    value: float
    threshold: float
    direction: Literal["greater_is_better", "less_is_better"]
    p_value: float | None = None

    @property
    def key(self) -> BreachKey:
        return (self.signal, self.feature, self.metric)

    @property
    def exceedance(self) -> float:
        return exceedance(self.value, self.threshold)


@dataclass(frozen=True)
class Failure:
    """A signal that did not complete, with the reason run.json gives."""

    signal: str
    type: str
    status: str
    error: str | None


@dataclass(frozen=True)
class Decision:
    """What the run's alert is about and whether it is sent; ``reason`` is shown in alert.json."""

    alert: bool
    reason: str
    mode: Literal["every_run", "on_change"]
    breaches: tuple[Breach, ...]
    failures: tuple[Failure, ...]
    previous_run_id: str | None = None
    resolved: bool = False
    new_keys: frozenset[BreachKey] = field(default_factory=frozenset)

    @property
    def breached_signals(self) -> list[str]:
        return list(dict.fromkeys(b.signal for b in self.breaches))


def exceedance(value: float, threshold: float) -> float:
    r"""How far past its threshold a value is, relative to the threshold.

    .. math:: e = \frac{|v - t|}{|t|}

    where :math:`v` is the metric's value and :math:`t` its threshold. A distance of 0.3 against 0.1 is
    2.0 (three times the threshold), a p-value of 0.01 against 0.05 is 0.8: the number is comparable
    across metrics whose scales differ, which a plain difference is not. A threshold of 0 ("any amount
    is too much") gives infinity, so such breaches sort first; ties sort by the plain difference.

    >>> exceedance(0.5, 0.25)
    1.0
    >>> exceedance(0.0, 0.05)
    1.0
    >>> exceedance(0.01, 0.0)
    inf
    """
    diff = abs(value - threshold)
    if threshold == 0:
        return math.inf if diff > 0 else 0.0
    return diff / abs(threshold)


def _alert_enabled(signal: Mapping[str, Any]) -> bool:
    return bool(signal.get("alert_enabled", True))


def breaches(run: Mapping[str, Any]) -> list[Breach]:
    """Every breached metric of the run's alert-enabled signals, worst (largest exceedance) first."""
    rows: list[Breach] = []
    for name, sig in run.get("signals", {}).items():
        if not _alert_enabled(sig) or sig.get("status") != "completed":
            continue
        for feature, fr in (sig.get("features") or {}).items():
            for metric, mr in (fr.get("metrics") or {}).items():
                if mr.get("breached") and mr.get("value") is not None and mr.get("threshold") is not None:
                    rows.append(Breach(signal=name, feature=feature, metric=metric, value=float(mr["value"]),
                                       threshold=float(mr["threshold"]),
                                       direction=mr.get("direction", "less_is_better"),
                                       p_value=mr.get("p_value")))
    return sorted(rows, key=lambda b: (-b.exceedance, -abs(b.value - b.threshold), b.key))


def failures(run: Mapping[str, Any], *, statuses: frozenset[str] = frozenset({"failed"})) -> list[Failure]:
    """Alert-enabled signals whose status is one of ``statuses``: ``failed``, and ``skipped`` (no rows in
    the window) when the monitor alerts on missing data. Unsupported signals never alert."""
    return [Failure(signal=name, type=sig.get("type", ""), status=sig["status"], error=sig.get("error"))
            for name, sig in run.get("signals", {}).items()
            if _alert_enabled(sig) and sig.get("status") in statuses]


def alerting_statuses(notification: AlertNotification) -> frozenset[str]:
    """The signal statuses that alert under ``notification``: failures, and no data (``skipped``)."""
    return frozenset({"failed"} if notification.alert_on_failure else set()) | \
        frozenset({"skipped"} if notification.alert_on_no_data else set())


def _state(run: Mapping[str, Any], statuses: frozenset[str]) -> tuple[frozenset[BreachKey], frozenset[str]]:
    failed = frozenset(f.signal for f in failures(run, statuses=statuses))
    return frozenset(b.key for b in breaches(run)), failed


def previous_run(store: Store, monitor: str, run_id: str) -> dict[str, Any] | None:
    """The run.json of the latest run of ``monitor`` before ``run_id`` (folder names sort by time)."""
    prefix = f"{monitor}/"
    earlier = []
    for path in store.list(prefix):
        candidate, _, name = path[len(prefix):].partition("/")
        if name == "run.json" and is_run_id(candidate) and candidate < run_id:
            earlier.append(candidate)
    for candidate in sorted(earlier, reverse=True):
        document = read_json(store, f"{monitor}/{candidate}/run.json")
        if document is not None:
            return document
    return None


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def decide(run: Mapping[str, Any], notification: AlertNotification, *,
           previous: Mapping[str, Any] | None = None) -> Decision:
    """Whether the run alerts under the notification's mode; ``previous`` is only read for ``on_change``.

    ``every_run`` alerts when an alert-enabled signal breached, or failed and ``alert_on_failure`` is set.
    ``on_change`` alerts when the set of breached (signal, feature, metric), together with the set of
    failed signals, differs from the previous run's; that includes a change back to "all clear", which
    sends one "resolved" message. The first run of a monitor compares against an empty set.
    """
    rows = breaches(run)
    statuses = alerting_statuses(notification)
    failed = failures(run, statuses=statuses)
    current = _state(run, statuses)
    no_data = sum(f.status == "skipped" for f in failed)
    what = ", ".join(p for p in (
        _count(len({b.signal for b in rows}), "signal") + " breached" if rows else "",
        _count(len(failed) - no_data, "signal") + " failed" if len(failed) > no_data else "",
        _count(no_data, "signal") + " had no data" if no_data else "",
    ) if p)
    common = Decision(alert=False, reason="no alert-enabled signal breached or failed", mode=notification.mode,
                      breaches=tuple(rows), failures=tuple(failed))
    if notification.mode == "every_run":
        return replace(common, alert=True, reason=what) if rows or failed else common

    prev_id = previous.get("run_id") if previous else None
    before = _state(previous, statuses) if previous else (frozenset(), frozenset())
    new_keys = current[0] - before[0]
    compared = replace(common, previous_run_id=prev_id, new_keys=frozenset(new_keys))
    if current == before:
        return replace(compared, reason=f"unchanged since run {prev_id} ({what}); mode on_change") if what \
            else compared
    if not (rows or failed):
        return replace(compared, alert=True, resolved=True,
                       reason=f"resolved: nothing breached or failed, unlike run {prev_id}")
    change = f"changed since run {prev_id}" if prev_id else "no earlier run to compare with"
    return replace(compared, alert=True, reason=f"{what}; {change}")


__all__ = ["Breach", "BreachKey", "Decision", "Failure", "breaches", "decide", "exceedance", "failures",
           "previous_run"]
