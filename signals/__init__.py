"""The science: exact drift, quality and attribution metrics over polars frames. No I/O, no Azure.

scipy is imported inside the functions that use it (``metrics.SCIPY_MODULES``: ``scipy.stats`` alone takes
about 1 s to import), so that loading these modules, and the command line that does, stays quick.
"""
