"""The science: exact drift, quality and attribution metrics over polars frames. No I/O, no Azure.

scipy is imported inside the functions that use it, so that loading these modules, and the command line
that does, stays quick; and the drift tests past 10,000 rows need only ``scipy.special``
(``metrics.SCIPY_MODULES``, ``signals.laws``), not ``scipy.stats``, whose import alone costs ~1 s of CPU.
"""
