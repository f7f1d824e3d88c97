"""Damaged monitor-level documents (``history.parquet``, ``latest.json``): kept aside, rebuilt from the runs.

Both are derived: every row of the history and the pointer in latest.json come from the run documents
``<monitor>/<run id>/run.json``. When one cannot be read, the finishing run does not fail: the damaged
bytes are copied to ``<name>.corrupt-<UTC timestamp><suffix>`` (kept for a person to look at, never
deleted), the document is rebuilt from the run documents, and the run notes what happened.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from monitoring.names import is_run_id
from monitoring.storage.base import Store

log = logging.getLogger(__name__)


def aside_path(path: str, now: datetime | None = None) -> str:
    """Where the damaged copy of ``path`` goes: ``history.parquet`` -> ``history.corrupt-<ts>.parquet``.

    >>> aside_path("m/history.parquet", datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC))
    'm/history.corrupt-20260102T030405.600000Z.parquet'
    """
    pure = PurePosixPath(path)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return str(pure.with_name(f"{pure.stem}.corrupt-{stamp}{pure.suffix}"))


def move_aside(store: Store, path: str, data: bytes, reason: str) -> str:
    """Keep the damaged bytes of ``path`` under a new name (never overwriting one); return the note."""
    target = aside_path(path)
    while store.read_bytes(target) is not None:  # two repairs in one microsecond: take the next name
        target = aside_path(path, datetime.now(UTC))
    store.write_bytes(target, data)
    note = (f"{store.location(path)} could not be read ({reason}); it was kept as {store.location(target)} "
            "and rebuilt from the run documents")
    log.warning("%s", note)
    return note


def run_documents(store: Store, monitor: str) -> Iterator[dict[str, Any]]:
    """Every readable ``<monitor>/<run id>/run.json``, oldest first; unreadable ones are skipped."""
    prefix = f"{monitor}/"
    for path in store.list(prefix):
        folder, _, name = path[len(prefix):].partition("/")
        if name != "run.json" or not is_run_id(folder):
            continue
        data = store.read_bytes(path)
        try:
            document = json.loads(data) if data is not None else None
        except ValueError:
            log.warning("skipping unreadable run document %s", store.location(path))
            continue
        if isinstance(document, dict) and "fire_time" in document and "signals" in document:
            yield document


__all__ = ["aside_path", "move_aside", "run_documents"]
