"""Benchmark: data drift under a memory budget at 1M-100M rows per side, locally and as Durable activities.

Generates ``--rows`` rows x (``--numerical`` + ``--categorical``) columns per side to disk in files of
``--chunk`` rows (so no side is ever whole in memory), with ``bench_run.py``'s columns: normal columns with
1% nulls, shifted on three columns in production, strings of up to 25 categories. Then, each in a fresh
subprocess so that its peak RSS is its own (wall seconds, CPU seconds user + system, peak RSS):

- ``floor``: a bare polars read of the same columns of both sides plus one sort of each numerical column
  (``--no-floor`` when it does not fit);
- ``run --memory-mb M`` for each ``--budget`` M (0: the default budget): ``python -m monitoring run`` on an
  ``all_features`` data drift monitor, every metric of every feature, results written;
- ``--activities M``: the Durable path's activities with ``ACTIVITY_MEMORY_MB=M`` over a local results
  store, in the order ``signal_run`` schedules them (``summarize_feature`` per feature, ``range_share`` per
  range, ``compute_signal`` for features not split, ``combine_feature``), one after another in one process
  whose peak RSS (VmHWM) is reset before each: the sum of their seconds, the largest activity's peak RSS
  (interpreter and imports included, as in a worker), and the largest relative difference of every metric
  value and p-value from the ``--compare`` run's results (``--compare M`` names that run's budget).
  ``--compare M`` also compares every ``--budget`` run after run M with it, the same way (``--budget 20000
  --budget 1536 --compare 20000``: a run in bounded memory against one in memory).
  The orchestration itself (``signal_run`` through the real SDK) is in ``tests/functions/test_runs_ranges.py``.
- ``--signal data_quality``: the same with a data quality signal (results apart, in ``data_quality/``): its
  features go by chunks of rows when one does not fit, so its activities are one ``compute_signal`` each.

``--range-memory M ...`` measures the memory of one value range (``bounded.RANGE_BYTES``): for each activity
budget M, phase 1 of the first numerical feature in one subprocess (``summarize_feature``, which stores the
boundaries), then its largest range's ``range_share`` in a fresh one, whose peak RSS (VmHWM) less its RSS
before the activity, divided by the range's values (both sides), is the bytes per value in flight.

Prints one JSON line per measurement. Usage:
``python bench/scale.py --rows 1000000 --budget 0 --budget 300 --activities 300 --compare 0``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent
FIRE = datetime(2026, 1, 8, tzinfo=UTC)

MONITOR = """\
name: bench-scale
trigger: {{type: recurrence, frequency: day, interval: 1}}
create_monitor:
  monitoring_signals:
    drift:
      type: {signal}
      production_data:
        input_data: {{path: {prod}}}
        data_window: {{lookback_window_size: P7D}}
        data_column_names: {{timestamp: ts}}
      reference_data:
        input_data: {{path: {ref}}}
      features: all_features
"""

FLOOR = """\
import glob, sys, polars as pl
num, cat = {num!r}, {cat!r}
for folder in sys.argv[1:]:
    frame = pl.read_parquet(glob.glob(folder + "/*.parquet"), columns=num + cat)
    for c in num:
        frame[c].sort()
