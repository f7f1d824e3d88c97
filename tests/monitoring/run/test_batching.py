"""Memory-aware batching: row counts from parquet footers, the batch-size rule, and defaults that agree.

The memory model's coefficients are measured by bench/activity_memory.py (figures in bench/README.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from monitoring.data.refs import DataRef
from monitoring.run import batching
from monitoring.run.durable import batch_size_for
from monitoring.run.plan import SignalPlan
from monitoring.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def _parquet(path: Path, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(rows)
    pl.DataFrame({"a": rng.random(rows), "b": rng.random(rows)}).write_parquet(path, row_group_size=10_000)
    return path


def test_rows_come_from_the_footer_without_reading_the_data(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "side.parquet", 50_000)
    data = bytearray(path.read_bytes())
    data[100:len(data) - 4_000] = b"\x55" * (len(data) - 4_100)  # every data page garbled, footer kept
    path.write_bytes(bytes(data))
    with pytest.raises(pl.exceptions.ComputeError):
        pl.read_parquet(path)
    assert batching.window_rows(DataRef(uri=str(path))) == 50_000


def test_rows_of_a_window_are_those_of_its_date_folders(tmp_path: Path) -> None:
    for day, rows in (("01", 1_000), ("02", 2_000), ("03", 4_000)):
        _parquet(tmp_path / "prod" / "2026" / "01" / day / "part.parquet", rows)
    window = {"start": "2026-01-02T00:00:00+00:00", "end": "2026-01-03T00:00:00+00:00"}
    assert batching.window_rows(DataRef(uri=str(tmp_path / "prod"), window=window)) == 2_000
    (tmp_path / "csv").mkdir()
    pl.DataFrame({"a": [1.0]}).write_csv(tmp_path / "csv" / "x.csv")
    assert batching.window_rows(DataRef(uri=str(tmp_path / "csv"))) is None  # not known without reading


def _brute_force(rows: int, budget: int, most: int) -> int:
    million = rows / 1e6
    fitting = [f for f in range(1, most + 1)
               if 105 + 130 * million + 11 * million * f <= budget]  # the coefficients, written out
    return max(fitting, default=1)


@pytest.mark.parametrize("rows", [10_000, 500_000, 2_000_000, 4_000_000, 20_000_000])
@pytest.mark.parametrize("budget", [512, 768, 1_536])
def test_the_batch_is_the_most_features_that_fit_the_budget(rows: int, budget: int) -> None:
    assert (batching.BASE_MIB, batching.PER_MILLION_ROWS_MIB, batching.PER_MILLION_ROW_FEATURES_MIB) == (105, 130, 11)
    assert batching.batch_size(rows, budget_mb=budget, most=32) == _brute_force(rows, budget, 32)


def test_unknown_rows_keep_features_per_activity() -> None:
    assert batching.batch_size(None, budget_mb=768, most=32) == 32


def test_a_signal_over_many_rows_gets_smaller_batches(tmp_path: Path) -> None:
    prod = _parquet(tmp_path / "prod.parquet", 1_000_000)
    ref = _parquet(tmp_path / "ref.parquet", 1_000_000)
    plan = SignalPlan(name="drift", type="data_drift", production=DataRef(uri=str(prod)),
                      reference=DataRef(uri=str(ref)), features=[f"f{i}" for i in range(64)])
    assert batch_size_for(plan, budget=768, most=32) == _brute_force(2_000_000, 768, 32) == 18
    whole = plan.model_copy(update={"type": "feature_attribution_drift"})  # not per feature: one activity
    assert batch_size_for(whole, budget=768, most=32) == 32


def _instance_memory_defaults() -> dict[str, int]:
    bicep = {p: int(m[1]) for p in ("infra/main.bicep", "infra/modules/function-app.bicep")
             if (m := re.search(r"param instanceMemoryMB int = (\d+)", (ROOT / p).read_text()))}
    tf = (ROOT / "infra/terraform/variables.tf").read_text()
    block = re.search(r'variable "instance_memory_mb" \{(.*?)\n\}', tf, re.S)
    assert block, "variables.tf declares instance_memory_mb"
    default = re.search(r"default\s*=\s*(\d+)", block[1])
    assert default, "instance_memory_mb has a default"
    return {**bicep, "infra/terraform/variables.tf": int(default[1])}


def test_concurrent_activities_and_the_host_fit_the_templates_instance_memory() -> None:
    """Flex Consumption runs host.json's maxConcurrentActivityFunctions activities per instance at once."""
    concurrency = json.loads((ROOT / "host.json").read_text())["extensions"]["durableTask"][
        "maxConcurrentActivityFunctions"]
    budget = int(Settings.model_fields["activity_memory_mb"].default)
    memories = _instance_memory_defaults()
    assert set(memories) == {"infra/main.bicep", "infra/modules/function-app.bicep", "infra/terraform/variables.tf"}
    for template, memory in memories.items():
        assert budget * concurrency + batching.HOST_SHARE_MB <= memory, template
    # and the budget holds the default batch of FEATURES_PER_ACTIVITY features over 1M rows (both sides)
    assert batching.activity_mib(1_000_000, int(Settings.model_fields["features_per_activity"].default)) <= budget
