"""The Durable extension's management API in memory: a real ``DurableOrchestrationClient`` for the tests.

Split from ``tests.durable_harness`` (which replays orchestrations); an orchestration started through the
client runs in a ``DurableHarness`` when one is given.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlparse

import azure.durable_functions as df
from azure.durable_functions.constants import DATETIME_STRING_FORMAT

from tests.durable_harness import DurableHarness, OrchestrationResult


class FakeDurableExtension:
    """The extension's management API (start and status) in memory, for the functions that use a client.

    ``client()`` is a real ``DurableOrchestrationClient`` built from binding data like the host's, with only
    its two HTTP calls replaced: the SDK's URL building, status parsing and response helpers all run. An
    orchestration started through it runs to completion in ``harness`` when one is given, else stays
    ``Pending``. A start for an instance that is pending or running is refused like the extension does.
    """

    RPC = "http://127.0.0.1:17071/durabletask/"
    WEBHOOK = "http://localhost:7071/runtime/webhooks/durabletask/instances/INSTANCEID"

    def __init__(self, harness: DurableHarness | None = None) -> None:
        self.harness = harness
        self.instances: dict[str, dict[str, Any]] = {}
        self.starts: list[tuple[str, str, Any]] = []
        self.results: dict[str, OrchestrationResult] = {}

    def client(self) -> df.DurableOrchestrationClient:
        urls = {"id": "INSTANCEID", "statusQueryGetUri": f"{self.WEBHOOK}?code=KEY",
                "sendEventPostUri": f"{self.WEBHOOK}/raiseEvent/{{eventName}}?code=KEY",
                "terminatePostUri": f"{self.WEBHOOK}/terminate?reason={{text}}&code=KEY",
                "rewindPostUri": f"{self.WEBHOOK}/rewind?reason={{text}}&code=KEY",
                "purgeHistoryDeleteUri": f"{self.WEBHOOK}?code=KEY",
                "restartPostUri": f"{self.WEBHOOK}/restart?code=KEY"}
        bindings = {"taskHubName": "test", "creationUrls": {}, "managementUrls": urls, "rpcBaseUrl": self.RPC}
        client = df.DurableOrchestrationClient(json.dumps(bindings))
        client._get_async_request = self._get
        client._post_async_request = self._post
        return client

    def set_instance(self, instance_id: str, runtime_status: str, **fields: Any) -> None:
        """Pretend the extension already has an instance (e.g. a running or completed one)."""
        now = datetime.now(UTC).strftime(DATETIME_STRING_FORMAT)
        self.instances[instance_id] = {"name": "monitor_run", "instanceId": instance_id, "createdTime": now,
                                       "lastUpdatedTime": now, "runtimeStatus": runtime_status, **fields}

    async def _get(self, url: str, function_invocation_id: str | None = None) -> list[Any]:
        path = urlparse(url).path
        instance_id = unquote(path.split("/instances/", 1)[1]) if "/instances/" in path else ""
        record = self.instances.get(instance_id)
        return [200, record] if record is not None else [404, ""]

    async def _post(self, url: str, data: Any = None, trace_parent: str | None = None, trace_state: str | None = None,
                    function_invocation_id: str | None = None) -> list[Any]:
        name, _, instance_id = urlparse(url).path.split("/orchestrators/", 1)[1].partition("/")
        instance_id = unquote(instance_id)
        existing = self.instances.get(instance_id)
        if existing is not None and existing["runtimeStatus"] in ("Pending", "Running"):
            return [409, f"An Orchestration instance with the status {existing['runtimeStatus']} already exists."]
        input_ = json.loads(data) if isinstance(data, str) else data
        self.starts.append((name, instance_id, input_))
        self.set_instance(instance_id, "Pending", name=name, input=input_)
        if self.harness is not None:
            result = self.harness.run(name, instance_id, input_)
            self.results[instance_id] = result
            self.instances[instance_id].update(runtimeStatus=result.status, output=result.output,
                                               customStatus=result.custom_status)
        return [202, {"id": instance_id}]


__all__ = ["FakeDurableExtension"]
