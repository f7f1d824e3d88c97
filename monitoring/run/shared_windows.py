"""Windows read once per run and shared by the signals that read the same data and columns.

A local run computes its signals in parallel threads; two signals over the same dataset window and
columns (data drift and data quality on ``all_features``, say) would each read it. ``SharedWindows``
reads such a window once: the first signal to ask reads it while the others wait for that read, and it
is released when the last signal planned to read it has finished (whether it read it or not: a signal
split into column groups reads other column sets, a failed one none).

Keys are the data reference (its URI, source, window, timestamp column and joined outputs) and the
columns exactly as ``compute_signal`` asks for them (``SignalInfo.columns`` of the signal's features).
Only keys that two or more signals of the plan read are shared, and only while the windows held
between their users fit ``budget_mb`` (estimated from the parquet metadata's rows at ``BYTES_PER_VALUE``
per value): a window of unknown size (CSV, JSONL, the model data collector) or too large is read by each
signal, as without sharing. Frames are never modified by the signals (polars frames are immutable), so
sharing one changes no result.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future

from monitoring.data.read import WindowData
from monitoring.data.refs import DataRef
from monitoring.run.batching import window_rows
from monitoring.run.plan import SignalPlan
from signals.registry import signal_info

#: Bytes of one value of a window held in memory (a float64 or a short string's share).
BYTES_PER_VALUE = 8

Key = tuple[str, tuple[str, ...] | None]


def _key(ref: DataRef, columns: Sequence[str] | None) -> Key:
    return ref.model_dump_json(), None if columns is None else tuple(columns)


def window_keys(plan: SignalPlan) -> list[tuple[DataRef, Key]]:
    """The windows ``compute_signal`` reads for the whole signal: (reference, key) per side."""
    if plan.error or plan.unsupported or plan.production is None or plan.reference is None:
        return []
    info = signal_info(plan.type)
    segment = plan.segment["feature_name"] if plan.segment else None
    prod_columns, ref_columns = info.columns(plan.features, plan.options, segment)
    return [(plan.production, _key(plan.production, prod_columns)),
            (plan.reference, _key(plan.reference, ref_columns))]


class SharedWindows:
    """The run's shared windows (see the module); ``read`` is ``DataRef.read_window`` through it."""

    def __init__(self, plans: Sequence[SignalPlan], *, budget_mb: float) -> None:
        planned = {p.name: {k: ref for ref, k in window_keys(p)} for p in plans}
        users = Counter(k for keys in planned.values() for k in keys)
        refs = {k: ref for keys in planned.values() for k, ref in keys.items()}
        room = budget_mb * 2**20
        self._left: dict[Key, int] = {}
        for key, n in users.items():
            size = self._bytes(refs[key], key) if n > 1 else None
            if size is not None and size <= room:
                self._left[key] = n
                room -= size
        self._planned = {name: [k for k in keys if k in self._left] for name, keys in planned.items()}
        self._windows: dict[Key, Future[WindowData]] = {}
        self._lock = threading.Lock()
        self.reads = 0  # windows actually read through ``read`` (the shared ones once)

    @staticmethod
    def _bytes(ref: DataRef, key: Key) -> int | None:
        columns = key[1]
        if columns is None or ref.outputs is not None:
            return None
        try:
            rows = window_rows(ref)
        except Exception:  # noqa: BLE001 - sizing only; compute_signal reports a bad window
            return None
        return None if rows is None else rows * len(columns) * BYTES_PER_VALUE

    @property
    def shared(self) -> int:
        """Windows read once for several signals."""
        return len(self._left)

    def read(self, ref: DataRef, columns: list[str] | None) -> WindowData:
        """The window's rows: read once for the signals that share it, else read as ``ref.read_window``."""
        key = _key(ref, columns)
        with self._lock:
            shared = key in self._left
            window = self._windows.get(key) if shared else None
            first = shared and window is None
            if first:
                window = self._windows[key] = Future()
        if window is None:
            self._count()
            return ref.read_window(columns)
        if first:
            self._count()
            try:
                window.set_result(ref.read_window(columns))
            except Exception as exc:  # noqa: BLE001 - raised again below, and to every signal waiting for it
                window.set_exception(exc)
        return window.result()

    def _count(self) -> None:
        with self._lock:
            self.reads += 1

    def release(self, signal: str) -> None:
        """``signal`` has finished: the windows no other signal still needs are let go."""
        with self._lock:
            for key in self._planned.pop(signal, []):
                self._left[key] -= 1
                if self._left[key] == 0:
                    del self._left[key]
                    self._windows.pop(key, None)


__all__ = ["BYTES_PER_VALUE", "SharedWindows", "window_keys"]
