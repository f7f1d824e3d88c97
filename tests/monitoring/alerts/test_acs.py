"""The ACS channel against a loopback server speaking the Email REST protocol as the SDK uses it.

Every test goes through ``deliver_alerts`` with real settings and the real azure-communication-email
client; the fake checks the HMAC signature (or the Bearer token) of each request, so a wrong path,
header or signature fails here as it would against Azure.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitoring.alerts import AlertDeliveryError, deliver_alerts
from monitoring.alerts.acs import ACS_API_VERSION, acs_config
from monitoring.alerts.record import operation_id
from monitoring.errors import ConfigurationError
from monitoring.storage.local import LocalStore
from tests.monitoring.alerts.conftest import SENDER, MakeRun, Sleeps
from tests.monitoring.alerts.fakes import FakeAcs, Scripted

INSTANCE = "fraud-detection-demo-20261128T0315Z"
RUN_ID = "20261128T0315Z"
AMOUNT = ("data-drift", "amount", "normalized_wasserstein_distance")
DEVICE = ("data-drift", "device_type", "jensen_shannon_distance")
TEAM = {"emails": ["ml-team@example.com", "On-Call@example.com", "on-call@example.com"]}


def _deliver(run: dict[str, Any], store: LocalStore, sleeps: Sleeps, **options: Any) -> dict[str, Any]:
    return deliver_alerts(run, TEAM, store, instance_id=INSTANCE, sleep=sleeps, **options)


def _alert_json(store: LocalStore) -> dict[str, Any]:
    return json.loads(store.read_bytes(f"fraud-detection-demo/{RUN_ID}/alert.json") or b"null")


def test_one_send_with_the_digest_content(acs_env: FakeAcs, results: LocalStore, make_run: MakeRun,
                                          sleeps: Sleeps) -> None:
    record = _deliver(make_run(RUN_ID, breaches=[AMOUNT, DEVICE]), results, sleeps)

    [send] = acs_env.sends
    assert send.path == "/emails:send"
    assert send.query["api-version"] == [ACS_API_VERSION]
    assert send.headers["operation-id"] == operation_id(INSTANCE)
    assert send.headers["authorization"].startswith("HMAC-SHA256 ")
    message = send.json()
    assert message["senderAddress"] == SENDER
    assert message["recipients"] == {"to": [{"address": "ml-team@example.com"}, {"address": "On-Call@example.com"}]}
    assert message["content"]["subject"] == "[fraud-detection-demo] 1 signal(s) breached - 2026-11-28 03:15 UTC"
    assert "amount" in message["content"]["plainText"]
    assert "<table" in message["content"]["html"]
    assert message["userEngagementTrackingDisabled"] is True
    polls = [r for r in acs_env.requests if r.method == "GET"]
    assert [r.path for r in polls] == [f"/emails/operations/{operation_id(INSTANCE)}"] * 2  # Running, Succeeded
    assert sleeps == [1.0]  # the Retry-After of the Running poll, not the SDK's 30 s default

    email = record["channels"]["email"]
    assert (record["status"], email["status"], email["transport"]) == ("sent", "sent", "acs")
    assert email["service_status"] == "Succeeded"
    assert email["operation_id"] == operation_id(INSTANCE)
    assert email["recipients"] == ["ml-team@example.com", "On-Call@example.com"]
    assert _alert_json(results) == record


def test_retries_and_replays_never_send_twice(acs_env: FakeAcs, results: LocalStore, make_run: MakeRun,
                                              sleeps: Sleeps) -> None:
    run = make_run(RUN_ID, breaches=[AMOUNT])
    first = _deliver(run, results, sleeps)
    for _ in range(3):  # a retried activity, a replay, a re-run of the same fire time
        again = _deliver(run, results, sleeps)
    assert len(acs_env.posts) == 1
    assert acs_env.duplicate_posts == 0
    assert again["channels"]["email"]["attempts"] == 1
    assert again["channels"]["email"]["sent_at"] == first["channels"]["email"]["sent_at"]


def test_a_429_is_retried_after_its_retry_after(acs_env: FakeAcs, results: LocalStore, make_run: MakeRun,
                                                sleeps: Sleeps) -> None:
    acs_env.script.append(Scripted(429, {"Retry-After": "7"}, {"error": {"code": "TooManyRequests",
                                                                          "message": "slow down"}}))
    record = _deliver(make_run(RUN_ID, breaches=[AMOUNT]), results, sleeps)
    assert record["channels"]["email"]["status"] == "sent"
    assert len(acs_env.posts) == 2
    assert len(acs_env.sends) == 1
    assert sleeps[0] == 7.0


def test_a_failed_operation_is_recorded_and_resent_under_a_new_id(acs_env: FakeAcs, results: LocalStore,
                                                                  make_run: MakeRun, sleeps: Sleeps) -> None:
    acs_env.outcomes.append("Failed")
    run = make_run(RUN_ID, breaches=[AMOUNT])
    with pytest.raises(AlertDeliveryError, match="EmailDroppedAllRecipientsSuppressed") as raised:
        _deliver(run, results, sleeps)
    failed = _alert_json(results)["channels"]["email"]
    assert failed["status"] == "failed"
    assert "all recipients suppressed" in failed["error"]
    assert raised.value.record["status"] == "failed"

    record = _deliver(run, results, sleeps)  # the next attempt: checks the old operation, then resends
    email = record["channels"]["email"]
    assert (email["status"], email["generation"], email["attempts"]) == ("sent", 1, 2)
    assert [s.headers["operation-id"] for s in acs_env.sends] == [operation_id(INSTANCE), operation_id(INSTANCE, 1)]
    assert _deliver(run, results, sleeps)["channels"]["email"]["attempts"] == 2
    assert len(acs_env.sends) == 2


def test_a_crash_between_send_and_record_does_not_resend(acs_env: FakeAcs, tmp_path: Any, make_run: MakeRun,
                                                         sleeps: Sleeps) -> None:
    class CrashAfterSend(LocalStore):
        """Dies writing the first "sent" record, as a host killed right after the send would."""

        crashed = False

        def write_bytes(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
            if path.endswith("alert.json") and b'"status": "sent"' in data and not self.crashed:
                CrashAfterSend.crashed = True
                raise SystemExit("host stopped")
            super().write_bytes(path, data, content_type=content_type)

    store = CrashAfterSend(tmp_path / "results")
    run = make_run(RUN_ID, breaches=[AMOUNT])
    with pytest.raises(SystemExit):
        _deliver(run, store, sleeps)
    assert _alert_json(store)["channels"]["email"]["status"] == "sending"

    record = _deliver(run, store, sleeps)
    assert record["channels"]["email"]["status"] == "sent"
    assert len(acs_env.posts) == 1
    status_checks = [r for r in acs_env.requests if r.method == "GET"]
    assert len(status_checks) == 3  # two polls of the first attempt, one check by the second


def test_a_throttle_longer_than_the_budget_fails_fast_and_is_retried(acs_env: FakeAcs, results: LocalStore,
                                                                     make_run: MakeRun, sleeps: Sleeps) -> None:
    acs_env.script.append(Scripted(429, {"Retry-After": "3600"}))
    run = make_run(RUN_ID, breaches=[AMOUNT])
    with pytest.raises(AlertDeliveryError, match="3600"):
        _deliver(run, results, sleeps, max_wait=60)
    assert sleeps == []
    assert acs_env.sends == []

    record = _deliver(run, results, sleeps, max_wait=60)
    assert record["channels"]["email"]["status"] == "sent"
    assert [s.headers["operation-id"] for s in acs_env.sends] == [operation_id(INSTANCE)]


def test_persistent_5xx_is_recorded_then_retried_next_attempt(acs_env: FakeAcs, results: LocalStore,
                                                              make_run: MakeRun, sleeps: Sleeps) -> None:
    acs_env.script.extend([Scripted(503, {"Retry-After": "1"})] * 4)  # the first try and azure-core's 3 status retries
    run = make_run(RUN_ID, breaches=[AMOUNT])
    record = _deliver(run, results, sleeps, raise_on_failure=False)
    assert record["status"] == "failed"
    assert "503" in record["channels"]["email"]["error"]
    assert sleeps == [1.0] * 3

    record = _deliver(run, results, sleeps, raise_on_failure=False)
    assert record["status"] == "sent"
    assert len(acs_env.sends) == 1


def test_a_409_for_a_known_operation_counts_as_sent(acs_env: FakeAcs, results: LocalStore, make_run: MakeRun,
                                                    sleeps: Sleeps) -> None:
    acs_env.script.append(Scripted(409, {}, {"error": {"code": "Conflict", "message": "operation exists"}}))
    acs_env.operations[operation_id(INSTANCE)] = {"request": None, "message": {}, "final": "Succeeded", "polls": 1}
    record = _deliver(make_run(RUN_ID, breaches=[AMOUNT]), results, sleeps)
    assert record["channels"]["email"]["status"] == "sent"


def test_a_wrong_key_is_a_clear_failure(acs_env: FakeAcs, monkeypatch: pytest.MonkeyPatch, results: LocalStore,
                                        make_run: MakeRun, sleeps: Sleeps) -> None:
    monkeypatch.setenv("ACS_CONNECTION_STRING", acs_env.connection_string(key="d3Jvbmcta2V5"))
    with pytest.raises(AlertDeliveryError, match=r"HTTP 401\): Denied: .*check the key"):
        _deliver(make_run(RUN_ID, breaches=[AMOUNT]), results, sleeps)
    assert acs_env.sends == []


def test_managed_identity_sends_a_bearer_token(acs: FakeAcs, monkeypatch: pytest.MonkeyPatch, results: LocalStore,
                                               make_run: MakeRun, sleeps: Sleeps) -> None:
    from azure.core.credentials import AccessToken

    class Credential:
        """DefaultAzureCredential as the app's managed identity would behave."""

        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            assert scopes == ("https://communication.azure.com//.default",)
            return AccessToken(acs.bearer_token, 4102444800)

        def close(self) -> None:
            return None

        def __enter__(self) -> Credential:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr("azure.identity.DefaultAzureCredential", Credential)
    monkeypatch.setenv("ACS_ENDPOINT", acs.base_url)
    monkeypatch.setenv("ACS_SENDER_ADDRESS", SENDER)
    record = _deliver(make_run(RUN_ID, breaches=[AMOUNT]), results, sleeps)
    assert record["channels"]["email"]["status"] == "sent"
    assert acs.sends[0].headers["authorization"] == f"Bearer {acs.bearer_token}"


