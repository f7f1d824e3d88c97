"""Through the app, a definition reads only the data containers of the data account: refused when applied
over HTTP, and again when a definition that reached ``monitors/`` another way is planned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions import alert_jobs, runs
from monitoring.dispatch.due import RunRequest
from monitoring.names import instance_id
from monitoring.storage import blob
from tests.conftest import MONITOR, MONITOR_YAML, FraudData
from tests.durable_harness import DurableHarness
from tests.functions.test_http_api import _call, _json, _request

pytestmark = pytest.mark.azurite


@pytest.mark.parametrize(("path", "reason"), [
    ("/etc/hostname", "is a local path"),
    ("az://results/other-monitor/", "is in container `results`"),
    ("az://quarantine/fraud/", "is in container `quarantine`"),
    ("abfss://data@someoneelse.dfs.core.windows.net/fraud/", "names another storage account"),
])
def test_apply_and_validate_refuse_a_path_the_app_may_not_read(storage: Any, path: str, reason: str) -> None:
    text = MONITOR_YAML.replace("az://data/fraud/training/", path)
    for route in ("validate_monitor", "apply_monitor"):
        response = _call(route, _request("POST", "monitors" if route == "apply_monitor" else "monitors/validate",
                                          body=text.encode()))
        assert response.status_code == 422
        problems = _json(response)["problems"]
        assert len(problems) == 2  # both signals read the training data
        assert all("`reference_data`" in p and reason in p for p in problems)
    assert list(blob.container_client(blob.MONITORS).list_blobs()) == []


def test_a_definition_dropped_into_monitors_is_refused_at_plan_time(fraud_data: FraudData, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("DB_PASSWORD,x\nhunter2,1\n")
    monkeypatch.setenv("ALERT_DEFAULT_RECIPIENTS", "owners@example.com")
    text = MONITOR_YAML.replace("az://data/fraud/training/", str(secret))
    blob.container_client(blob.MONITORS).upload_blob(f"{MONITOR}.yaml", text)
    request = RunRequest(monitor=MONITOR, fire_time=fraud_data.fire_time).model_dump(mode="json")
    result = DurableHarness([runs.bp, alert_jobs.bp]).run("monitor_run", instance_id(MONITOR, fraud_data.fire_time),
                                                          request)
    assert result.status == "Failed"
    assert "is a local path" in (result.error or "")
    assert "hunter2" not in json.dumps([c.error for c in result.calls]) + (result.error or "")
    assert [c.name for c in result.calls if c.name != "plan_run"] == ["alert_job"]  # nothing computed; owners told
