"""Benchmark: a wide monitor run, 10,000 columns x 10,000 rows per side, through ``run_local``.

Generates ``--columns`` columns (90% numerical normals, 10% string categories of up to 20 values, a
shift on every tenth column in production) x ``--rows`` rows per side as parquet, then times one
``monitoring.run.local.run_local`` of an ``all_features`` monitor (data drift, plus data quality with
``--quality``) in this process. Prints the wall and CPU seconds (CPU is the figure to trust on a shared
machine), the load average, and the sizes of run.json, the signal documents and the HTML report.
``--profile FILE`` writes a cProfile of the run (main thread only). ``--no-significance`` runs drift
with ``significance: off`` in the monitor (no nulls, Azure ML's bare verdicts), to separate the gate's
cost from the rest. Usage:
``python bench/wide.py [--columns N] [--rows N] [--quality] [--no-significance] [--profile FILE]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from monitoring.definition import load_text
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore

ROOT = Path(__file__).resolve().parent
FIRE = datetime(2026, 1, 8, tzinfo=UTC)

SIGNAL = """\
    {name}:
      type: {type}
      production_data:
        input_data: {{path: {prod}}}
        data_window: {{lookback_window_size: P7D}}
        data_column_names: {{timestamp: ts}}
      reference_data:
        input_data: {{path: {ref}}}
      features: all_features
"""


def make_side(path: Path, rows: int, columns: int, seed: int, *, shift: float) -> None:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {
        "ts": pl.datetime_range(FIRE - timedelta(days=7), FIRE, interval=timedelta(days=7) / rows, time_zone="UTC",
                                eager=True)[:rows],
    }
    categories = np.array([f"cat_{j:02d}" for j in range(20)])
    for i in range(columns):
        if i % 10 == 9:
            data[f"c{i}"] = categories[rng.integers(0, 20, size=rows)]
        else:
            data[f"n{i}"] = rng.normal(shift if i % 10 == 0 else 0.0, 1.0, size=rows)
    pl.DataFrame(data).write_parquet(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--quality", action="store_true", help="add a data quality signal")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the run here")
    parser.add_argument("--no-significance", action="store_true", help="the monitor with significance: off")
    args = parser.parse_args()
    data = ROOT / ".data" / f"wide-{args.columns}x{args.rows}"
    data.mkdir(parents=True, exist_ok=True)
    ref, prod = data / "ref.parquet", data / "prod.parquet"
    if not ref.exists():
        make_side(ref, args.rows, args.columns, 1, shift=0.0)
    if not prod.exists():
        make_side(prod, args.rows, args.columns, 2, shift=0.3)
    signals = SIGNAL.format(name="drift", type="data_drift", prod=prod, ref=ref)
    if args.quality:
        signals += SIGNAL.format(name="quality", type="data_quality", prod=prod, ref=ref)
    text = ("name: wide\ntrigger: {type: recurrence, frequency: day, interval: 1}\n"
            "create_monitor:\n" + ("  significance: off\n" if args.no_significance else "")
            + "  monitoring_signals:\n" + signals)
    out = data / "out"
    shutil.rmtree(out, ignore_errors=True)
    loaded = load_text(text, "wide.yaml", base_dir=data)
    profiler = cProfile.Profile() if args.profile else None
    start, cpu_start = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    _, run = run_local(loaded, FIRE, LocalStore(out))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    sizes = {p.name: p.stat().st_size for p in out.rglob("*") if p.is_file()}
    result = {"columns": args.columns, "rows_per_side": args.rows, "seconds": round(seconds, 1),
              "cpu_seconds": round(cpu, 1), "significance": not args.no_significance,
              "load_average": [round(x, 1) for x in os.getloadavg()],
              "status": run["status"], "signals": {n: s["status"] for n, s in run["signals"].items()},
              "bytes": dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:6])}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