@pytest.mark.parametrize(("env", "message"), [
    ({"ACS_ENDPOINT": "http://x.communication.azure.com", "ACS_SENDER_ADDRESS": SENDER}, "https://"),
    ({"ACS_CONNECTION_STRING": "endpoint=http://127.0.0.1:9/;accesskey=a2V5", "ACS_SENDER_ADDRESS": SENDER},
     "https://"),
    ({"ACS_CONNECTION_STRING": "accesskey=a2V5", "ACS_SENDER_ADDRESS": SENDER}, "endpoint=https://"),
    ({"ACS_ENDPOINT": "https://x.communication.azure.com"}, "ACS_SENDER_ADDRESS"),
    ({"ACS_ENDPOINT": "https://x.communication.azure.com", "ACS_SENDER_ADDRESS": SENDER,
      "ACS_CONNECTION_STRING": "endpoint=https://y.communication.azure.com/;accesskey=a2V5"}, "only one"),
])
def test_configuration_errors_name_the_setting_and_never_the_key(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message) as raised:
        acs_config()
    assert "a2V5" not in str(raised.value)


def test_a_configuration_error_is_recorded_on_the_channel(monkeypatch: pytest.MonkeyPatch, results: LocalStore,
                                                          make_run: MakeRun, sleeps: Sleeps) -> None:
    monkeypatch.setenv("ACS_ENDPOINT", "http://plain.communication.azure.com")
    monkeypatch.setenv("ACS_SENDER_ADDRESS", SENDER)
    record = _deliver(make_run(RUN_ID, breaches=[AMOUNT]), results, sleeps, raise_on_failure=False)
    assert record["channels"]["email"]["status"] == "failed"
    assert "ACS_ENDPOINT must be an https:// endpoint" in record["channels"]["email"]["error"]


def test_connection_string_without_scheme_defaults_to_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACS_CONNECTION_STRING", "endpoint=x.communication.azure.com;accesskey=a2V5")
    monkeypatch.setenv("ACS_SENDER_ADDRESS", SENDER)
    config = acs_config()
    assert config is not None
    assert config.endpoint == "https://x.communication.azure.com"
    assert "a2V5" not in repr(config)
