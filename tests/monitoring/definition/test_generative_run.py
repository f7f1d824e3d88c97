"""A generative signal in a definition: the run reports it unsupported with its reason; the others run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from monitoring.interfaces.cli import main

FIRE = datetime(2026, 5, 10, tzinfo=UTC)


def test_generative_signal_is_unsupported_and_the_drift_signal_runs(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(3)
    times = [FIRE - timedelta(hours=1 + i % 20) for i in range(300)]
    pl.DataFrame({"a": rng.normal(size=300), "t": times}).write_parquet(tmp_path / "prod.parquet")
    pl.DataFrame({"a": rng.normal(size=300)}).write_parquet(tmp_path / "ref.parquet")
    (tmp_path / "m.yaml").write_text("""name: gen
trigger: {type: recurrence, frequency: day}
create_monitor:
  monitoring_signals:
    drift:
      type: data_drift
      production_data: {input_data: {path: prod.parquet}, data_column_names: {timestamp: t}}
      reference_data: {input_data: {path: ref.parquet}}
    tokens:
      type: Generation_Token_Statistics
      production_data: {input_data: {path: prod.parquet}}
""")
    code = main(["run", str(tmp_path / "m.yaml"), "--at", FIRE.isoformat(), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code in (0, 3)
    assert "unsupported: generation token statistics needs the model's tokenizer" in out
    assert "Traceback" not in out
