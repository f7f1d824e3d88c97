"""``python -m monitoring apply FILE`` and ``list`` against Azurite."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from functions import runs
from monitoring.dispatch.due import RunRequest
from monitoring.errors import ConfigurationError, DefinitionError
from monitoring.interfaces.cli_remote import register
from monitoring.names import instance_id, run_id
from monitoring.storage import blob
from monitoring.storage.definitions import definition_store
from tests.azurite import ACCOUNT_KEY
from tests.conftest import MONITOR, MONITOR_YAML, FraudData
from tests.durable_harness import DurableHarness

pytestmark = pytest.mark.azurite


def _main(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="python -m monitoring")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    console = Console(record=True, width=200, file=io.StringIO())
    return args.func(args, console), console.export_text()


def test_apply_uploads_a_valid_definition(storage: Any, tmp_path: Path) -> None:
    file = tmp_path / "monitor.yaml"
    file.write_text(MONITOR_YAML)
    code, output = _main("apply", str(file))
    assert code == 0
    assert f"applied monitor `{MONITOR}`" in output
    assert f"monitors/{MONITOR}.yaml" in output
    stored = blob.container_client(blob.MONITORS).download_blob(f"{MONITOR}.yaml").readall().decode()
    assert stored == MONITOR_YAML


def test_apply_refuses_an_invalid_definition_and_uploads_nothing(storage: Any, tmp_path: Path) -> None:
    file = tmp_path / "monitor.yaml"
    file.write_text(MONITOR_YAML.replace("frequency: day", "frequency: daily"))
    with pytest.raises(DefinitionError) as error:
        _main("apply", str(file))
    assert any("trigger.frequency" in p for p in error.value.problems)
    assert list(blob.container_client(blob.MONITORS).list_blobs()) == []


def test_list_shows_monitors_with_their_last_run(fraud_monitor: FraudData, capsys: pytest.CaptureFixture[str]
                                                 ) -> None:
    blob.container_client(blob.MONITORS).upload_blob("broken.yaml", b"name: broken\ntrigger: {}\n")
    code, output = _main("list")
    assert code == 2  # an invalid definition is worth a non-zero exit in scripts
    assert MONITOR in output
    assert "never" in output
    assert "invalid definition" in output
    request = RunRequest(monitor=MONITOR, fire_time=fraud_monitor.fire_time).model_dump(mode="json")
    DurableHarness([runs.bp], batch=True).run("monitor_run", instance_id(MONITOR, fraud_monitor.fire_time), request)
    capsys.readouterr()
    _main("list", "--json")
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert listed[MONITOR]["last_run"] == run_id(fraud_monitor.fire_time)
    assert listed[MONITOR]["last_status"] == "completed"
    assert listed["broken"]["valid"] is False


def test_a_refused_sign_in_is_a_one_line_error(azurite: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong_key = azurite.connection_string.replace(ACCOUNT_KEY, "d3Jvbmcga2V5")
    monkeypatch.setenv("STORAGE_CONNECTION_STRING", wrong_key)
    blob.service_client.cache_clear()
    definition_store.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="Blob Storage"):
            _main("list")
    finally:
        blob.service_client.cache_clear()
        definition_store.cache_clear()
