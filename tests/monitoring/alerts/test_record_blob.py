"""alert.json on Blob Storage (Azurite): the record's conditional writes stop a racing second attempt.

Why a real emulator: "only one of two concurrent attempts gets past `sending`" rests on the service's
ETag conditions, which a mock would only restate.
"""

from __future__ import annotations

import email
import uuid
from email import policy
from typing import Any

import pytest

from monitoring.alerts import deliver_alerts
from monitoring.errors import WriteConflict
from monitoring.storage.blob import BlobStore
from tests.azurite import Azurite, azurite  # noqa: F401 - the session fixture, re-exported for these tests
from tests.monitoring.alerts.conftest import MakeRun, Sleeps
from tests.monitoring.alerts.fakes import FakeWebhook

pytestmark = pytest.mark.azurite

RUN_ID = "20261128T0315Z"
INSTANCE = "fraud-detection-demo-20261128T0315Z"
AMOUNT = ("data-drift", "amount", "normalized_wasserstein_distance")
HOOKED = {"emails": ["ml-team@example.com"], "webhooks": [{"setting": "OPS_WEBHOOK_URL", "format": "json"}]}


@pytest.fixture
def container(azurite: Azurite) -> Any:  # noqa: F811
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.create_container(f"results-{uuid.uuid4().hex[:12]}")
    yield client
    client.delete_container()
    service.close()


def test_the_eml_and_the_record_live_with_the_run(container: Any, make_run: MakeRun, sleeps: Sleeps) -> None:
    store = BlobStore(container)
    record = deliver_alerts(make_run(RUN_ID, breaches=[AMOUNT]), {"emails": ["ml-team@example.com"]}, store,
                            instance_id=INSTANCE, sleep=sleeps)
    assert record["channels"]["email"]["transport"] == "store"
    message = email.message_from_bytes(store.read_bytes(f"fraud-detection-demo/{RUN_ID}/alert.eml") or b"",
                                       policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    again = deliver_alerts(make_run(RUN_ID, breaches=[AMOUNT]), {"emails": ["ml-team@example.com"]},
                           BlobStore(container), instance_id=INSTANCE, sleep=sleeps)
    assert again["channels"]["email"]["attempts"] == 1


def test_a_racing_attempt_loses_before_it_sends(container: Any, monkeypatch: pytest.MonkeyPatch,
                                                webhook_server: FakeWebhook, make_run: MakeRun,
                                                sleeps: Sleeps) -> None:
    monkeypatch.setenv("OPS_WEBHOOK_URL", webhook_server.url("ops"))
    run = make_run(RUN_ID, breaches=[AMOUNT])

    class ReadsThenStalls(BlobStore):
        """Reads alert.json, then lets another host deliver the whole alert before it goes on."""

        raced = False

        def read_bytes(self, path: str) -> bytes | None:
            data = super().read_bytes(path)
            if path.endswith("alert.json") and not self.raced:
                self.raced = True
                deliver_alerts(run, HOOKED, BlobStore(container), instance_id=INSTANCE, sleep=sleeps)
            return data

    with pytest.raises(WriteConflict):
        deliver_alerts(run, HOOKED, ReadsThenStalls(container), instance_id=INSTANCE, sleep=sleeps)
    assert len(webhook_server.posts) == 1

    retried = deliver_alerts(run, HOOKED, BlobStore(container), instance_id=INSTANCE, sleep=sleeps)
    assert retried["status"] == "sent"
    assert len(webhook_server.posts) == 1
