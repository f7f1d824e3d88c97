"""Benchmark: the CPU the Durable SDK spends replaying ``monitor_run`` as its fan-out grows.

Runs the real ``monitor_run`` (and ``signal_run``) of ``functions/runs.py`` through the real Durable SDK
with ``tests/durable_harness.py`` playing the extension, completions arriving one per episode (the most
replays: what happens when activities finish at different times). The activities are stand-ins that
return at once (``plan_run`` plans ``--signals`` signals of equal batch counts), so the CPU measured is the
orchestrators' replays only: the SDK parsing each history and re-running the generator, summed over
every instance (``OrchestrationResult.total_replay_cpu_s``; the host's own serialising is not counted).

Two shapes, chosen the way production chooses them, by the instance's version:

- ``flat`` (version "", instances created before versioning): every ``compute_signal`` from the parent;
- ``sub`` (version ``ORCHESTRATION_VERSION``): one ``signal_run`` sub-orchestration per signal or run of
  at most ``BATCHES_PER_SUB_ORCHESTRATION`` batches.

Usage: ``python bench/replay.py [--batches 600 2000] [--signals 10] [--shapes flat sub] [--flat-max N]``.
Prints one line per (shape, batches) and, with ``--json``, the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.durable_functions as df

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions import runs  # noqa: E402
from monitoring.run.durable import BatchOutcome, PlannedRun, RunOutcome, SignalBatches  # noqa: E402
from tests.durable_harness import DurableHarness  # noqa: E402

FIRE = datetime(2026, 1, 1, tzinfo=UTC)


def stand_ins(batches: int, signals: int) -> df.Blueprint:
    """Activities that answer at once, with messages of the real shape."""
    bp = df.Blueprint()
    per_signal = [batches // signals + (1 if i < batches % signals else 0) for i in range(signals)]

    @bp.activity_trigger(input_name="request")
    def plan_run(request: dict) -> dict:
        return PlannedRun(monitor="bench", run_id="20260101T0000Z", plan_path="bench/20260101T0000Z/plan.json",
                          features_per_activity=32,
                          signals=[SignalBatches(name=f"signal-{i:02d}", batches=n) for i, n in enumerate(per_signal)]
                          ).model_dump(mode="json")

    @bp.activity_trigger(input_name="batch")
    def compute_signal(batch: dict) -> dict:
        return BatchOutcome(signal=batch["signal"], batch=batch["batch"], status="completed",
                            path=f"bench/20260101T0000Z/parts/{batch['signal']}/{batch['batch']}.json",
                            features=32).model_dump(mode="json")

    @bp.activity_trigger(input_name="request")
    def alert(request: dict) -> dict:
        return RunOutcome(monitor="bench", run_id="20260101T0000Z", status="completed", breached=False,
                          run="bench/20260101T0000Z/run.json", signals={}).model_dump(mode="json")

    return bp


def measure(shape: str, batches: int, signals: int) -> dict[str, Any]:
    version = "" if shape == "flat" else runs.ORCHESTRATION_VERSION
    harness = DurableHarness([runs.bp, stand_ins(batches, signals)], version=version, max_episodes=10 * batches)
    wall = time.perf_counter()
    result = harness.run("monitor_run", "bench-20260101T0000Z", {"monitor": "bench", "fire_time": FIRE.isoformat()})
    wall = time.perf_counter() - wall
    assert result.status == "Completed", result.error
    assert len(result.attempts("compute_signal")) == batches
    instances = result.instances()
    largest = max(instances, key=lambda i: len(i.history))
    return {"shape": shape, "batches": batches, "signals": signals, "instances": len(instances),
            "replay_cpu_s": round(result.total_replay_cpu_s(), 2), "parent_replay_cpu_s": round(result.replay_cpu_s, 2),
            "episodes": sum(i.episodes for i in instances), "largest_history_events": len(largest.history),
            "largest_history_kb": round(len(json.dumps(largest.history)) / 1024), "wall_s": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[600, 2000])
    parser.add_argument("--signals", type=int, default=10)
    parser.add_argument("--shapes", nargs="+", default=["flat", "sub"], choices=["flat", "sub"])
    parser.add_argument("--flat-max", type=int, default=math.inf, help="skip the flat shape above this many batches")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the Functions library's note on auth levels, once per blueprint
    figures = []
    for batches in args.batches:
        for shape in args.shapes:
            if shape == "flat" and batches > args.flat_max:
                continue
            row = measure(shape, batches, args.signals)
            figures.append(row)
            print(f"{shape:>4} {batches:>5} batches / {row['signals']} signals: "
                  f"replay CPU {row['replay_cpu_s']:8.2f} s "
                  f"(parent {row['parent_replay_cpu_s']:.2f} s) over {row['instances']} instance(s), "
                  f"{row['episodes']} episodes; largest history {row['largest_history_events']} events, "
                  f"{row['largest_history_kb']} KB; wall {row['wall_s']} s", flush=True)
    if args.json:
        print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
