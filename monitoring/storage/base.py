"""The ``Store`` protocol every results store implements, and JSON documents in a store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Store(Protocol):
    """A flat namespace of small documents: results, reports, caches and alert records."""

    def read_bytes(self, path: str) -> bytes | None:
        """The document at ``path``, or None if there is none."""
        ...

    def write_bytes(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        """Replace the document at ``path`` atomically."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Paths under ``prefix``, sorted."""
        ...

    def location(self, path: str) -> str:
        """Where a person finds the document: a file path or a URL."""
        ...

    def delete(self, path: str) -> bool:
        """Delete the document at ``path``; False if there was none."""
        ...


#: Documents larger than this (compact) are stored compact: ``json.dumps`` with ``indent`` runs the
#: pure-Python encoder, ~10x slower than the C one (4 s for a 1,000-feature run's documents).
PRETTY_MAX_BYTES = 1_000_000


def write_json(store: Store, path: str, document: Mapping[str, Any]) -> None:
    """``document`` as JSON: indented for a person to read, compact when larger than ``PRETTY_MAX_BYTES``."""
    text = json.dumps(document, allow_nan=False, separators=(",", ":"))
    if len(text) <= PRETTY_MAX_BYTES:
        text = json.dumps(document, indent=2, allow_nan=False)
    store.write_bytes(path, text.encode(), content_type="application/json")


def read_json(store: Store, path: str) -> dict[str, Any] | None:
    data = store.read_bytes(path)
    return json.loads(data) if data is not None else None


def locked(store: Store, path: str) -> AbstractContextManager[object]:
    """Hold the store's lock on ``path`` for a read-modify-write, if the store has locks (``LocalStore``).

    ``BlobStore`` has none: it makes the write conditional on the ETag read instead and raises
    ``WriteConflict``, on which the caller reads and writes again.
    """
    lock = getattr(store, "lock", None)
    return lock(path) if callable(lock) else nullcontext()
