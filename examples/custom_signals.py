"""Example custom signals: see ``monitoring/demo/custom_signals.py``, where they live so that the installed
package's demo finds them. A new signal is one function decorated with
``signals.custom.register_custom_signal`` in a module listed in ``signals.custom.CUSTOM_SIGNAL_MODULES``.
"""

from monitoring.demo.custom_signals import category_coverage, mean_shift

__all__ = ["category_coverage", "mean_shift"]