"""

RSS = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
       "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True); "
       "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
       "print(time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, p.returncode); "
       "print(p.stdout.strip().splitlines()[-1] if p.stdout.strip() else 'null')")


def make_side(folder: Path, rows: int, seed: int, *, shift: float, numerical: int, categorical: int,
              chunk: int) -> None:
    """One side in files of ``chunk`` rows, timestamps spread over the week before the fire time."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    categories = np.array([f"cat_{j:02d}" for j in range(25)])
    step = timedelta(days=7) / rows
    for index, start in enumerate(range(0, rows, chunk)):
        n = min(chunk, rows - start)
        first = FIRE - timedelta(days=7) + step * start
        columns: dict[str, object] = {
            "ts": pl.datetime_range(first, first + step * (n - 1), interval=step, time_zone="UTC", eager=True)[:n],
        }
        for i in range(numerical):
            values = rng.normal(i, 1 + i / 10, size=n) + (shift if i < 3 else 0.0)
            values[rng.random(n) < 0.01] = np.nan
            columns[f"n{i}"] = values
        for i in range(categorical):
            columns[f"c{i}"] = categories[rng.integers(0, 25 - i, size=n)]
        frame = pl.DataFrame(columns).with_columns(pl.col("^n.*$").fill_nan(None))
        frame.write_parquet(folder / f"part-{index:04d}.parquet", row_group_size=256_000)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall and CPU seconds, peak RSS (MiB), exit code and last stdout line (JSON) of ``cmd`` in a child."""
    out = subprocess.run([sys.executable, "-c", RSS, *cmd], capture_output=True, text=True, check=True,
                         cwd=ROOT.parent, env={**os.environ, **(env or {})}).stdout.splitlines()
    wall, cpu, rss, code = out[0].split()
    try:
        output = json.loads(out[1]) if len(out) > 1 else None
    except json.JSONDecodeError:  # a command that prints text (``monitoring run``)
        output = None
    return {"seconds": float(wall), "cpu_seconds": float(cpu), "peak_rss_mib": float(rss), "exit": int(code),
            "output": output}


# --------------------------------------------------------------------------------------------------
# The Durable activities, one process each (``--step``)


def _step(name: str, arg: str, monitor: Path, out: Path) -> Any:
    """One activity's domain half over a local results store; prints its output as JSON."""
    from monitoring.definition import load_file
    from monitoring.run import durable, durable_ranges
    from monitoring.run.plan import plan_run
    from monitoring.storage.base import write_json
    from monitoring.storage.local import LocalStore

    store = LocalStore(out)
    if name == "plan":
        plan = plan_run(load_file(monitor), FIRE, store=store)
        path = f"{plan.prefix}/plan.json"
        write_json(store, path, plan.model_dump(mode="json"))
        budget = durable.activity_memory_mb()
        return [{"plan_path": path, "signal": s.name, "features": len(s.features),
                 "ranged": durable.split_by_range(s, budget=budget)} for s in plan.signals]
    if name == "summarize":
        ref = durable.BatchRef.model_validate_json(arg)
        return durable_ranges.summarize_step(ref, store=store, budget_mb=durable.activity_memory_mb()).ranges
    if name == "range":
        return durable_ranges.range_step(durable_ranges.RangeRef.model_validate_json(arg), store=store)
    if name == "combine":
        return durable_ranges.combine_step(durable.BatchRef.model_validate_json(arg), store=store).path
    return durable.compute_step(durable.BatchRef.model_validate_json(arg), store=store).path


