"""Monitor definitions: YAML files in the ``monitors`` container, or in a local folder."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from monitoring.definition import load_text
from monitoring.errors import DefinitionError, DefinitionNotFound, MonitoringError
from monitoring.storage.blob import MONITORS, _with_container, container_client
from monitoring.storage.local import write_atomic

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

    from monitoring.definition import LoadedMonitor
DEFINITION_SUFFIXES = (".yaml", ".yml")


# --------------------------------------------------------------------------------------------------
# Monitor definitions


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


class _Definitions(ABC):
    """Definitions parsed once per version: ``load_all`` lists names and versions only and reads and
    validates just the entries whose version changed since the last call, so the scheduler's
    five-minute tick costs one list request when nothing changed."""

    def __init__(self) -> None:
        self._cache: dict[str, StoredDefinition] = {}
        self._lock = threading.Lock()

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the definitions are: the prefix of each definition's source in messages."""

    @property
    def described(self) -> str:
        """Where the definitions are, in a sentence."""
        return self.where

    @abstractmethod
    def _entries(self) -> list[tuple[str, str, datetime | None]]:
        """(name, version, last modified) of every definition file."""

    @abstractmethod
    def _read(self, name: str) -> str | None:
        """The text of one definition file, or None if it was deleted since it was listed."""

    def _parse(self, blob: str, etag: str, last_modified: datetime | None) -> StoredDefinition | None:
        """The definition in a file, or None if the file was deleted since it was listed."""
        text = self._read(blob)
        if text is None:
            return None
        try:
            return StoredDefinition(blob, etag, last_modified, monitor=load_text(text, f"{self.where}/{blob}"))
        except DefinitionError as exc:
            return StoredDefinition(blob, etag, last_modified, error=exc)

    def load_all(self) -> list[StoredDefinition]:
        """Every definition, valid or not, sorted by file name; a second file claiming a monitor name
        that an earlier file already uses becomes an error (one name, one schedule)."""
        listed = self._entries()
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
            f"monitor `{name}` has no definition in {self.described}; upload it with `python -m monitoring apply FILE`"
        )

    def load(self, name: str) -> LoadedMonitor:
        """The valid definition of monitor ``name``; its validation error if it is invalid."""
        entry = self.get(name)
        if entry.error is not None:
            raise entry.error
        assert entry.monitor is not None
        return entry.monitor

    def _check_unique(self, loaded: LoadedMonitor, blob: str) -> None:
        name = loaded.schedule.name
        for entry in self.load_all():
            if entry.monitor is not None and entry.name == name and entry.blob != blob:
                raise MonitoringError(f"monitor `{name}` is already defined by {self.where}/{entry.blob}; "
                                      "delete that file or rename the monitor")


class FolderDefinitionStore(_Definitions):
    """Monitor definitions in a local folder, one ``<name>.yaml`` per monitor (the embedded default)."""

    def __init__(self, folder: str | Path) -> None:
        super().__init__()
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"FolderDefinitionStore(folder={str(self.folder)!r})"

    @property
    def where(self) -> str:
        return str(self.folder)

    def _entries(self) -> list[tuple[str, str, datetime | None]]:
        if not self.folder.is_dir():
            return []
        out: list[tuple[str, str, datetime | None]] = []
        for file in self.folder.iterdir():
            if file.is_file() and file.name.lower().endswith(DEFINITION_SUFFIXES):
                stat = file.stat()
                out.append((file.name, f"{stat.st_size}-{stat.st_mtime_ns}",
                            datetime.fromtimestamp(stat.st_mtime, tz=UTC)))
        return out

    def _read(self, name: str) -> str | None:
        try:
            return (self.folder / name).read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return None

    def put(self, loaded: LoadedMonitor, text: str) -> StoredDefinition:
        """Write a validated definition as ``<name>.yaml`` (replacing that monitor's earlier one)."""
        blob = f"{loaded.schedule.name}.yaml"
        self._check_unique(loaded, blob)
        write_atomic(self.folder / blob, text.encode("utf-8"))
        stat = (self.folder / blob).stat()
        stored = StoredDefinition(blob, f"{stat.st_size}-{stat.st_mtime_ns}",
                                  datetime.fromtimestamp(stat.st_mtime, tz=UTC), monitor=loaded)
        with self._lock:
            self._cache[blob] = stored
        return stored


class DefinitionStore(_Definitions):
    """Monitor definitions in the ``monitors`` container, one ``<name>.yaml`` per monitor."""

    def __init__(self, container: ContainerClient) -> None:
        super().__init__()
        self.container = container

    def __repr__(self) -> str:
        return f"DefinitionStore(container={self.container.container_name!r})"

    @property
    def where(self) -> str:
        return str(self.container.container_name)

    @property
    def described(self) -> str:
        return f"the `{self.container.container_name}` container"

    def _entries(self) -> list[tuple[str, str, datetime | None]]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return [(p.name, p.etag, p.last_modified) for p in self.container.list_blobs()
                    if p.name.lower().endswith(DEFINITION_SUFFIXES)]
        except ResourceNotFoundError:  # no `monitors` container yet: no monitors
            return []

    def _read(self, name: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.container.download_blob(name).readall().decode("utf-8", errors="replace")
        except ResourceNotFoundError:
            return None

    def put(self, loaded: LoadedMonitor, text: str) -> StoredDefinition:
        """Upload a validated definition as ``<name>.yaml`` (replacing that monitor's earlier one)."""
        from azure.storage.blob import ContentSettings

        blob = f"{loaded.schedule.name}.yaml"
        self._check_unique(loaded, blob)
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
