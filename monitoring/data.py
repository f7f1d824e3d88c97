"""Reading a dataset's window: local paths or Blob Storage, parquet/JSONL/CSV, files with drifting schemas.

A dataset is a URI: a file, a folder, or a glob, local or ``az://container/prefix`` /
``abfs[s]://container@account.dfs.core.windows.net/prefix``. Rows are selected for a window either by a
timestamp column (predicate pushed down into the scan) or, without one, by date-partitioned folders
(``yyyy/MM/dd[/HH]`` or ``date=YYYY-MM-DD[/hour=HH]``): a partition belongs to the window when it *ends*
inside ``(start, end]``, so consecutive windows see each partition exactly once, and only once complete.
"""

from __future__ import annotations

import fnmatch
import glob as globmod
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from monitoring.errors import ConfigurationError, DataError
from monitoring.settings import setting
from monitoring.windows import Window

SUPPORTED_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".json", ".csv")
_CLOUD = re.compile(r"^(az|azure|abfs|abfss)://", re.IGNORECASE)
_DATE_PATH = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/(\d{2}))?(?:/|$)")
_HIVE_DATE = re.compile(r"(?:^|/)date=(\d{4})-(\d{2})-(\d{2})(?:/hour=(\d{2}))?(?:/|$)")


def is_cloud(uri: str) -> bool:
    return bool(_CLOUD.match(uri))


# --------------------------------------------------------------------------------------------------
# Resolving paths


def load_asset_map(path: str | None = None) -> dict[str, str]:
    """``assets.yaml``: ``azureml:<name>:<version>`` (or ``<name>:<version>``) -> data URI."""
    from ruamel.yaml import YAML

    path = path or setting("ASSET_MAP")
    if not path:
        return {}
    file = Path(path)
    if not file.exists():
        raise ConfigurationError(f"asset map {path} (setting ASSET_MAP) does not exist")
    data = YAML(typ="safe").load(file.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"asset map {path} must map asset names to URIs")
    base = file.parent
    out: dict[str, str] = {}
    for key, value in data.items():
        uri = str(value)
        if not is_cloud(uri) and not Path(uri).is_absolute():
            uri = str(base / uri)
        out[str(key).removeprefix("azureml:")] = uri
    return out


def resolve_path(path: str, *, base_dir: Path | None = None, asset_map: dict[str, str] | None = None) -> str:
    """A dataset URI from a definition's ``path``: assets mapped, relative paths taken from the YAML's folder."""
    if path.startswith("azureml://"):
        raise ConfigurationError(
            f"`{path}` is an Azure ML datastore URI; point `path` at the blob folder instead "
            "(az://<container>/<prefix>/ or abfss://<container>@<account>.dfs.core.windows.net/<prefix>/)"
        )
    if path.startswith("azureml:"):
        key = path.removeprefix("azureml:")
        mapping = asset_map if asset_map is not None else load_asset_map()
        if key not in mapping:
            raise ConfigurationError(
                f"data asset `{path}` is not mapped: add `{path}: <data URI>` to an assets.yaml and set "
                "ASSET_MAP to its path, or write the blob path in the definition instead"
            )
        return mapping[key]
    if is_cloud(path) or Path(path).is_absolute() or base_dir is None:
        return path
    return str((base_dir / path).resolve())


# --------------------------------------------------------------------------------------------------
# Listing files


def storage_options() -> dict[str, str]:
    """polars ``storage_options`` for Blob Storage: a local connection string, else the account name
    (credentials then come from azure-identity's DefaultAzureCredential)."""
    conn = setting("STORAGE_CONNECTION_STRING")
    if conn:
        parts = dict(p.split("=", 1) for p in conn.split(";") if "=" in p)
        if parts.get("UseDevelopmentStorage", "").lower() == "true":
            return {"use_emulator": "true"}
        options = {"account_name": parts["AccountName"], "account_key": parts["AccountKey"]}
        if "BlobEndpoint" in parts:
            options["endpoint"] = parts["BlobEndpoint"]
            if parts["BlobEndpoint"].startswith("http://"):
                options["allow_http"] = "true"
        return options
    account = setting("DATA_STORAGE_ACCOUNT")
    if not account:
        raise ConfigurationError("reading az:// data needs DATA_STORAGE_ACCOUNT (or STORAGE_CONNECTION_STRING locally)")
    return {"account_name": account}


