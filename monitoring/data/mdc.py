"""Azure ML's model data collector layout: JSONL lines of ``data`` arrays under hourly folders."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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
    """Collected rows in the hourly folders whose hour starts in ``[start, end)``."""
    files = [f for f in list_fn(uri) if (p := partition_interval(f)) is not None
             and (window.start is None or p[0] >= window.start) and (window.end is None or p[0] < window.end)]
    lines: list[str] = []
    for file in files:
        lines.extend(_read_text(file).splitlines())
    return WindowData(read_mdc_lines(lines), len(files), window)


def _read_text(file: str) -> str:
    if is_cloud(file):

        container, name = split_cloud(file)
        return container_client(container).download_blob(name).readall().decode()
    return Path(file).read_text()
