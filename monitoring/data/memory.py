"""In-memory frames behind ``memory://`` URIs, so the Python API feeds the same plan and compute steps as a
scheduled run without writing files. Frames are registered for the length of a ``with`` block only."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import polars as pl

from monitoring.errors import DataError

SCHEME = "memory://"
_FRAMES: dict[str, pl.DataFrame] = {}
_LOCK = threading.Lock()
_COUNTER = itertools.count(1)


def is_memory(uri: str) -> bool:
    return uri.startswith(SCHEME)


@contextmanager
def registered(frames: Mapping[str, pl.DataFrame]) -> Iterator[dict[str, str]]:
    """Register ``frames`` (name -> frame) and yield name -> ``memory://`` URI; unregistered on exit."""
    token = next(_COUNTER)
    uris = {name: f"{SCHEME}{token}/{name}" for name in frames}
    with _LOCK:
        _FRAMES.update({uris[name]: frame for name, frame in frames.items()})
    try:
        yield uris
    finally:
        with _LOCK:
            for uri in uris.values():
                _FRAMES.pop(uri, None)


def memory_frame(uri: str, columns: list[str] | None = None) -> pl.DataFrame:
    """The registered frame at ``uri`` (the columns of ``columns`` it has, when given)."""
    with _LOCK:
        frame = _FRAMES.get(uri)
    if frame is None:
        raise DataError(f"{uri} names no in-memory frame (it exists only while the API call runs)")
    return frame.select([c for c in columns if c in frame.columns]) if columns is not None else frame


__all__ = ["SCHEME", "is_memory", "memory_frame", "registered"]