def split_cloud(uri: str) -> tuple[str, str]:
    """(container, prefix) of an az:// or abfs[s]:// URI."""
    rest = _CLOUD.sub("", uri)
    container, _, prefix = rest.partition("/")
    return container.split("@", 1)[0], prefix


def file_versions(uri: str) -> dict[str, str]:
    """Data files of a dataset URI (a file, a folder, or a glob), each with a version that changes when the
    file does: the blob's ETag, or a local file's size and modification time."""
    glob = any(ch in uri for ch in "*?[")
    versions: dict[str, str] = {}
    if is_cloud(uri):
        from monitoring.blob import container_client

        container, prefix = split_cloud(uri)
        head = "/".join(uri.split("/", 3)[:3])  # scheme://container[@account...]
        list_prefix = prefix.split("*", 1)[0].rsplit("/", 1)[0] + "/" if glob else prefix
        blobs = {b.name: str(b.etag) for b in container_client(container).list_blobs(name_starts_with=list_prefix)}
        if glob:
            blobs = {n: v for n, v in blobs.items() if fnmatch.fnmatch(n, prefix)}
        elif prefix and not prefix.endswith("/") and prefix in blobs:
            blobs = {prefix: blobs[prefix]}
        versions = {f"{head}/{n}": v for n, v in blobs.items() if n.lower().endswith(SUPPORTED_SUFFIXES)}
    else:
        path = Path(uri)
        if glob:
            candidates = iter(Path(p) for p in globmod.glob(uri, recursive=True))
        elif path.is_file():
            candidates = iter([path])
        elif path.is_dir():
            candidates = path.rglob("*")
        else:
            raise DataError(f"dataset {uri} does not exist")
        for p in candidates:
            if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES:
                stat = p.stat()
                versions[str(p)] = f"{stat.st_size}:{stat.st_mtime_ns}"
    if not versions:
        raise DataError(f"dataset {uri} has no parquet, JSONL or CSV files")
    return dict(sorted(versions.items()))


def list_files(uri: str) -> list[str]:
    """Data files of a dataset URI (a file, a folder, or a glob), sorted by name."""
    return list(file_versions(uri))


def partition_interval(path: str) -> tuple[datetime, datetime] | None:
    """The [start, end) hour or day a file's folder names, in UTC, or None if it has no date folder."""
    match = _HIVE_DATE.search(path) or _DATE_PATH.search(path)
    if not match:
        return None
    year, month, day, hour = match.groups()
    start = datetime(int(year), int(month), int(day), int(hour or 0), tzinfo=UTC)
    return start, start + (timedelta(hours=1) if hour else timedelta(days=1))


# --------------------------------------------------------------------------------------------------
# Scanning


def _scan_file(file: str, options: dict[str, str] | None) -> pl.LazyFrame:
    suffix = Path(file.split("?", 1)[0]).suffix.lower()
    if suffix == ".parquet":
        return pl.scan_parquet(file, storage_options=options)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return pl.scan_ndjson(file, storage_options=options, infer_schema_length=10_000)
    return pl.scan_csv(file, storage_options=options, try_parse_dates=True, infer_schema_length=10_000)


def scan_files(files: Sequence[str]) -> pl.LazyFrame:
    """One lazy frame over files whose columns may differ: missing columns are null, types widened."""
    options = storage_options() if files and is_cloud(files[0]) else None
    scans = [_scan_file(f, options) for f in files]
    if len(scans) == 1:
        return scans[0]
    return pl.concat(scans, how="diagonal_relaxed")


