"""The source document's out-of-box monitor over Azure ML's model data collector layout."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from monitoring.definition import load_file
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore

SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "spec"
FIRE = datetime(2026, 5, 10, 3, 15, tzinfo=UTC)


def _write_hours(root: Path, collection: str, start: datetime, hours: int, make_rows) -> None:
    for h in range(hours):
        t = start + timedelta(hours=h)
        folder = root / "fraud-detection-endpoint" / "fraud-detection-deployment" / collection / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({"specversion": "1.0", "correlationid": f"{collection}-{h}-{b}", "data": make_rows(t, b)})
                 for b in range(3)]
        (folder / "part.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture
def mdc_root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    root = tmp_path / "mdc"
    start = FIRE - timedelta(days=3)

    def inputs(t: datetime, batch: int) -> list[dict]:
        shift = 2.0 if t >= FIRE - timedelta(days=1) else 0.0  # the last day drifts
        return [{"amount": float(rng.normal(10 + shift, 2)), "channel": str(rng.choice(["web", "app"]))}
                for _ in range(10)]

    def outputs(t: datetime, batch: int) -> list[dict]:
        return [{"score": float(rng.uniform())} for _ in range(10)]

    _write_hours(root, "model_inputs", start, 80, inputs)
    _write_hours(root, "model_outputs", start, 80, outputs)
    return root


def test_out_of_box_monitor_reads_the_collector_layout(mdc_root: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDC_ROOT", str(mdc_root))
    _, run = run_local(load_file(SPEC / "out-of-box-monitoring.yaml"), FIRE, LocalStore(tmp_path / "out"))
    drift = run["signals"]["data-drift-signal"]
    assert drift["status"] == "completed", drift["error"]
    # production: [May 9 03:15, May 10 03:15) -> hourly folders 03:00 .. 02:00 whose hour starts in the window
    assert drift["production_window"] == {"start": "2026-05-09T03:15:00Z", "end": "2026-05-10T03:15:00Z"}
    assert drift["reference_window"] == {"start": "2026-05-07T03:15:00Z", "end": "2026-05-09T03:15:00Z"}
    assert set(drift["features"]) == {"amount", "channel"}
    assert drift["features"]["amount"]["row_counts"]["production"] == 24 * 3 * 10
    assert drift["features"]["amount"]["breached"] is True

    def amounts(day_from: datetime, day_to: datetime) -> np.ndarray:
        values = []
        for file in sorted(mdc_root.rglob("model_inputs/**/part.jsonl")):
            hour = datetime.strptime("/".join(file.parts[-5:-1]), "%Y/%m/%d/%H").replace(tzinfo=UTC)
            if day_from <= hour < day_to:
                for line in file.read_text().splitlines():
                    values += [row["amount"] for row in json.loads(line)["data"]]
        return np.array(values)

    prod = amounts(datetime(2026, 5, 9, 4, tzinfo=UTC), datetime(2026, 5, 10, 4, tzinfo=UTC))
    ref = amounts(datetime(2026, 5, 7, 4, tzinfo=UTC), datetime(2026, 5, 9, 4, tzinfo=UTC))
    stored = drift["features"]["amount"]["metrics"]["normalized_wasserstein_distance"]["value"]
    assert stored == pytest.approx(stats.wasserstein_distance(ref, prod) / np.std(ref, ddof=1), rel=1e-9)
    prediction = run["signals"]["prediction-drift-signal"]
    assert prediction["status"] == "completed", prediction["error"]
    assert set(prediction["features"]) == {"score"}  # every column of model_outputs is a model output
    assert prediction["features"]["score"]["row_counts"]["production"] == 24 * 3 * 10
