"""Example custom signals: they live in ``monitoring/demo/custom_signals.py`` so that the installed
package's demo finds them; this module re-exports them for monitors that name ``examples.custom_signals``.
A new signal is one function decorated with ``signals.custom.register_custom_signal`` in a module that the
CUSTOM_SIGNAL_MODULES setting lists.
"""

from monitoring.demo.custom_signals import category_coverage, mean_shift

__all__ = ["category_coverage", "mean_shift"]
