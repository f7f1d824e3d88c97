"""The local outbox: a standard MIME .eml per run that Python's email package (and mail clients) read."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from monitoring.alerts import deliver_alerts
from monitoring.alerts.record import operation_id
from monitoring.storage.local import LocalStore
from tests.monitoring.alerts.conftest import MakeRun, Sleeps

INSTANCE = "fraud-detection-demo-20261128T0315Z"
RUN_ID = "20261128T0315Z"
AMOUNT = ("data-drift", "amount", "normalized_wasserstein_distance")
TEAM = {"emails": ["ml-team@example.com", "lead@example.com"]}


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_outbox_holds_one_mime_message_with_both_bodies(tmp_path: Path, results: LocalStore,
                                                            make_run: MakeRun, sleeps: Sleeps) -> None:
    record = deliver_alerts(make_run(RUN_ID, breaches=[AMOUNT]), TEAM, results, instance_id=INSTANCE, sleep=sleeps)
    file = tmp_path / "results" / "_outbox" / f"fraud-detection-demo-{RUN_ID}.eml"
    email_channel = record["channels"]["email"]
    assert (email_channel["transport"], email_channel["location"]) == ("outbox", str(file))

    message = _parse(file)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "[fraud-detection-demo] 1 signal(s) breached - 2026-11-28 03:15 UTC"
    assert message["To"] == "ml-team@example.com, lead@example.com"
    assert message["Message-ID"] == f"<{operation_id(INSTANCE)}@localhost.invalid>"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "normalized_wasserstein_distance" in text.get_content()
    assert "2026-11-21 03:15 to 2026-11-28 03:15 UTC" in text.get_content()
    assert "20,936 / 50,000" in html.get_content()
    assert "<script" not in html.get_content()


def test_redelivery_rewrites_nothing_and_the_sender_setting_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                    results: LocalStore, make_run: MakeRun,
                                                                    sleeps: Sleeps) -> None:
    monkeypatch.setenv("ACS_SENDER_ADDRESS", "DoNotReply@alerts.example.com")  # no endpoint: still the outbox
    run = make_run(RUN_ID, breaches=[AMOUNT])
    first = deliver_alerts(run, TEAM, results, instance_id=INSTANCE, sleep=sleeps)
    file = Path(first["channels"]["email"]["location"])
    stamp = file.stat().st_mtime_ns
    again = deliver_alerts(run, TEAM, results, instance_id=INSTANCE, sleep=sleeps)
    assert again["channels"]["email"]["attempts"] == 1
    assert file.stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "results" / "_outbox").iterdir()] == [file.name]
    assert _parse(file)["From"] == "DoNotReply@alerts.example.com"


def test_monitoring_outbox_overrides_the_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                results: LocalStore, make_run: MakeRun, sleeps: Sleeps) -> None:
    monkeypatch.setenv("MONITORING_OUTBOX", str(tmp_path / "mail"))
    record = deliver_alerts(make_run(RUN_ID, breaches=[AMOUNT]), TEAM, results, instance_id=INSTANCE, sleep=sleeps)
    assert record["channels"]["email"]["location"] == str(tmp_path / "mail" / f"fraud-detection-demo-{RUN_ID}.eml")


class MemoryStore:
    """A store that is not a local folder, like Blob Storage."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def read_bytes(self, path: str) -> bytes | None:
        return self.files.get(path)

    def write_bytes(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        self.files[path] = data

    def list(self, prefix: str) -> list[str]:
        return sorted(p for p in self.files if p.startswith(prefix))

    def location(self, path: str) -> str:
        return f"https://account.blob.core.windows.net/results/{path}"


def test_a_remote_store_keeps_the_eml_with_the_run(make_run: MakeRun, sleeps: Sleeps) -> None:
    store = MemoryStore()
    record: dict[str, Any] = deliver_alerts(make_run(RUN_ID, breaches=[AMOUNT]), TEAM, store, instance_id=INSTANCE,
                                            sleep=sleeps)
    path = f"fraud-detection-demo/{RUN_ID}/alert.eml"
    assert record["channels"]["email"]["transport"] == "store"
    assert record["channels"]["email"]["location"] == store.location(path)
    message = email.message_from_bytes(store.files[path], policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert f"fraud-detection-demo/{RUN_ID}/alert.json" in store.files


def test_an_unwritable_outbox_is_a_recorded_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   results: LocalStore, make_run: MakeRun, sleeps: Sleeps) -> None:
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("MONITORING_OUTBOX", str(tmp_path / "not-a-folder"))
    record = deliver_alerts(make_run(RUN_ID, breaches=[AMOUNT]), TEAM, results, instance_id=INSTANCE, sleep=sleeps,
                            raise_on_failure=False)
    assert record["channels"]["email"]["status"] == "failed"
    assert "set MONITORING_OUTBOX to a writable folder" in record["channels"]["email"]["error"]
