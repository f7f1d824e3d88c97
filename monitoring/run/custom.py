"""The custom signal modules of this app: the ``CUSTOM_SIGNAL_MODULES`` setting, loaded before planning.

``signals.custom`` names no module; the runner loads the ones the setting lists (none by default in the
deployed app) before it plans or computes, in every process, since Durable activities may run on
another instance than the one that planned.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitoring.settings import get_settings
from signals.custom import load_modules

#: What ``python -m monitoring demo`` loads: the example custom signals its monitor uses.
DEMO_SIGNAL_MODULES = ("monitoring.demo.custom_signals",)


def load_custom_signals(modules: Sequence[str] | None = None) -> list[str]:
    """Register the custom signals of ``modules``, else of the setting; return the modules not installed."""
    return load_modules(get_settings().custom_signal_modules if modules is None else modules)


__all__ = ["DEMO_SIGNAL_MODULES", "load_custom_signals"]
