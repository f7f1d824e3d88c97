"""Fixtures of the serverless tests: Azurite, the app's containers, a small fraud dataset and its monitor.

Every test that touches storage gets empty containers on this worker's own Azurite, with the settings
pointing at it; the caches that hold clients or definitions between timer ticks are cleared around each
test so nothing leaks from one test into the next.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import polars as pl
import pytest

from examples.generate_fraud_data import generate
from monitoring.definition import RecurrenceTrigger
from monitoring.run.custom import DEMO_SIGNAL_MODULES
from monitoring.schedule.recurrence import latest_fire_time
from monitoring.storage import blob
from monitoring.storage.definitions import definition_store
from signals.custom import CustomRegistry, isolated_registry
from tests.azurite import Azurite, azurite  # noqa: F401 - the session fixture, re-exported for these tests

MONITOR = "fraud-serverless"


@pytest.fixture(autouse=True)
def custom_registry() -> Iterator[CustomRegistry]:
    """The demo's custom signals (the suite runs the demo's monitor), in a registry this test may change.

    Whatever a test registers is gone after it: the app's registry is restored.
    """
    with isolated_registry() as registry:
        registry.load(DEMO_SIGNAL_MODULES)
        yield registry

#: A two-signal monitor over the dataset the ``fraud_data`` fixture uploads (daily at 03:15 UTC).
MONITOR_YAML = f"""\
name: {MONITOR}
trigger:
  type: recurrence
  frequency: day
  interval: 1
  schedule: {{hours: 3, minutes: 15}}
  time_zone: UTC
create_monitor:
  monitoring_signals:
    data-drift:
      type: data_drift
      production_data:
        input_data: {{path: "az://data/fraud/production/", type: uri_folder}}
        data_window: {{lookback_window_size: P7D}}
        data_column_names:
          timestamp: timestamp
          id_columns: [transaction_id, correlation_id]
          prediction: predicted_fraud
          prediction_probability: fraud_score
      reference_data:
        input_data: {{path: "az://data/fraud/training/", type: uri_folder}}
        data_context: training
        data_column_names: {{target_column: is_fraud}}
      features: all_features
      metric_thresholds:
        numerical: {{normalized_wasserstein_distance: 0.1}}
        categorical: {{jensen_shannon_distance: 0.1}}
    prediction-drift:
      type: prediction_drift
      production_data:
        input_data: {{path: "az://data/fraud/production/", type: uri_folder}}
        data_window: {{lookback_window_size: P7D}}
        data_column_names:
          timestamp: timestamp
          prediction: predicted_fraud
          prediction_probability: fraud_score
      reference_data:
        input_data: {{path: "az://data/fraud/training/", type: uri_folder}}
        data_context: training
  alert_notification:
    emails: [ml-team@example.com]
"""


def latest_daily_fire(now: datetime | None = None) -> datetime:
    """The monitor's latest fire time: the data is generated to end there, so any test can run it."""
    trigger = RecurrenceTrigger.model_validate(
        {"type": "recurrence", "frequency": "day", "schedule": {"hours": 3, "minutes": 15}})
    fire = latest_fire_time(trigger, now or datetime.now(UTC))
    assert fire is not None
    return fire


@dataclass(frozen=True)
class FraudData:
    """The generated dataset on disk and the fire time it was generated for."""

    root: Path
    fire_time: datetime

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*.parquet"))


def generated_fraud(tmp_path_factory: pytest.TempPathFactory, name: str, *, days: int, drift_days: int,
                    rows_per_day: int, training_rows: int) -> FraudData:
    """The demo generator's dataset in a new temporary folder, for the latest daily fire time."""
    root = tmp_path_factory.mktemp(name)
    fire = latest_daily_fire()
    generate(root, end=fire, days=days, drift_days=drift_days, rows_per_day=rows_per_day, training_rows=training_rows)
    return FraudData(root, fire)


def upload_fraud(data: FraudData) -> FraudData:
    """``data``'s files uploaded to ``data/fraud/`` on the current Azurite."""
    container = blob.container_client(blob.DATA)
    for file in data.files():
        container.upload_blob(f"fraud/{file.relative_to(data.root).as_posix()}", file.read_bytes())
    return data


@pytest.fixture(scope="session")
def fraud_files(tmp_path_factory: pytest.TempPathFactory) -> FraudData:
    """Ten days of production (drift in the last five) and a training baseline, small enough to be quick."""
    return generated_fraud(tmp_path_factory, "fraud", days=10, drift_days=5, rows_per_day=300, training_rows=3000)


@pytest.fixture
def storage(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[Azurite]:  # noqa: F811
    """The app's containers, empty, on this worker's Azurite, with the settings pointing at it."""
    monkeypatch.setenv("STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.delenv("DATA_STORAGE_ACCOUNT", raising=False)
    monkeypatch.delenv("FEATURES_PER_ACTIVITY", raising=False)
    _clear_caches()
    blob.ensure_containers()
    yield azurite
    for name in blob.CONTAINERS:
        container = blob.container_client(name)
        for item in container.list_blobs():
            container.delete_blob(item.name)
    _clear_caches()


def _clear_caches() -> None:
    from functions import scheduler

    blob.service_client.cache_clear()
    definition_store.cache_clear()
    scheduler._scheduler.cache_clear()


@pytest.fixture
def fraud_data(storage: Azurite, fraud_files: FraudData) -> FraudData:
    """The dataset uploaded to ``data/fraud/``."""
    return upload_fraud(fraud_files)


@pytest.fixture
def fraud_monitor(fraud_data: FraudData) -> FraudData:
    """The dataset plus the monitor definition in ``monitors/``."""
    from monitoring.definition import load_text

    text = MONITOR_YAML
    definition_store().put(load_text(text, "test"), text)
    return fraud_data


def user_function(bp: df.Blueprint, name: str) -> Callable[..., Any]:
    """The code of a blueprint's function as the worker calls it; for a function with a Durable client
    binding, the code under the SDK's wrapper, so a test can pass its own client."""
    app = df.DFApp()
    app.register_functions(bp)
    function = next(f for f in app.get_functions() if f.get_function_name() == name)
    code = function.get_user_function()
    return getattr(code, "client_function", code)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()
