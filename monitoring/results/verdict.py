"""A run's verdict counted once, for the report's header, the email's subject and table, and the CLI.

A signal is in exactly one group: ``breached`` (alert-enabled, completed, a threshold breached),
``not_alerting`` (breached, but ``alert_enabled: false``), ``failed``, ``skipped`` (skipped, unsupported
or not enough data) or ``ok``. Failed signals record whether they alert (``failed_alerting``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


__all__ = ["GROUPS", "LABELS", "Verdict", "signal_group", "verdict"]
