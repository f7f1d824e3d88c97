"""Every app setting the code reads, in one list.

The templates in ``infra/`` must set each setting marked ``azure=True``; a test parses both templates
and checks that against this list, so a new setting cannot ship without its deployment half. Settings
marked ``azure=False`` are local conveniences (Azurite, a local outbox) that a deployment never sets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One app setting: its name, what it is for, its default, and whether a deployment sets it."""

    name: str
    description: str
    default: str | None = None
    azure: bool = True

    def read(self) -> str | None:
        value = os.environ.get(self.name)
        return value if value not in (None, "") else self.default


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_STORAGE_ACCOUNT",
        "Name of the storage account holding the monitors, data, incoming, quarantine and results "
        "containers; reached with DefaultAzureCredential (the app's managed identity).",
    ),
    Setting(
        "AZURE_CLIENT_ID",
        "Client ID of the user-assigned managed identity that DefaultAzureCredential uses.",
    ),
    Setting(
        "DataStorage__blobServiceUri",
        "Blob endpoint of the data account for the blob trigger connection named DataStorage.",
    ),
    Setting(
        "DataStorage__queueServiceUri",
        "Queue endpoint of the data account (the blob extension keeps receipts there).",
    ),
    Setting("DataStorage__credential", "Always 'managedidentity' for the DataStorage connection."),
    Setting("DataStorage__clientId", "Client ID of the identity used by the DataStorage connection."),
    Setting("TASKHUB_NAME", "Durable Functions task hub name (host.json durableTask.hubName).",
            default="monitoring"),
    Setting("SCHEDULER_SCHEDULE", "NCRONTAB (six fields, UTC) of the scheduler timer.",
            default="0 */5 * * * *"),
    Setting("FEATURES_PER_ACTIVITY", "Features computed per compute_signal activity.", default="32"),
    Setting("ACS_ENDPOINT", "Azure Communication Services endpoint, https://<name>.communication.azure.com."),
    Setting("ACS_SENDER_ADDRESS", "Sender address of the linked email domain, DoNotReply@<domain>."),
    Setting("ALERT_DEFAULT_RECIPIENTS", "Comma-separated recipients for monitors without emails.",
            default=""),
    Setting("REPORT_URL_PATTERN",
            "Link to a run's folder in alert emails; {monitor} and {fire_time} are filled in.",
            default=""),
    Setting("ALERT_RETRY_HOURS",
            "Hours after a run's first alert attempt during which the scheduler re-attempts undelivered "
            "channels (failed, or interrupted while sending), with backoff.", default="24"),
    Setting("ALERT_STUCK_MINUTES",
            "Minutes a channel may stay 'sending' before the scheduler treats the send as interrupted.",
            default="15"),
    Setting("DATA_CONTAINERS",
            "Comma-separated containers of the data account that monitors applied through the app may read "
            "(az://<container>/...); anything else fails validation.", default="data,incoming"),
    Setting("INGEST_MAX_ROWS",
            "Most rows an upload to incoming/ may have (parquet: from its footer; CSV/JSONL: counted while "
            "streaming), checked before it is decoded.", default="10000000"),
    Setting("INGEST_MAX_DECODED_MB",
            "Most megabytes an upload to incoming/ may take decoded (parquet: the footer's uncompressed "
            "size; CSV/JSONL: 8 bytes a cell plus the text), checked before it is decoded.", default="1024"),
    Setting("MDC_ROOT", "Root URI of Azure ML model data collector output for endpoint targets.",
            default=""),
    Setting("ASSET_MAP", "Path or URI of assets.yaml mapping azureml:<name>:<version> to a data URI.",
            default="", azure=False),
    Setting("STORAGE_CONNECTION_STRING",
            "Local only: connection string of Azurite or another account that allows keys.",
            default="", azure=False),
    Setting("ACS_CONNECTION_STRING", "Local only: ACS connection string instead of the identity.",
            default="", azure=False),
    Setting("MONITORING_OUTBOX", "Local only: folder for .eml files when no ACS endpoint is set.",
            default="", azure=False),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def setting(name: str) -> str | None:
    """Read a registered setting from the environment; an unregistered name is a programming error."""
    try:
        return BY_NAME[name].read()
    except KeyError:
        raise KeyError(f"setting {name!r} is not registered in monitoring/settings.py") from None


__all__ = ["SETTINGS", "BY_NAME", "Setting", "setting"]
