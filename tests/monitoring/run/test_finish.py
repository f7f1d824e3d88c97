"""Completing a run: the same steps locally and in Durable, and exactly one email per run."""

from __future__ import annotations

import email
import json
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from monitoring.definition import load_file
from monitoring.run.local import run_local
from monitoring.storage.local import LocalStore

FIRE = datetime(2026, 6, 1, 3, 15, tzinfo=UTC)


@pytest.fixture
def demo(demo_folder: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ACS_ENDPOINT", "ACS_CONNECTION_STRING", "MONITORING_OUTBOX", "ALERT_DEFAULT_RECIPIENTS"):
        monkeypatch.delenv(name, raising=False)
    return demo_folder(end=FIRE, rows_per_day=600, training_rows=5000)


def test_rerunning_a_fire_time_sends_no_second_email(demo: Path) -> None:
    store = LocalStore(demo / "results")
    loaded = load_file(demo / "monitor.yaml")
    _, first = run_local(loaded, FIRE, store)
    outbox = sorted((demo / "results" / "_outbox").glob("*.eml"))
    written = outbox[0].stat().st_mtime_ns
    _, again = run_local(loaded, FIRE, store)
    names = [p.name for p in sorted((demo / "results" / "_outbox").glob("*.eml"))]
    assert names == ["fraud-detection-demo-20260601T0315Z.eml"]
    assert outbox[0].stat().st_mtime_ns == written  # not written again
    sent, resent = first["alert"]["channels"]["email"], again["alert"]["channels"]["email"]
    assert sent["status"] == resent["status"] == "sent"
    assert resent["attempts"] == sent["attempts"] == 1
    assert resent["sent_at"] == sent["sent_at"]
    record = json.loads((demo / "results" / "fraud-detection-demo" / "20260601T0315Z" / "alert.json").read_text())
    assert record["instance_id"] == "fraud-detection-demo-20260601T0315Z"
    message = email.message_from_bytes(outbox[0].read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("[fraud-detection-demo]")
    assert message["To"] == "ml-team@example.com"
    assert "amount" in message.get_body(("plain",)).get_content()
    latest = json.loads((demo / "results" / "fraud-detection-demo" / "latest.json").read_text())
    assert latest["run_id"] == "20260601T0315Z"


def test_another_fire_time_is_another_email(demo: Path) -> None:
    store = LocalStore(demo / "results")
    loaded = load_file(demo / "monitor.yaml")
    run_local(loaded, FIRE, store)
    run_local(loaded, datetime(2026, 5, 31, 3, 15, tzinfo=UTC), store)
    assert len(list((demo / "results" / "_outbox").glob("*.eml"))) == 2
    latest = json.loads((demo / "results" / "fraud-detection-demo" / "latest.json").read_text())
    assert latest["run_id"] == "20260601T0315Z"  # an older fire time finishing later does not move latest
