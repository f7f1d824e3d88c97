"""Webhooks to a loopback HTTPS receiver: each format's body, retries, failures, and no duplicates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitoring.alerts import AlertDeliveryError, deliver_alerts
from monitoring.alerts.record import channel_key
from monitoring.alerts.webhooks import teams_escape, webhook_url
from monitoring.errors import ConfigurationError
from monitoring.storage.local import LocalStore
from tests.monitoring.alerts.conftest import MakeRun, Sleeps
from tests.monitoring.alerts.fakes import FakeWebhook, Scripted

INSTANCE = "fraud-detection-demo-20261128T0315Z"
RUN_ID = "20261128T0315Z"
AMOUNT = ("data-drift", "amount", "normalized_wasserstein_distance")
DEVICE = ("data-drift", "device_type", "jensen_shannon_distance")
MERCHANT = ("data-drift", "merchant_category", "jensen_shannon_distance")


def _notification(*hooks: tuple[str, str]) -> dict[str, Any]:
    return {"emails": ["ml-team@example.com"], "webhooks": [{"setting": s, "format": f} for s, f in hooks]}


def _deliver(run: dict[str, Any], store: LocalStore, sleeps: Sleeps, *hooks: tuple[str, str],
             **options: Any) -> dict[str, Any]:
    return deliver_alerts(run, _notification(*hooks), store, instance_id=INSTANCE, sleep=sleeps, **options)


@pytest.fixture
def hooks_env(monkeypatch: pytest.MonkeyPatch, webhook_server: FakeWebhook) -> FakeWebhook:
    for name in ("TEAMS_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "OPS_WEBHOOK_URL"):
        monkeypatch.setenv(name, webhook_server.url(name.lower()))
    return webhook_server


def test_teams_gets_an_adaptive_card(hooks_env: FakeWebhook, results: LocalStore, make_run: MakeRun,
                                     sleeps: Sleeps) -> None:
    record = _deliver(make_run(RUN_ID, breaches=[AMOUNT, DEVICE]), results, sleeps, ("TEAMS_WEBHOOK_URL", "teams"))
    [post] = hooks_env.posts
    assert post.path == "/hooks/teams_webhook_url"
    assert post.headers["content-type"].startswith("application/json")
    body = post.json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == teams_escape(record["subject"])  # shown as typed (test_webhook_escaping)
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    assert facts[0] == {"title": teams_escape("data-drift / amount / normalized_wasserstein_distance"),
                        "value": "0.3 (above threshold 0.1)"}
    assert "actions" not in card  # the run's links are local file paths, which Teams cannot open
    channel = record["channels"]["webhook:TEAMS_WEBHOOK_URL:teams"]
    assert (channel["status"], channel["service_status"]) == ("sent", "HTTP 200")


def test_slack_gets_blocks_and_a_text_fallback(hooks_env: FakeWebhook, monkeypatch: pytest.MonkeyPatch,
                                               results: LocalStore, make_run: MakeRun, sleeps: Sleeps) -> None:
    monkeypatch.setenv("REPORT_URL_PATTERN", "https://reports.example.com/{monitor}/{fire_time}/")
    run = make_run(RUN_ID, breaches=[AMOUNT])
    run["signals"]["data-drift"]["features"]["a<b>&c"] = run["signals"]["data-drift"]["features"].pop("amount")
    _deliver(run, results, sleeps, ("SLACK_WEBHOOK_URL", "slack"))
    body = hooks_env.posts[0].json()
    assert body["text"].startswith("[fraud-detection-demo] 1 signal(s) breached")
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "actions", "context"]
    assert "a&lt;b&gt;&amp;c" in body["blocks"][2]["text"]["text"]
    [button] = body["blocks"][3]["elements"]
    assert button["url"] == "https://reports.example.com/fraud-detection-demo/20261128T0315Z/run.json"


def test_json_gets_the_run_summary(hooks_env: FakeWebhook, results: LocalStore, make_run: MakeRun,
                                   sleeps: Sleeps) -> None:
    run = make_run(RUN_ID, breaches={AMOUNT: 0.5, DEVICE: 0.2, MERCHANT: 0.3}, failed=["prediction-drift"])
    record = _deliver(run, results, sleeps, ("OPS_WEBHOOK_URL", "json"))
    post = hooks_env.posts[0]
    body = post.json()
    key = channel_key(INSTANCE, "webhook:OPS_WEBHOOK_URL:json")
    assert post.headers["idempotency-key"] == key
    assert body["schema"] == "monitoring.alert/v1"
    assert body["idempotency_key"] == key
    assert (body["monitor"], body["run_id"], body["instance_id"]) == ("fraud-detection-demo", RUN_ID, INSTANCE)
    assert [(b["feature"], b["value"], b["threshold"]) for b in body["breaches"]] == [
        ("amount", "0.5", "0.1"), ("merchant_category", "0.3", "0.1"), ("device_type", "0.2", "0.1")]
    assert [list(k) for k in ((b["signal"], b["feature"], b["metric"]) for b in body["breaches"])] == \
        record["breached"]
    assert body["failures"][0]["signal"] == "prediction-drift"
    assert body["failures"][0]["error"].startswith("DataError")
    assert {s["signal"] for s in body["signals"]} == {"data-drift", "prediction-drift"}
    assert set(body["links"]) == {"run_json"}


def test_each_webhook_is_posted_once_across_replays(hooks_env: FakeWebhook, results: LocalStore, make_run: MakeRun,
                                                    sleeps: Sleeps) -> None:
    run = make_run(RUN_ID, breaches=[AMOUNT])
    hooks = (("TEAMS_WEBHOOK_URL", "teams"), ("SLACK_WEBHOOK_URL", "slack"), ("OPS_WEBHOOK_URL", "json"))
    for _ in range(3):
        record = _deliver(run, results, sleeps, *hooks)
    assert sorted(p.path for p in hooks_env.posts) == [
        "/hooks/ops_webhook_url", "/hooks/slack_webhook_url", "/hooks/teams_webhook_url"]
    assert record["status"] == "sent"
    assert all(c["attempts"] == 1 for c in record["channels"].values())


def test_a_throttled_post_is_retried_after_retry_after(hooks_env: FakeWebhook, results: LocalStore,
                                                       make_run: MakeRun, sleeps: Sleeps) -> None:
    hooks_env.script.extend([Scripted(429, {"Retry-After": "3"}), Scripted(503)])
    record = _deliver(make_run(RUN_ID, breaches=[AMOUNT]), results, sleeps, ("OPS_WEBHOOK_URL", "json"))
    assert record["channels"]["webhook:OPS_WEBHOOK_URL:json"]["status"] == "sent"
    assert len(hooks_env.posts) == 3
    assert sleeps == [3.0, 2.0]  # the server's Retry-After, then backoff


def test_a_refused_post_fails_alone_and_is_retried_next_attempt(hooks_env: FakeWebhook, results: LocalStore,
                                                                make_run: MakeRun, sleeps: Sleeps) -> None:
    hooks_env.script.append(Scripted(400, {}, {"error": "bad card"}))
    run = make_run(RUN_ID, breaches=[AMOUNT])
    with pytest.raises(AlertDeliveryError, match="HTTP 400"):
        _deliver(run, results, sleeps, ("TEAMS_WEBHOOK_URL", "teams"))
    stored = json.loads(results.read_bytes(f"fraud-detection-demo/{RUN_ID}/alert.json") or b"{}")
    assert stored["channels"]["email"]["status"] == "sent"  # a broken webhook never costs the email
    assert stored["channels"]["webhook:TEAMS_WEBHOOK_URL:teams"]["status"] == "failed"
    assert len(hooks_env.posts) == 1  # 400 is not retried

    record = _deliver(run, results, sleeps, ("TEAMS_WEBHOOK_URL", "teams"))
    assert record["status"] == "sent"
    assert record["channels"]["webhook:TEAMS_WEBHOOK_URL:teams"]["attempts"] == 2
    assert len(hooks_env.posts) == 2


def test_a_missing_setting_fails_clearly_and_never_leaks_urls(hooks_env: FakeWebhook, results: LocalStore,
                                                              make_run: MakeRun, sleeps: Sleeps) -> None:
    record = _deliver(make_run(RUN_ID, breaches=[AMOUNT]), results, sleeps, ("MISSING_HOOK", "teams"),
                      ("SLACK_WEBHOOK_URL", "slack"), raise_on_failure=False)
    missing = record["channels"]["webhook:MISSING_HOOK:teams"]
    assert missing["status"] == "failed"
    assert "webhook setting `MISSING_HOOK` is not set" in missing["error"]
    assert record["channels"]["webhook:SLACK_WEBHOOK_URL:slack"]["status"] == "sent"
    stored = (results.read_bytes(f"fraud-detection-demo/{RUN_ID}/alert.json") or b"").decode()
    assert hooks_env.base_url not in stored


@pytest.mark.parametrize(("name", "value", "message"), [
    ("HOOK", "http://hooks.example.com/secret-token", "https:// URL"),
    ("HOOK", "hooks.example.com/secret-token", "https:// URL"),
    ("ACS_ENDPOINT", "https://x.communication.azure.com", "one of the app's own settings"),
    ("9HOOK", "https://hooks.example.com/secret-token", "not an app setting name"),
])
def test_webhook_settings_are_validated(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                        message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message) as raised:
        webhook_url(name)
    assert "secret-token" not in str(raised.value)


def test_a_redirect_is_never_followed(hooks_env: FakeWebhook, results: LocalStore, make_run: MakeRun,
                                      sleeps: Sleeps, tls: Any, trust_tls: None) -> None:
    from tests.monitoring.alerts.fakes import FakeWebhook as Sink

    with Sink(tls) as elsewhere:
        for status in (301, 302, 307, 308):
            hooks_env.script.append(Scripted(status, {"Location": elsewhere.url("stolen")}))
        run = make_run(RUN_ID, breaches=[AMOUNT])
        with pytest.raises(AlertDeliveryError, match="HTTP 30"):
            _deliver(run, results, sleeps, ("OPS_WEBHOOK_URL", "json"))
        assert elsewhere.requests == []  # the alert JSON never went to the redirect target
