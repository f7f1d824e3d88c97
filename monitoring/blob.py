"""Blob Storage from settings: clients, the results store, and the monitor-definition store.

In Azure the app reaches the data account with its managed identity (``DATA_STORAGE_ACCOUNT`` and
``DefaultAzureCredential``); locally a connection string (``STORAGE_CONNECTION_STRING``, e.g. Azurite)
is used instead. The Azure SDK is imported lazily so that the local runner and the science never need
it loaded.

Containers of the data account (created by the templates in Azure, by ``ensure_containers`` locally):

==============  ==========================================================================
``monitors``    one definition per monitor, ``<name>.yaml`` (``python -m monitoring apply``)
``data``        datasets, ``<dataset>/yyyy/MM/dd/<file>``; the ingest writes here
``incoming``    uploads to validate (bring-your-own data), ``<dataset>/<file>``
``quarantine``  uploads that failed validation, with ``<name>.error.json`` beside each
``results``     ``<monitor>/<fire time>/run.json`` and friends (see ``monitoring.results``)
==============  ==========================================================================
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from monitoring.errors import ConfigurationError, DefinitionError, MonitoringError
from monitoring.settings import setting
from monitoring.store import safe_path

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient

    from monitoring.loader import LoadedMonitor

log = logging.getLogger(__name__)
T = TypeVar("T")

MONITORS, DATA, INCOMING, QUARANTINE, RESULTS = "monitors", "data", "incoming", "quarantine", "results"
CONTAINERS = (MONITORS, DATA, INCOMING, QUARANTINE, RESULTS)
DEFINITION_SUFFIXES = (".yaml", ".yml")


class WriteConflict(RuntimeError):
    """A conditional write lost a race: the document changed since this store read it."""


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

        conditions: dict[str, object] = {}
        with self._lock:
            guarded = self.optimistic and path in self._etags
            seen = self._etags.get(path)
        if guarded and seen is None:
            conditions = {"match_condition": MatchConditions.IfMissing}
        elif guarded:
            conditions = {"etag": seen, "match_condition": MatchConditions.IfNotModified}
        blob = self.container.get_blob_client(self._name(path))
        settings = ContentSettings(content_type=content_type)
        try:
            result = _with_container(self.container, lambda: blob.upload_blob(
                data, overwrite=True, content_settings=settings, **conditions))
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


# --------------------------------------------------------------------------------------------------
# Monitor definitions


class DefinitionNotFound(MonitoringError):
    """No definition of that monitor is in the ``monitors`` container."""


@dataclass(frozen=True)
class StoredDefinition:
    """One blob of the ``monitors`` container: the monitor it defines, or why it defines none."""

    blob: str
    etag: str
    last_modified: datetime | None
    monitor: LoadedMonitor | None = None
    error: DefinitionError | None = None

    @property
    def name(self) -> str:
        """The monitor's name: from the YAML when valid, else the blob's name without its suffix."""
        if self.monitor is not None:
            return self.monitor.schedule.name
        return blob_stem(self.blob)


def blob_stem(blob: str) -> str:
    name = blob.rsplit("/", 1)[-1]
    for suffix in DEFINITION_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


class DefinitionStore:
    """Monitor definitions in the ``monitors`` container, one ``<name>.yaml`` per monitor.

    Definitions are parsed once per blob version: ``load_all`` lists the container (names and ETags
    only) and downloads and validates just the blobs whose ETag changed since the last call, so the
    scheduler's five-minute tick costs one list request when nothing changed.
    """

    def __init__(self, container: ContainerClient) -> None:
        self.container = container
        self._cache: dict[str, StoredDefinition] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DefinitionStore(container={self.container.container_name!r})"

    def _blobs(self) -> list[tuple[str, str, datetime | None]]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return [(p.name, p.etag, p.last_modified) for p in self.container.list_blobs()
                    if p.name.lower().endswith(DEFINITION_SUFFIXES)]
        except ResourceNotFoundError:  # no `monitors` container yet: no monitors
            return []

    def _parse(self, blob: str, etag: str, last_modified: datetime | None) -> StoredDefinition | None:
        """The definition in a blob, or None if the blob was deleted since it was listed."""
        from azure.core.exceptions import ResourceNotFoundError

        from monitoring.loader import load_text

        source = f"{self.container.container_name}/{blob}"
        try:
            text = self.container.download_blob(blob).readall().decode("utf-8", errors="replace")
        except ResourceNotFoundError:
            return None
        try:
            return StoredDefinition(blob, etag, last_modified, monitor=load_text(text, source))
        except DefinitionError as exc:
            return StoredDefinition(blob, etag, last_modified, error=exc)

    def load_all(self) -> list[StoredDefinition]:
        """Every definition, valid or not, sorted by blob name; a second blob claiming a monitor name
        that an earlier blob already uses becomes an error (one name, one schedule)."""
        listed = self._blobs()
        with self._lock:
            cache = dict(self._cache)
        out: list[StoredDefinition] = []
        for blob, etag, modified in sorted(listed):
            cached = cache.get(blob)
            entry = cached if cached is not None and cached.etag == etag else self._parse(blob, etag, modified)
            if entry is not None:
                out.append(entry)
        with self._lock:
            self._cache = {d.blob: d for d in out}
        return _reject_duplicates(out)

    def get(self, name: str) -> StoredDefinition:
        """The stored definition of monitor ``name`` (valid or not)."""
        for entry in self.load_all():
            if entry.name == name:
                return entry
        raise DefinitionNotFound(
            f"monitor `{name}` has no definition in the `{self.container.container_name}` container; "
            "upload it with `python -m monitoring apply FILE`"
        )

    def load(self, name: str) -> LoadedMonitor:
        """The valid definition of monitor ``name``; its validation error if it is invalid."""
        entry = self.get(name)
        if entry.error is not None:
            raise entry.error
        assert entry.monitor is not None
        return entry.monitor

    def put(self, loaded: LoadedMonitor, text: str) -> StoredDefinition:
        """Upload a validated definition as ``<name>.yaml`` (replacing that monitor's earlier one)."""
        from azure.storage.blob import ContentSettings

        name = loaded.schedule.name
        blob = f"{name}.yaml"
        for entry in self.load_all():
            if entry.monitor is not None and entry.name == name and entry.blob != blob:
                raise MonitoringError(
                    f"monitor `{name}` is already defined by {self.container.container_name}/{entry.blob}; "
                    "delete that blob or rename the monitor"
                )
        client = _with_container(self.container, lambda: self.container.upload_blob(
            blob, text.encode("utf-8"), overwrite=True, metadata={"version": loaded.version},
            content_settings=ContentSettings(content_type="application/yaml"),
        ))
        props = client.get_blob_properties()
        stored = StoredDefinition(blob, props.etag, props.last_modified, monitor=loaded)
        with self._lock:
            self._cache[blob] = stored
        return stored


def _reject_duplicates(entries: list[StoredDefinition]) -> list[StoredDefinition]:
    owners: dict[str, str] = {}
    out = []
    for entry in entries:
        if entry.monitor is not None and entry.name in owners:
            entry = StoredDefinition(entry.blob, entry.etag, entry.last_modified, error=DefinitionError(
                entry.monitor.source, [f"monitor name `{entry.name}` is already defined by {owners[entry.name]}; "
                         "each monitor needs its own name"]))
        elif entry.monitor is not None:
            owners[entry.name] = entry.blob
        out.append(entry)
    return out


@lru_cache(maxsize=1)
def definition_store() -> DefinitionStore:
    """The app's definition store; one per process, so its ETag cache lives across timer ticks."""
    return DefinitionStore(container_client(MONITORS))


__all__ = [
    "CONTAINERS", "DATA", "INCOMING", "MONITORS", "QUARANTINE", "RESULTS",
    "BlobStore", "DefinitionNotFound", "DefinitionStore", "StoredDefinition", "WriteConflict",
    "blob_stem", "container_client", "definition_store", "ensure_containers", "results_store", "service_client",
]
