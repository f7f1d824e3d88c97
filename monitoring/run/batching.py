"""How many features one ``compute_signal`` activity computes: as many as fit its memory budget.

An activity's peak memory grows with the rows it reads (both windows) and the features it computes on
them. ``bench/activity_memory.py`` measures one data drift activity and fits

    activity MiB = BASE + PER_MILLION_ROWS x M + PER_MILLION_ROW_FEATURES x M x features

with M the million rows of both sides (the per-row term is the features in flight on the signal's thread
pool, each sorting both sides). ``ACTIVITY_MEMORY_MB`` is the budget of one activity; host.json's
``maxConcurrentActivityFunctions`` activities run at once on an instance, so the defaults keep
``budget x concurrency + HOST_SHARE_MB`` within the templates' ``instanceMemoryMB`` (a test checks the
three files agree). The batch size is the most features that fit, at least 1 and at most
``FEATURES_PER_ACTIVITY``.

The rows come from parquet footers (``scan_parquet(...).select(pl.len())`` reads the metadata only), for
the files of the window's date folders; a window selected by a timestamp column counts every file's rows,
an upper bound. Rows of CSV, JSONL or model data collector files are not known without reading them:
those signals keep ``FEATURES_PER_ACTIVITY``.
"""

from __future__ import annotations

import logging
import math

import polars as pl

from monitoring.data.formats import format_of
from monitoring.data.read import window_files
from monitoring.data.refs import DataRef
from monitoring.data.uris import is_cloud, storage_options
from monitoring.errors import MonitoringError
from monitoring.schedule.windows import Window
from monitoring.settings import get_settings

log = logging.getLogger(__name__)

#: bench/activity_memory.py, 2026-12-01 (polars 2.1.0), rounded up: MiB of an activity with no data ...
BASE_MIB = 105.0
#: ... per million rows of both sides ...
PER_MILLION_ROWS_MIB = 130.0
#: ... and per million rows of both sides and feature.
PER_MILLION_ROW_FEATURES_MIB = 11.0
#: What an instance keeps besides the activities: the Functions host with the Durable extension, and the
#: Python worker with the app imported (113 MiB measured by bench/activity_memory.py; the host's share is
#: not measurable here and is an allowance).
HOST_SHARE_MB = 512


def features_per_activity() -> int:
    """``FEATURES_PER_ACTIVITY``: the most features one activity computes."""
    return get_settings().features_per_activity


def activity_memory_mb() -> int:
    """``ACTIVITY_MEMORY_MB``: the memory budget of one ``compute_signal`` activity."""
    return get_settings().activity_memory_mb


def activity_mib(rows: int, features: int) -> float:
    """The modelled peak memory of one activity over ``rows`` (both sides) and ``features``."""
    million = rows / 1e6
    return BASE_MIB + PER_MILLION_ROWS_MIB * million + PER_MILLION_ROW_FEATURES_MIB * million * features


def batch_size(rows: int | None, *, budget_mb: int, most: int) -> int:
    """The most features (1 .. ``most``) whose activity over ``rows`` fits ``budget_mb``; ``most`` if unknown."""
    if rows is None or rows == 0:
        return most
    million = rows / 1e6
    room = budget_mb - BASE_MIB - PER_MILLION_ROWS_MIB * million
    fits = math.floor(room / (PER_MILLION_ROW_FEATURES_MIB * million))
    if fits < 1:
        log.warning("one feature over %d rows needs about %.0f MiB, more than ACTIVITY_MEMORY_MB=%d", rows,
                    activity_mib(rows, 1), budget_mb)
    return max(1, min(most, fits))


def window_rows(ref: DataRef) -> int | None:
    """Rows of a window from its parquet files' metadata (no data read); None if any file is not parquet."""
    if ref.source != "files":
        return None
    files = window_files(ref.uri, Window.from_dict(ref.window), timestamp_column=ref.timestamp_column)
    if any(format_of(f) != "parquet" for f in files):
        return None
    options = storage_options() if files and is_cloud(files[0]) else None
    return sum(int(pl.scan_parquet(f, storage_options=options).select(pl.len()).collect().item()) for f in files)


def signal_rows(production: DataRef | None, reference: DataRef | None) -> int | None:
    """Rows of both windows of a signal, or None when either is unknown."""
    if production is None or reference is None:
        return None
    try:
        sides = [window_rows(production), window_rows(reference)]
    except (MonitoringError, pl.exceptions.ComputeError) as exc:  # compute_signal reports it; not sizing's job
        log.info("rows of %s unknown (%s); batching by FEATURES_PER_ACTIVITY", production.uri, exc)
        return None
    return None if None in sides else sum(s for s in sides if s is not None)
