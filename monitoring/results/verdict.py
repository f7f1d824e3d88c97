"""A run's verdict counted once, for the report's header, the email's subject and table, and the CLI;
and each gated signal's "k of m features drifted" sentence (``feature_count``).

A signal is in exactly one group: ``breached`` (alert-enabled, completed, a threshold breached),
``not_alerting`` (breached, but ``alert_enabled: false``), ``failed``, ``skipped`` (skipped, unsupported
or not enough data) or ``ok``. Failed signals record whether they alert (``failed_alerting``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from signals.gate import DriftCount, count_breached
from signals.info import Significance
from signals.registry import signal_info

GROUPS = ("breached", "not_alerting", "failed", "skipped", "ok")
#: How each group is written in the report, the email and the CLI.
LABELS = {"breached": "breached", "not_alerting": "breached, not alerting", "failed": "failed",
          "skipped": "skipped", "ok": "ok"}


def signal_group(signal: Mapping[str, Any]) -> str:
    """The group of one signal entry of run.json."""
    status = signal.get("status")
    if status == "failed":
        return "failed"
    if status != "completed":
        return "skipped"
    if signal.get("breached"):
        return "breached" if signal.get("alert_enabled", True) else "not_alerting"
    return "ok"


def gate_count(sig: Mapping[str, Any]) -> DriftCount | None:
    """How many features of a completed signal whose verdicts the gate judges (``SignalInfo.gated``)
    breached, at the significance stored with it; None for other signals and for runs stored before it was."""
    try:
        gated = signal_info(str(sig.get("type"))).gated
    except LookupError:
        return None
    if not gated or sig.get("status") != "completed" or "significance" not in sig:  # no key: an older run
        return None
    breached = [any(m.get("breached") for m in (f.get("metrics") or {}).values())
                for f in (sig.get("features") or {}).values()]
    stored = sig.get("significance")
    return count_breached(breached, Significance(**stored) if isinstance(stored, Mapping) else None)


def feature_count(sig: Mapping[str, Any]) -> str | None:
    """``gate_count``'s sentence: "3 of 30 features drifted (expected by chance at alpha 0.01, ...)"."""
    count = gate_count(sig)
    if count is None:
        return None
    return count.sentence("drifted" if "drift" in str(sig.get("type")) else "breached")


@dataclass(frozen=True)
class Verdict:
    """Signal names per group, in definition order, and the breached features of alerting signals."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    failed_alerting: list[str] = field(default_factory=list)
    breached_features: int = 0

    def count(self, group: str) -> int:
        return len(self.groups.get(group, []))

    def summary(self) -> str:
        """``2 breached, 1 breached, not alerting, 1 failed, 3 ok`` (empty groups left out)."""
        parts = [f"{self.count(g)} {LABELS[g]}" for g in GROUPS if self.count(g)]
        return ", ".join(parts) or "no signals"


def verdict(run: Mapping[str, Any]) -> Verdict:
    groups: dict[str, list[str]] = {g: [] for g in GROUPS}
    failed_alerting: list[str] = []
    features = 0
    for name, sig in run.get("signals", {}).items():
        group = signal_group(sig)
        groups[group].append(name)
        if group == "failed" and sig.get("alert_enabled", True):
            failed_alerting.append(name)
        if group == "breached":
            features += sum(1 for fr in (sig.get("features") or {}).values() if fr.get("breached"))
    return Verdict(groups=groups, failed_alerting=failed_alerting, breached_features=features)


__all__ = ["GROUPS", "LABELS", "Verdict", "feature_count", "gate_count", "signal_group", "verdict"]