def _values(document: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    return {(f, name, key): float(mr[key]) for f, fr in document["features"].items()
            for name, mr in fr["metrics"].items() for key in ("value", "p_value") if mr.get(key) is not None}


def _hwm_mib() -> float:
    """This process's peak RSS since the last ``_reset_hwm`` (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def _reset_hwm() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS


def _all_steps(monitor: Path, out: Path) -> dict[str, Any]:
    """Every activity of one signal in the order ``signal_run`` schedules them, in this process: the peak RSS
    of each is measured from a reset of VmHWM (the interpreter and imports included, as in a worker)."""
    records: list[dict[str, Any]] = []

    def timed(name: str, arg: str) -> Any:
        _reset_hwm()
        wall, cpu = time.perf_counter(), time.process_time()
        value = _step(name, arg, monitor, out)
        records.append({"activity": name, "seconds": time.perf_counter() - wall,
                        "cpu_seconds": time.process_time() - cpu, "peak_rss_mib": _hwm_mib()})
        if os.environ.get("SCALE_PROGRESS"):  # one line per activity as it ends, for long runs
            with Path(os.environ["SCALE_PROGRESS"]).open("a") as progress:
                progress.write(json.dumps({**records[-1], "at": time.strftime("%H:%M:%S")}) + "\n")
        return value

    signal = timed("plan", "-")[0]
    ranged = 0
    for b in range(signal["features"]):
        ref = {"plan_path": signal["plan_path"], "signal": signal["signal"], "batch": b,
               "batches": signal["features"], "features_per_activity": 1}
        ranges = timed("summarize", json.dumps(ref)) if signal["ranged"] else 0
        if not ranges:
            timed("compute", json.dumps(ref))
            continue
        ranged += 1
        for j in range(ranges):
            timed("range", json.dumps({"batch": ref, "index": j}))
        timed("combine", json.dumps(ref))
    largest = max(records, key=lambda r: r["peak_rss_mib"])
    kinds = {r["activity"] for r in records}
    by_kind = {k: {"count": sum(r["activity"] == k for r in records),
                   "largest_rss_mib": round(max(r["peak_rss_mib"] for r in records if r["activity"] == k), 1),
                   "seconds": round(sum(r["seconds"] for r in records if r["activity"] == k), 1)} for k in kinds}
    return {"activities": len(records), "ranged_features": ranged, "ranged_signal": signal["ranged"],
            "seconds": sum(r["seconds"] for r in records), "cpu_seconds": sum(r["cpu_seconds"] for r in records),
            "largest_activity_rss_mib": largest["peak_rss_mib"], "largest_activity": largest["activity"],
            "by_activity": by_kind}


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def _range_memory(monitor: Path, out: Path) -> dict[str, Any]:
    """Phase 1 of the plan's first feature, then (``--step range-memory``) its largest range in this process."""
    from monitoring.data.range_models import FeatureSummary
    from monitoring.run import durable, durable_ranges
    from monitoring.storage.local import LocalStore

    signal = _step("plan", "-", monitor, out)[0]
    ref = {"plan_path": signal["plan_path"], "signal": signal["signal"], "batch": 0, "batches": signal["features"],
           "features_per_activity": 1}
    ranges = _step("summarize", json.dumps(ref), monitor, out)
    folder = f"{signal['plan_path'].rsplit('/', 1)[0]}/parts/{signal['signal']}/ranges/0"
    summary = FeatureSummary.model_validate_json(LocalStore(out).read_bytes(f"{folder}/summary.json") or b"")
    sizes = summary.sizes()
    largest = max(range(ranges), key=lambda j: sizes[j])
    code = ("import json, sys; sys.path.insert(0, {root!r}); sys.argv = ['scale.py']; import function_app; "
            "from bench import scale; from monitoring.run import durable_ranges; "
            "from monitoring.storage.local import LocalStore; scale._reset_hwm(); before = scale._rss_mib(); "
            "durable_ranges.range_step(durable_ranges.RangeRef.model_validate_json({ref!r}), "
            "store=LocalStore(scale.Path({out!r}))); "
            "print(json.dumps({{'before_mib': before, 'peak_mib': scale._hwm_mib()}}))")
    arg = json.dumps({"batch": ref, "index": largest})
    child = subprocess.run([sys.executable, "-c", code.format(root=str(ROOT.parent), ref=arg, out=str(out))],
                           capture_output=True, text=True, check=True, cwd=ROOT.parent, env=dict(os.environ))
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    values = sizes[largest]
    delta = measured["peak_mib"] - measured["before_mib"]
    return {"ranges": ranges, "range_values": values, **measured, "range_mib": delta,
            "bytes_per_value": delta * 2**20 / values,
            "budget_rows": durable_ranges.range_budget_rows(durable.activity_memory_mb())}


def activities(monitor: Path, out: Path, budget: int, compare: Path | None) -> dict[str, Any]:
    """Every activity of the Durable path, one after another in one process (see the module)."""
    env = {"ACTIVITY_MEMORY_MB": str(budget), "PYTHONPATH": str(ROOT.parent)}
    measured = measure([sys.executable, str(Path(__file__).resolve()), "--monitor", str(monitor), "--out", str(out),
                        "--step", "all", "-"], env)
    result: dict[str, Any] = {**measured.pop("output"), "exit": measured["exit"]}
    if compare is not None:
        result |= compared(compare, out.rglob("parts/drift/*.json"))
    return result


def compared(compare: Path, documents: Any) -> dict[str, Any]:
    """How far every metric value and p-value of ``documents`` is from the run in ``compare``: the count
    compared, the count missing, the worst relative difference (an exact zero must stay zero)."""
    want = _values(json.loads(next(compare.rglob("signals/drift.json")).read_text()))
    got: dict[tuple[str, str, str], float] = {}
    for path in documents:
        got |= _values(json.loads(Path(path).read_text()))
    worst = max((abs(got[k] - v) / abs(v) if v else abs(got[k]) for k, v in want.items() if k in got),
                default=math.nan)
    return {"values_compared": len(set(got) & set(want)), "values_missing": len(set(want) - set(got)),
            "worst_relative_difference": worst}


def range_memory(data: Path, monitor: Path, budgets: list[int], common: dict[str, Any]) -> None:
    """``--range-memory``: one JSON line per activity budget (see the module)."""
    for budget in budgets:
        out = data / f"range-memory-{budget}"
        env = {"ACTIVITY_MEMORY_MB": str(budget), "PYTHONPATH": str(ROOT.parent)}
        child = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--monitor", str(monitor), "--out",
                                str(out), "--step", "range-memory", "-"], capture_output=True, text=True, check=True,
                               cwd=ROOT.parent, env={**os.environ, **env})
        print(json.dumps({**common, "what": f"range memory ACTIVITY_MEMORY_MB={budget}",
                          **json.loads(child.stdout.strip().splitlines()[-1])}), flush=True)


