"""The Python API in a notebook or script: compare two in-memory frames, no YAML file, schedule or folder.

Run it with ``python examples/notebook_api.py`` (the test suite runs it too). In Jupyter, the last line of a
cell that evaluates to a result shows its report inline.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from monitoring.interfaces.api import run_monitor, run_signal

rng = np.random.default_rng(0)
reference = pl.DataFrame({
    "amount": rng.lognormal(3.5, 1.0, 5000),
    "merchant": rng.choice(["grocery", "travel", "online_services"], 5000, p=[0.6, 0.2, 0.2]),
})
production = pl.DataFrame({
    "amount": rng.lognormal(3.9, 1.0, 3000),  # amounts grew
    "merchant": rng.choice(["grocery", "travel", "online_services", "crypto"], 3000, p=[0.4, 0.2, 0.3, 0.1]),
})

# One signal: its type and the YAML's keys as keyword arguments.
result = run_signal(
    "data_drift", reference=reference, production=production,
    metric_thresholds={"numerical": {"normalized_wasserstein_distance": 0.1},
                       "categorical": {"jensen_shannon_distance": 0.1}},
)
print(result)
print(result.metrics().filter(pl.col("breached")))

# A whole monitor definition (a dict, YAML text or a file); `trigger` and `name` may be left out.
quality = run_monitor({"create_monitor": {"monitoring_signals": {"quality": {"type": "data_quality"}}}},
                      reference=reference, production=production)
print(quality.status)

html = result.report()  # the HTML report as a string; result._repr_html_() is what Jupyter shows
folder = result.save("notebook-results")  # run.json, signals/*.json, report.html, as a scheduled run writes them
print(f"saved to {folder}")