def _window_filter(frame: pl.LazyFrame, column: str, window: Window) -> pl.LazyFrame:
    schema = frame.collect_schema()
    if column not in schema:
        raise DataError(
            f"timestamp column `{column}` (data_column_names.timestamp) is not in the data; "
            f"columns are: {', '.join(schema.names()[:20])}"
        )
    dtype = schema[column]
    expr = pl.col(column)
    if dtype == pl.String:
        expr = expr.str.to_datetime(time_zone="UTC", strict=False)
        tz: str | None = "UTC"
    elif isinstance(dtype, pl.Datetime):
        tz = dtype.time_zone
    elif dtype == pl.Date:
        expr = expr.cast(pl.Datetime("us"))
        tz = None
    else:
        raise DataError(f"timestamp column `{column}` has type {dtype}; expected a datetime, date or ISO string")

    def bound(t: datetime) -> datetime:
        return t.astimezone(UTC) if tz else t.astimezone(UTC).replace(tzinfo=None)

    condition = pl.lit(True)
    if window.start is not None:
        condition = condition & (expr >= bound(window.start))
    if window.end is not None:
        condition = condition & (expr < bound(window.end))
    return frame.filter(condition)


@dataclass(frozen=True)
class WindowData:
    """A dataset's rows in one window, with where they came from."""

    frame: pl.DataFrame
    files: int
    window: Window


def read_window(uri: str, window: Window, *, timestamp_column: str | None = None,
                columns: Sequence[str] | None = None,
                list_fn: Callable[[str], list[str]] = list_files) -> WindowData:
    """Rows of the dataset at ``uri`` inside ``window`` (unbounded window: every row)."""
    files = list_fn(uri)
    if timestamp_column is None and window.bounded:
        dated = [(f, partition_interval(f)) for f in files]
        if any(p is None for _, p in dated):
            undated = next(f for f, p in dated if p is None)
            raise DataError(
                f"cannot select the window {window} from {uri}: `{undated}` is not in a date folder "
                "(yyyy/MM/dd[/HH] or date=YYYY-MM-DD); set data_column_names.timestamp to the column "
                "holding each row's time"
            )
        files = [f for f, (_, end) in dated if _in_window(end, window)]  # type: ignore[misc]
        if not files:
            return WindowData(pl.DataFrame(), 0, window)
    frame = scan_files(files)
    if timestamp_column is not None and window.bounded:
        frame = _window_filter(frame, timestamp_column, window)
    if columns is not None:
        present = frame.collect_schema().names()
        frame = frame.select([c for c in columns if c in present])
    try:
        collected = frame.collect()
    except (ConnectionError, TimeoutError):
        raise  # transient: the caller's retries decide, it is not a property of the data
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, OSError) as exc:
        raise DataError(f"cannot read {uri}: {str(exc).splitlines()[0]}") from exc
    return WindowData(collected, len(files), window)


def _in_window(partition_end: datetime, window: Window) -> bool:
    after_start = window.start is None or partition_end > window.start
    before_end = window.end is None or partition_end <= window.end
    return after_start and before_end


# --------------------------------------------------------------------------------------------------
# Azure ML model data collector


def mdc_uri(endpoint: str, deployment: str, collection: str, *, root: str | None = None) -> str:
    """Folder of a deployment's collected data: ``<MDC_ROOT>/<endpoint>/<deployment>/<collection>/``."""
    root = root or setting("MDC_ROOT")
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
        from monitoring.blob import container_client

        container, name = split_cloud(file)
        return container_client(container).download_blob(name).readall().decode()
    return Path(file).read_text()


__all__ = [
    "SUPPORTED_SUFFIXES",
    "WindowData",
    "file_versions",
    "is_cloud",
    "list_files",
    "load_asset_map",
    "mdc_uri",
    "partition_interval",
    "read_mdc_lines",
    "read_mdc_window",
    "read_window",
    "resolve_path",
    "scan_files",
    "split_cloud",
    "storage_options",
]
