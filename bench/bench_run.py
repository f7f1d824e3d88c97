"""Benchmark: a full monitor run against the least work exact drift needs.

Generates ``--rows`` rows x (20 numerical + 10 categorical) columns per side as parquet, then times, each
in a fresh subprocess so that peak RSS is its own:

- ``baseline``: a bare polars read of the same columns of both sides plus one sort of each numerical
  column (exact KS and Wasserstein need sorted samples; nothing exact can do less);
- ``run``: ``python -m monitoring run`` on a data drift monitor over the same files (every metric for
  every feature, results and history written).

Prints both times, their ratio and each one's peak RSS. Usage: ``python bench/bench_run.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent
N_NUM, N_CAT = 20, 10
FIRE = datetime(2026, 1, 8, tzinfo=UTC)

MONITOR = """\
name: bench
trigger: {{type: recurrence, frequency: day, interval: 1}}
create_monitor:
  monitoring_signals:
    drift:
      type: data_drift
      production_data:
        input_data: {{path: {prod}}}
        data_window: {{lookback_window_size: P7D}}
        data_column_names: {{timestamp: ts}}
      reference_data:
        input_data: {{path: {ref}}}
      features: all_features
"""

BASELINE = """\
import sys, polars as pl
num = [f"n{{i}}" for i in range({n_num})]
cat = [f"c{{i}}" for i in range({n_cat})]
for path in sys.argv[1:]:
    frame = pl.read_parquet(path, columns=num + cat)
    for c in num:
        frame[c].sort()
"""


def make_side(path: Path, rows: int, seed: int, *, shift: float) -> None:
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {
        "ts": pl.datetime_range(FIRE - timedelta(days=7), FIRE, interval=timedelta(days=7) / rows, time_zone="UTC",
                                eager=True)[:rows],
    }
    for i in range(N_NUM):
        values = rng.normal(i, 1 + i / 10, size=rows) + (shift if i < 3 else 0.0)
        values[rng.random(rows) < 0.01] = np.nan
        columns[f"n{i}"] = values
    categories = np.array([f"cat_{j:02d}" for j in range(25)])
    for i in range(N_CAT):
        columns[f"c{i}"] = categories[rng.integers(0, 25 - i, size=rows)]
    pl.DataFrame(columns).with_columns(pl.col("^n.*$").fill_nan(None)).write_parquet(path)


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = ROOT / ".data"
    data.mkdir(exist_ok=True)
    ref, prod = data / f"ref-{args.rows}.parquet", data / f"prod-{args.rows}.parquet"
    if not ref.exists():
        make_side(ref, args.rows, 1, shift=0.0)
    if not prod.exists():
        make_side(prod, args.rows, 2, shift=0.2)
    monitor = data / "monitor.yaml"
    monitor.write_text(MONITOR.format(prod=prod, ref=ref))
    (data / "baseline.py").write_text(BASELINE.format(n_num=N_NUM, n_cat=N_CAT))
    python = sys.executable
    base_cmd = [python, str(data / "baseline.py"), str(ref), str(prod)]
    run_cmd = [python, "-m", "monitoring", "run", str(monitor), "--at", FIRE.isoformat(), "--out", str(data / "out")]
    timed(base_cmd)  # warm the page cache
    base = min(timed(base_cmd)[0] for _ in range(args.repeat))
    run = min(timed(run_cmd)[0] for _ in range(args.repeat))
    # peak RSS measured separately, one child each, so neither inherits the other's peak
    base_rss = float(subprocess.run([python, "-c", _rss_wrapper(base_cmd)], capture_output=True, text=True,
                                    check=True).stdout)
    run_rss = float(subprocess.run([python, "-c", _rss_wrapper(run_cmd)], capture_output=True, text=True,
                                   check=True, cwd=ROOT.parent).stdout)
    result = {"rows_per_side": args.rows, "numerical": N_NUM, "categorical": N_CAT,
              "baseline_seconds": round(base, 2), "run_seconds": round(run, 2), "ratio": round(run / base, 2),
              "baseline_peak_rss_mib": round(base_rss), "run_peak_rss_mib": round(run_rss)}
    print(json.dumps(result, indent=2))


def _rss_wrapper(cmd: list[str]) -> str:
    return (f"import resource, subprocess; subprocess.run({cmd!r}, stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")


if __name__ == "__main__":
    main()
