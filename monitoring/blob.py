"""Blob Storage clients from settings: the app's managed identity in Azure, a connection string locally.

The Azure SDK is imported lazily so that the local runner and the science never need it loaded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from monitoring.errors import ConfigurationError
from monitoring.settings import setting

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient


@lru_cache(maxsize=8)
def service_client(connection_string: str | None = None, account: str | None = None) -> BlobServiceClient:
    """A client for the data account: the given connection string or account, else the settings."""
    from azure.storage.blob import BlobServiceClient

    connection_string = connection_string or setting("STORAGE_CONNECTION_STRING")
    if connection_string:
        return BlobServiceClient.from_connection_string(connection_string)
    account = account or setting("DATA_STORAGE_ACCOUNT")
    if not account:
        raise ConfigurationError(
            "Blob Storage needs DATA_STORAGE_ACCOUNT (the account name; the managed identity is used) or, "
            "locally, STORAGE_CONNECTION_STRING"
        )
    from azure.identity import DefaultAzureCredential

    return BlobServiceClient(f"https://{account}.blob.core.windows.net", credential=DefaultAzureCredential())


def container_client(container: str) -> ContainerClient:
    return service_client().get_container_client(container)


__all__ = ["container_client", "service_client"]
