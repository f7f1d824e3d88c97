"""host.json holds the Durable Functions settings the docs recommend for Flex Consumption.

Each test names the doc its rule comes from.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2}(?:\.\d+)?)$")


def _host() -> dict[str, Any]:
    return json.loads((REPO / "host.json").read_text(encoding="utf-8"))


def _durable() -> dict[str, Any]:
    return _host().get("extensions", {}).get("durableTask", {})


def _timespan(text: str) -> timedelta:
    """A host.json TimeSpan, [d.]hh:mm:ss[.fff]."""
    match = TIMESPAN.match(text)
    assert match, f"host.json: {text!r} is not a TimeSpan ([d.]hh:mm:ss)"
    return timedelta(
        days=int(match["days"] or 0), hours=int(match["h"]), minutes=int(match["m"]), seconds=float(match["s"])
    )


def test_durable_queue_polling_interval_is_at_most_10_seconds() -> None:
    """extensions.durableTask.storageProvider.maxQueuePollingInterval is set and at most 10 s.

    "Azure Storage provider for Durable Functions", section "Flex Consumption plan": reduce the queue
    polling interval to 10 seconds or less (the default is 30 s, section "Queue polling").
    """
    value = _durable().get("storageProvider", {}).get("maxQueuePollingInterval")
    assert value is not None, "host.json: set extensions.durableTask.storageProvider.maxQueuePollingInterval"
    interval = _timespan(str(value))
    assert timedelta(0) < interval <= timedelta(seconds=10), f"maxQueuePollingInterval is {interval}, at most 10 s"


def test_orchestrations_are_versioned() -> None:
    """defaultVersion is set, with the default match and failure strategies.

    "Orchestration versioning in Durable Functions": new instances take `defaultVersion`;
    `versionMatchStrategy` CurrentOrOlder (newer workers run older instances, older workers never run
    newer ones) with `versionFailureStrategy` Reject is the recommended configuration.
    """
    durable = _durable()
    version = durable.get("defaultVersion")
    assert isinstance(version, str), "host.json: set extensions.durableTask.defaultVersion"
    assert version.strip(), "host.json: extensions.durableTask.defaultVersion is empty"
    Version(version)  # comparable as a version, so CurrentOrOlder orders old and new instances
    assert durable.get("versionMatchStrategy") == "CurrentOrOlder"
    assert durable.get("versionFailureStrategy") == "Reject"


def test_extension_bundle_supports_orchestration_versioning() -> None:
    """The extension bundle range admits 4.26.0 or later, and nothing older than 4.x.

    "Orchestration versioning in Durable Functions", prerequisites: non-.NET apps need extension
    bundle 4.26.0 or later. The host loads the newest bundle within the range ("Azure Functions
    extension bundles"), so `[4.*, 5.0.0)` gets a 4.x at or above 4.26.0.
    """
    bundle = _host().get("extensionBundle", {})
    assert bundle.get("id") == "Microsoft.Azure.Functions.ExtensionBundle"
    match = re.match(r"^\[\s*([^,\s]+)\s*,\s*([^)\]\s]+)\s*\)$", str(bundle.get("version")))
    assert match, f"extensionBundle.version {bundle.get('version')!r} is not a range like [4.*, 5.0.0)"
    lower, upper = match[1].removesuffix(".*"), Version(match[2])
    assert re.fullmatch(r"\d+(\.\d+)*", lower), f"the bundle range must start at a version, not {match[1]!r}"
    assert Version(lower) >= Version("4"), f"the bundle range starts at {match[1]}, before 4.x"
    assert upper > Version("4.26.0"), f"the bundle range ends at {upper}, before 4.26.0"
