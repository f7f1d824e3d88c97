"""Blob Storage: the client factory (managed identity or a connection string), containers and ``BlobStore``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from monitoring.errors import ConfigurationError, WriteConflict
from monitoring.names import safe_path
from monitoring.settings import get_settings

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient


log = logging.getLogger(__name__)
T = TypeVar("T")

MONITORS, DATA, INCOMING, QUARANTINE, RESULTS = "monitors", "data", "incoming", "quarantine", "results"
CONTAINERS = (MONITORS, DATA, INCOMING, QUARANTINE, RESULTS)




@lru_cache(maxsize=8)
def service_client(connection_string: str | None = None, account: str | None = None) -> BlobServiceClient:
    """A client for the data account: the given connection string or account, else the settings."""
    from azure.storage.blob import BlobServiceClient

    settings = get_settings()
    configured = settings.storage_connection_string
    connection_string = connection_string or (configured.get_secret_value() if configured else None)
    if connection_string:
        return BlobServiceClient.from_connection_string(connection_string)
    account = account or settings.data_storage_account
    if not account:
        raise ConfigurationError(
            "Blob Storage needs DATA_STORAGE_ACCOUNT (the account name; the managed identity is used) or, "
            "locally, STORAGE_CONNECTION_STRING"
        )
    from azure.identity import DefaultAzureCredential

    return BlobServiceClient(f"https://{account}.blob.core.windows.net", credential=DefaultAzureCredential())


def container_client(container: str) -> ContainerClient:
    return service_client().get_container_client(container)


def ensure_containers(names: tuple[str, ...] = CONTAINERS) -> None:
    """Create the app's containers if missing: for Azurite and fresh local accounts (Azure has them)."""
    from azure.core.exceptions import ResourceExistsError

    for name in names:
        try:
            container_client(name).create_container()
        except ResourceExistsError:
            continue


# --------------------------------------------------------------------------------------------------
# Results store


class BlobStore:
    """The ``Store`` protocol over one container, optionally under a prefix.

    Every write is one Put Blob (or one Put Block List for large documents), which the service applies
    atomically: a reader sees the old document or the new one, never a part.

    Read-modify-write is guarded (``optimistic=True``): a write to a path this store read earlier is
    conditional on the ETag it read (or on the blob still not existing), so two runs of one monitor
    finishing together cannot lose each other's ``history.parquet`` rows; the loser gets
    ``WriteConflict`` and redoes its read and write.
    """

    def __init__(self, container: ContainerClient, *, prefix: str = "", optimistic: bool = True) -> None:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.container = container
        self.prefix = prefix
        self.optimistic = optimistic
        self._etags: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BlobStore(container={self.container.container_name!r}, prefix={self.prefix!r})"

    def _name(self, path: str) -> str:
        return self.prefix + safe_path(path)

    def read_bytes(self, path: str) -> bytes | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = self.container.get_blob_client(self._name(path)).download_blob()
            data = downloader.readall()
        except ResourceNotFoundError:
            with self._lock:
                self._etags[path] = None
            return None
        with self._lock:
            self._etags[path] = downloader.properties.etag
        return data

    def write_bytes(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
        from azure.storage.blob import ContentSettings

        etag: str | None = None
        match: MatchConditions | None = None
        with self._lock:
            guarded = self.optimistic and path in self._etags
            seen = self._etags.get(path)
        if guarded and seen is None:
            match = MatchConditions.IfMissing
        elif guarded:
            etag, match = seen, MatchConditions.IfNotModified
        blob = self.container.get_blob_client(self._name(path))
        settings = ContentSettings(content_type=content_type)

        def upload() -> dict[str, Any]:
            if etag is None:  # the SDK passes an `etag=None` through to the HTTP session, which rejects it
                return blob.upload_blob(data, overwrite=True, content_settings=settings, match_condition=match)
            return blob.upload_blob(data, overwrite=True, content_settings=settings, etag=etag,
                                    match_condition=match)

        try:
            result = _with_container(self.container, upload)
        except (ResourceModifiedError, ResourceExistsError) as exc:
            with self._lock:
                self._etags.pop(path, None)
            raise WriteConflict(f"{self.location(path)} changed since it was read; read it again and retry") from exc
        with self._lock:
            self._etags[path] = result["etag"]

    def list(self, prefix: str) -> list[str]:
        start = len(self.prefix)
        return sorted(b.name[start:] for b in self.container.list_blobs(name_starts_with=self.prefix + prefix))

    def location(self, path: str) -> str:
        return self.container.get_blob_client(self._name(path)).url

    def delete(self, path: str) -> bool:
        """Delete a document; False if there was none."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.container.delete_blob(self._name(path))
        except ResourceNotFoundError:
            return False
        finally:
            with self._lock:
                self._etags.pop(path, None)
        return True


def _with_container(container: ContainerClient, write: Callable[[], T]) -> T:
    """Run a write; if the container does not exist (a fresh Azurite), create it and write again."""
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

    try:
        return write()
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) != "ContainerNotFound":
            raise
        log.info("creating container %s", container.container_name)
        try:
            container.create_container()
        except ResourceExistsError:
            log.debug("container %s was created concurrently", container.container_name)
        return write()


def results_store(*, optimistic: bool = True) -> BlobStore:
    """The ``results`` container as a store (a new instance: its ETag memory is per unit of work).

    ``optimistic=False`` for work whose documents are keyed by what they contain (run plans, batch
    results, feature-importance caches): there the last writer is as right as the first, and a conflict
    would only fail a signal for nothing.
    """
    return BlobStore(container_client(RESULTS), optimistic=optimistic)
