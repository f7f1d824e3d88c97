"""``monitor_run`` through the Durable SDK, against Azurite behind a fault-injecting loopback proxy.

Storage answers 503 to some requests, applies some writes and then drops the connection before the answer
(so the client retries a write that already happened), and is slow to answer others. Every run must still
complete with exactly one email and every history row once: the Azure SDK retries 503s and lost
answers, a retried conditional write that already landed comes back as a conflict and ``finish_step``
reads again and rewrites, alert.json keeps the email to one send. The policies are deterministic (by
request number and path), so a failure reproduces.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache
from typing import Any

import polars as pl
import pytest

from functions import alert_jobs, runs
from monitoring.dispatch.due import RunRequest
from monitoring.names import instance_id, run_id
from monitoring.storage import blob
from tests.azurite import ACCOUNT, ACCOUNT_KEY
from tests.conftest import MONITOR, FraudData, _clear_caches
from tests.durable_harness import DurableHarness
from tests.faults.proxy import Action, FaultProxy, Policy
from tests.monitoring.alerts.conftest import acs, acs_env, clean_env, tls, trust_tls  # noqa: F401 - fixtures
from tests.monitoring.alerts.fakes import FakeAcs

pytestmark = pytest.mark.azurite


def faulty(*, every_503: int = 5, every_delay: int = 7, delay_s: float = 0.2,
           drop_first_put_of: tuple[str, ...] = ("/history.parquet", "/alert.json", "/latest.json")) -> Policy:
    """503 for every ``every_503``-th request, a delay for every ``every_delay``-th, and the first PUT of
    each named document applied and then left unanswered."""
    dropped: set[str] = set()

    def policy(number: int, method: str, path: str) -> Action:
        bare = path.split("?", 1)[0]
        if method == "PUT":
            for suffix in drop_first_put_of:
                if bare.endswith(suffix) and bare not in dropped:
                    dropped.add(bare)
                    return "drop"
        if number % every_503 == 0:
            return "503"
        if number % every_delay == 0:
            return ("delay", delay_s)
        return "pass"

    return policy


@contextmanager
def through(proxy: FaultProxy) -> Iterator[None]:
    """Every storage client of the app (the SDK's and polars') goes through ``proxy``, with quick retries."""
    import os

    from azure.storage.blob import BlobServiceClient

    connection = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                  f"BlobEndpoint=http://127.0.0.1:{proxy.port}/{ACCOUNT};")

    @lru_cache(maxsize=8)
    def quick(connection_string: str | None = None, account: str | None = None) -> BlobServiceClient:
        return BlobServiceClient.from_connection_string(connection_string or connection, initial_backoff=0.05,
                                                        increment_base=0, random_jitter_range=0, retry_total=8)

    original, saved = blob.service_client, os.environ.get("STORAGE_CONNECTION_STRING")
    os.environ["STORAGE_CONNECTION_STRING"] = connection
    blob.service_client = quick  # type: ignore[assignment]
    _clear_caches()
    try:
        yield
    finally:
        blob.service_client = original
        if saved is not None:
            os.environ["STORAGE_CONNECTION_STRING"] = saved
        _clear_caches()


def _run(fire: Any) -> Any:
    request = RunRequest(monitor=MONITOR, fire_time=fire).model_dump(mode="json")
    return DurableHarness([runs.bp, alert_jobs.bp]).run("monitor_run", instance_id(MONITOR, fire), request)


def _metric_rows(run: dict[str, Any]) -> int:
    return sum(len(fr["metrics"]) for s in run["signals"].values() for fr in s.get("features", {}).values())


def test_runs_under_503s_lost_answers_and_delays_complete_once_with_every_row(
        fraud_monitor: FraudData, acs_env: FakeAcs) -> None:  # noqa: F811
    fires = [fraud_monitor.fire_time - timedelta(days=d) for d in (1, 0)]
    with FaultProxy(fraud_monitor_host(), fraud_monitor_port(), faulty()) as proxy, through(proxy):
        results = [_run(fire) for fire in fires]
    assert [r.status for r in results] == ["Completed"] * 2, [r.error for r in results]
    assert proxy.seen.count("503") > 10
    # history.parquet and latest.json once, each run's alert.json once: writes applied and left unanswered
    assert proxy.seen.count("drop") == 4
    assert proxy.seen.count("delay") > 5
    assert max(a[0] for a in proxy.seen.actions) < 2_000  # bounded: retries converge, nothing loops

    store = blob.results_store()
    runs_ = [json.loads(store.read_bytes(f"{MONITOR}/{run_id(f)}/run.json") or b"{}") for f in fires]
    history = pl.read_parquet(io.BytesIO(store.read_bytes(f"{MONITOR}/history.parquet") or b""))
    assert history.height == sum(_metric_rows(r) for r in runs_)  # no row lost, none twice
    assert history.group_by("fire_time").len().height == 2
    assert len(acs_env.sends) == 2  # one email per run
    assert acs_env.duplicate_posts == 0
    for fire in fires:
        record = json.loads(store.read_bytes(f"{MONITOR}/{run_id(fire)}/alert.json") or b"{}")
        assert record["channels"]["email"]["status"] == "sent"
        assert record["channels"]["email"]["attempts"] == 1
    latest = json.loads(store.read_bytes(f"{MONITOR}/latest.json") or b"{}")
    assert latest["run_id"] == run_id(fires[-1])


def test_a_rerun_of_a_fire_time_under_faults_sends_nothing_again(fraud_monitor: FraudData,
                                                                 acs_env: FakeAcs) -> None:  # noqa: F811
    fire = fraud_monitor.fire_time
    assert _run(fire).status == "Completed"
    with FaultProxy(fraud_monitor_host(), fraud_monitor_port(), faulty(every_503=3)) as proxy, through(proxy):
        again = _run(fire)
    assert again.status == "Completed", again.error
    assert proxy.seen.count("503") > 10
    assert len(acs_env.sends) == 1
    history = pl.read_parquet(io.BytesIO(blob.results_store().read_bytes(f"{MONITOR}/history.parquet") or b""))
    run = json.loads(blob.results_store().read_bytes(f"{MONITOR}/{run_id(fire)}/run.json") or b"{}")
    assert history.height == _metric_rows(run)


def fraud_monitor_host() -> str:
    return "127.0.0.1"


def fraud_monitor_port() -> int:
    import os

    endpoint = dict(p.split("=", 1) for p in os.environ["STORAGE_CONNECTION_STRING"].split(";") if "=" in p)
    return int(endpoint["BlobEndpoint"].split(":")[2].split("/")[0])