def local_run(data: Path, monitor: Path, budget: int, compare: int | None) -> dict[str, Any]:
    """``monitoring run --memory-mb budget`` measured, its results compared with run ``compare``'s if that
    ran before."""
    cmd = [sys.executable, "-m", "monitoring", "run", str(monitor), "--at", FIRE.isoformat(),
           "--out", str(data / f"out-{budget}")]
    if budget:
        cmd += ["--memory-mb", str(budget)]
    measured = measure(cmd)
    if compare is not None and budget != compare and (data / f"out-{compare}").exists():
        measured |= compared(data / f"out-{compare}", (data / f"out-{budget}").rglob("signals/drift.json"))
    return measured


def _shown(key: str, value: Any) -> Any:
    """Seconds and MiB to 2 decimals; a relative difference to 3 significant digits (rounded to 2 decimals,
    2.3e-15 would print as 0.0, which is what an earlier table of this file said)."""
    if not isinstance(value, float):
        return value
    return float(f"{value:.3g}") if key.endswith("difference") else round(value, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--numerical", type=int, default=20)
    parser.add_argument("--signal", default="data_drift", choices=["data_drift", "data_quality"],
                        help="the monitor's one signal (data quality: local runs and compute_signal activities)")
    parser.add_argument("--categorical", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--budget", type=int, action="append", default=[],
                        help="MiB, 0 for the default budget; repeat for several runs")
    parser.add_argument("--activities", type=int, help="ACTIVITY_MEMORY_MB of the Durable activities' run")
    parser.add_argument("--compare", type=int,
                        help="the --budget whose results the activities and the later --budget runs are compared with")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--range-memory", type=int, nargs="*", default=[],
                        help="ACTIVITY_MEMORY_MB values: the peak memory per value of one range activity")
    parser.add_argument("--step", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--monitor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        name, arg = args.step
        step = {"all": _all_steps, "range-memory": _range_memory}.get(name)
        print(json.dumps(step(args.monitor, args.out) if step else _step(name, arg, args.monitor, args.out)))
        return
    data = ROOT / ".data" / f"scale-{args.rows}-{args.numerical}-{args.categorical}"
    ref, prod = data / "ref", data / "prod"
    started = time.perf_counter()
    for folder, seed, shift in ((ref, 1, 0.0), (prod, 2, 0.2)):
        if not folder.exists():
            make_side(folder, args.rows, seed, shift=shift, numerical=args.numerical, categorical=args.categorical,
                      chunk=args.chunk)
    print(json.dumps({"generated_seconds": round(time.perf_counter() - started, 1)}), flush=True)
    runs = data if args.signal == "data_drift" else data / args.signal  # the results of each signal apart
    runs.mkdir(exist_ok=True)
    monitor = runs / "monitor.yaml"
    monitor.write_text(MONITOR.format(prod=prod, ref=ref, signal=args.signal))
    common = {"rows_per_side": args.rows, "numerical": args.numerical, "categorical": args.categorical,
              "signal": args.signal, "load_average": os.getloadavg()[0]}

    def show(what: str, m: dict[str, Any]) -> None:
        m.pop("output", None)
        print(json.dumps({**common, "what": what, **{k: _shown(k, v) for k, v in m.items()}}), flush=True)

    if args.range_memory:
        range_memory(data, monitor, args.range_memory, common)
        return
    if not args.no_floor:
        script = data / "floor.py"
        script.write_text(FLOOR.format(num=[f"n{i}" for i in range(args.numerical)],
                                       cat=[f"c{i}" for i in range(args.categorical)]))
        show("floor", measure([sys.executable, str(script), str(ref), str(prod)]))
    for budget in args.budget:
        show(f"run --memory-mb {budget}" if budget else "run (default budget)",
             local_run(runs, monitor, budget, args.compare))
    if args.activities:
        out = runs / f"activities-{args.activities}"
        compare = runs / f"out-{args.compare}" if args.compare is not None else None
        show(f"activities ACTIVITY_MEMORY_MB={args.activities}", activities(monitor, out, args.activities, compare))


if __name__ == "__main__":
    main()
