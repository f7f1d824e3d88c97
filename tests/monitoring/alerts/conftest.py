"""Fixtures of the alert tests: a clean environment, runs derived from the demo's run.json, loopback servers."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitoring.storage.base import write_json
from monitoring.storage.local import LocalStore
from tests.monitoring.alerts.fakes import FakeAcs, FakeWebhook, LoopbackTLS, make_tls

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ALERT_SETTINGS = ("ACS_ENDPOINT", "ACS_SENDER_ADDRESS", "ACS_CONNECTION_STRING", "ALERT_DEFAULT_RECIPIENTS",
                  "REPORT_URL_PATTERN", "MONITORING_OUTBOX")
MONITOR = "fraud-detection-demo"
SENDER = "DoNotReply@alerts.example.com"
Key = tuple[str, str, str]
MakeRun = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No alert setting leaks in from the machine; loopback traffic never goes through a proxy."""
    for name in ALERT_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def demo_run_document() -> dict[str, Any]:
    """The run.json of `python -m monitoring demo` (drift in amount, merchant_category, device_type)."""
    return json.loads((FIXTURES / "run.json").read_text())


def derive_run(template: Mapping[str, Any], run_id: str, *, breaches: Mapping[Key, float] | Iterable[Key] = (),
               failed: Iterable[str] = (), disabled: Iterable[str] = ()) -> dict[str, Any]:
    """The demo run moved to ``run_id`` with exactly ``breaches`` breached (key -> value, or keys alone).

    Every other thresholded metric is set safely inside its threshold; ``failed`` signals fail with a
    reason; ``disabled`` signals get ``alert_enabled: false``.
    """
    run = copy.deepcopy(dict(template))
    fire = datetime.strptime(run_id, "%Y%m%dT%H%MZ")
    run["run_id"] = run_id
    run["fire_time"] = fire.strftime("%Y-%m-%dT%H:%M:00Z")
    wanted = dict(breaches) if isinstance(breaches, Mapping) else dict.fromkeys(breaches)
    for name, sig in run["signals"].items():
        for feature, fr in sig["features"].items():
            for metric, mr in fr["metrics"].items():
                if mr["threshold"] is None:
                    continue
                key = (name, feature, metric)
                below = mr["direction"] == "greater_is_better"
                if key in wanted:
                    value = wanted.pop(key)
                    mr["value"] = value if value is not None else mr["threshold"] * (0.5 if below else 3.0)
                    mr["breached"] = True
                else:
                    mr["value"] = mr["threshold"] * (2.0 if below else 0.5)
                    mr["breached"] = False
            fr["breached"] = any(m["breached"] for m in fr["metrics"].values())
        sig["breached"] = any(f["breached"] for f in sig["features"].values())
    assert not wanted, f"no thresholded metric {sorted(wanted)} in the demo run"
    for name in failed:
        run["signals"][name].update(status="failed", error="DataError: the production window has no readable file",
                                    breached=False, features={})
    for name in disabled:
        run["signals"][name]["alert_enabled"] = False
    run["breached"] = any(s["breached"] and s.get("alert_enabled", True) for s in run["signals"].values())
    return run


@pytest.fixture
def make_run(demo_run_document: dict[str, Any]) -> MakeRun:
    """``make_run("20261128T0315Z", breaches=..., failed=...)``: see ``derive_run``."""
    return lambda run_id, **kw: derive_run(demo_run_document, run_id, **kw)


@pytest.fixture
def results(tmp_path: Path) -> LocalStore:
    """A results store laid out like the demo's: <tmp>/results, so the outbox is <tmp>/results/_outbox."""
    return LocalStore(tmp_path / "results")


def write_run(store: LocalStore, run: Mapping[str, Any]) -> None:
    write_json(store, f"{run['monitor']}/{run['run_id']}/run.json", run)


class Sleeps(list[float]):
    """A sleep that records how long it was asked to sleep and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> LoopbackTLS:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trust_tls(monkeypatch: pytest.MonkeyPatch, tls: LoopbackTLS) -> None:
    """Clients trust the test CA: requests (azure-core) via REQUESTS_CA_BUNDLE, urllib via SSL_CERT_FILE."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))


@pytest.fixture
def acs(tls: LoopbackTLS, trust_tls: None) -> Iterator[FakeAcs]:
    with FakeAcs(tls) as server:
        yield server


@pytest.fixture
def acs_env(monkeypatch: pytest.MonkeyPatch, acs: FakeAcs) -> FakeAcs:
    """ACS configured the local way: a connection string to the fake, and a sender address."""
    monkeypatch.setenv("ACS_CONNECTION_STRING", acs.connection_string())
    monkeypatch.setenv("ACS_SENDER_ADDRESS", SENDER)
    return acs


@pytest.fixture
def webhook_server(tls: LoopbackTLS, trust_tls: None) -> Iterator[FakeWebhook]:
    with FakeWebhook(tls) as server:
        yield server
