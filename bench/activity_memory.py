"""Benchmark: the peak memory of one ``compute_signal`` activity per row and feature.

For each (rows per side, features) point, writes both sides as parquet (two thirds numerical columns, one
third string columns of 25 categories, like bench_run.py), then in a fresh subprocess imports the app's
modules, notes the RSS, computes one data drift batch of those features exactly as the activity does
(``monitoring.run.compute.compute_signal``) and notes the peak RSS (``resource.getrusage`` ru_maxrss, the
process's high-water mark). The activity's share is peak - before; a least-squares fit of it against rows
and rows x features (rows of both sides; the per-row term is the thread pool's features in flight, each
sorting both sides) gives the coefficients that ``monitoring.run.batching`` uses.

Usage: ``python bench/activity_memory.py [--rows 250000 500000 1000000] [--features 8 32]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
import psutil
import function_app  # everything the worker imports before an activity runs
from monitoring.data.refs import DataRef
from monitoring.run.compute import compute_signal
from monitoring.run.plan import SignalPlan
before = psutil.Process().memory_info().rss
plan = SignalPlan(name="drift", type="data_drift", production=DataRef(uri={prod!r}), reference=DataRef(uri={ref!r}),
                  features={features!r})
result = compute_signal(plan)
assert result.status == "completed", result.error
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"before_mib": before / 2**20, "peak_mib": peak / 2**20}}))
"""


def write_side(path: Path, rows: int, features: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    numeric = features - features // 3
    columns: dict[str, object] = {f"n{i:02d}": rng.normal(0.1 * seed, 1, rows) for i in range(numeric)}
    categories = np.array([f"cat-{k:02d}" for k in range(25)])
    columns |= {f"c{i:02d}": categories[rng.integers(0, 25, rows)] for i in range(features - numeric)}
    pl.DataFrame(columns).write_parquet(path)
    return list(columns)


def point(rows: int, features: int, folder: Path) -> dict[str, float]:
    prod, ref = folder / f"prod-{rows}-{features}.parquet", folder / f"ref-{rows}-{features}.parquet"
    names = write_side(prod, rows, features, 1)
    write_side(ref, rows, features, 0)
    code = CHILD.format(root=str(ROOT), prod=str(prod), ref=str(ref), features=names)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    prod.unlink()
    ref.unlink()
    return {"rows_per_side": rows, "features": features, **figures,
            "activity_mib": figures["peak_mib"] - figures["before_mib"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--features", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    points = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            for features in args.features:
                p = point(rows, features, Path(tmp))
                points.append(p)
                print(f"{rows:>9} rows/side x {features:>3} features: worker before {p['before_mib']:.0f} MiB, "
                      f"peak {p['peak_mib']:.0f} MiB, activity {p['activity_mib']:.0f} MiB", flush=True)
    million_rows = np.array([2 * p["rows_per_side"] / 1e6 for p in points])  # rows of both sides
    features = np.array([p["features"] for p in points], dtype=float)
    y = np.array([p["activity_mib"] for p in points])
    design = np.column_stack([np.ones_like(y), million_rows, million_rows * features])
    (base, per_row, per_row_feature), *_ = np.linalg.lstsq(design, y, rcond=None)
    worst = max(abs(y - design @ np.array([base, per_row, per_row_feature])))
    print(f"fit: activity MiB = {base:.0f} + {per_row:.1f} x M + {per_row_feature:.2f} x M x features, M = million "
          f"rows of both sides; largest residual {worst:.0f} MiB; worker before the activity "
          f"{max(p['before_mib'] for p in points):.0f} MiB")

if __name__ == "__main__":
    main()
