"""Azure ML's model data collector layout: JSONL lines of ``data`` arrays under hourly folders."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from monitoring.data.read import WindowData, list_files, partition_interval
from monitoring.data.uris import is_cloud, split_cloud
from monitoring.errors import ConfigurationError, DataError
from monitoring.schedule.windows import Window
from monitoring.settings import get_settings
from monitoring.storage.blob import container_client

# --------------------------------------------------------------------------------------------------
# Azure ML model data collector


def mdc_uri(endpoint: str, deployment: str, collection: str, *, root: str | None = None) -> str:
    """Folder of a deployment's collected data: ``<MDC_ROOT>/<endpoint>/<deployment>/<collection>/``."""
    root = root or get_settings().mdc_root
    if not root:
        raise ConfigurationError(
            f"monitoring_target.endpoint_deployment_id needs MDC_ROOT: the folder or az:// URI where the model "
            f"data collector writes (its subfolders are <endpoint>/<deployment>/{collection}/yyyy/MM/dd/HH)"
        )
    return f"{root.rstrip('/')}/{endpoint}/{deployment}/{collection}/"


def read_mdc_lines(lines: Sequence[str]) -> pl.DataFrame:
    """Rows of MDC JSONL lines: each line's ``data`` (records, or a JSON string of them) becomes rows,
    with ``correlationid`` suffixed ``_<index>`` for batched rows, as Azure ML's preprocessor does."""
    rows: list[dict[str, Any]] = []
    for line in lines:
        if not line.strip():
            continue
        event = json.loads(line)
        data = event.get("data")
        if isinstance(data, str):
            data = json.loads(data)
        if isinstance(data, dict):
            keys = list(data)
            data = [dict(zip(keys, values, strict=True)) for values in zip(*data.values(), strict=True)]
        if data is None:
            raise DataError("a model data collector line has no `data` (a `dataref` to large payloads is not "
                            "supported yet)")
        correlation = event.get("correlationid")
        for index, record in enumerate(data):
            row = dict(record)
            if correlation is not None:
                row["correlationid"] = f"{correlation}_{index}"
            rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def read_mdc_window(uri: str, window: Window, *, list_fn: Callable[[str], list[str]] = list_files) -> WindowData:
    """Collected rows whose event ``time`` is in ``[start, end)``, from every hourly folder overlapping it.

    The collector is still writing the current hour's folder when a run fires, so selecting whole folders
    would either read a folder half-written or skip its later rows forever. Selecting by each line's own
    ``time`` (the CloudEvents field the collector writes) makes consecutive windows see each row once. A
    line without a ``time`` falls back to its folder's hour; a ``time`` that does not parse is counted
    (``unparsed_timestamps``) and not read.
    """
    files = [f for f in list_fn(uri) if (p := partition_interval(f)) is not None
             and (window.start is None or p[1] > window.start) and (window.end is None or p[0] < window.end)]
    lines: list[str] = []
    unparsed = 0
    for file in files:
        hour = partition_interval(file)[0]  # type: ignore[index]
        for number, line in enumerate(_read_text(file).splitlines(), start=1):
            if not line.strip():
                continue
            when = _event_time(line, file, number)
            if when is None:
                unparsed += 1
            elif _in_window(hour if when is False else when, window):
                lines.append(line)
    return WindowData(read_mdc_lines(lines), len(files), window, unparsed_timestamps=unparsed)


def _in_window(t: datetime, window: Window) -> bool:
    return (window.start is None or t >= window.start) and (window.end is None or t < window.end)


def _event_time(line: str, file: str, number: int) -> datetime | Literal[False] | None:
    """A line's event time in UTC; False if it has none; None if it has one that does not parse."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"cannot read {file}: line {number} is not JSON ({exc.msg}, column {exc.colno})") from None
    value = event.get("time") if isinstance(event, dict) else None
    if value is None:
        return False
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _read_text(file: str) -> str:
    if is_cloud(file):

        container, name = split_cloud(file)
        return container_client(container).download_blob(name).readall().decode()
    return Path(file).read_text()
