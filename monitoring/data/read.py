"""Reading a dataset window: list the files of a location, keep the partitions and rows in a window."""

from __future__ import annotations

import fnmatch
import glob as globmod
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from monitoring.data.formats import data_files, scan_files, scan_one
from monitoring.data.uris import is_cloud, split_cloud
from monitoring.errors import DataError
from monitoring.schedule.windows import Window
from monitoring.storage.blob import container_client
from monitoring.text import one_line

_DATE_PATH = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/(\d{2}))?(?:/|$)")
_HIVE_DATE = re.compile(r"(?:^|/)date=(\d{4})-(\d{2})-(\d{2})(?:/hour=(\d{2}))?(?:/|$)")


def file_versions(uri: str) -> dict[str, str]:
    """Data files of a dataset URI (a file, a folder, or a glob), each with a version that changes when the
    file does: the blob's ETag, or a local file's size and modification time."""
    glob = any(ch in uri for ch in "*?[")
    versions: dict[str, str] = {}
    if is_cloud(uri):

        container, prefix = split_cloud(uri)
        head = "/".join(uri.split("/", 3)[:3])  # scheme://container[@account...]
        list_prefix = prefix.split("*", 1)[0].rsplit("/", 1)[0] + "/" if glob else prefix
        blobs = {b.name: str(b.etag) for b in container_client(container).list_blobs(name_starts_with=list_prefix)}
        if glob:
            blobs = {n: v for n, v in blobs.items() if fnmatch.fnmatch(n, prefix)}
        elif prefix and not prefix.endswith("/") and prefix in blobs:
            blobs = {prefix: blobs[prefix]}
        root = "" if glob else (prefix if prefix.endswith("/") or prefix not in blobs else "")
        kept = data_files([n[len(root):] for n in blobs], uri)
        versions = {f"{head}/{root}{n}": blobs[root + n] for n in kept}
    else:
        path = Path(uri)
        candidates: Iterator[Path]
        if glob:
            candidates = iter(Path(p) for p in globmod.glob(uri, recursive=True))
        elif path.is_file():
            candidates = iter([path])
        elif path.is_dir():
            candidates = path.rglob("*")
        else:
            raise DataError(f"dataset {uri} does not exist")
        base = path if path.is_dir() else _static_dir(uri) if glob else path.parent
        files = [p for p in candidates if p.is_file()]
        names = {_relative(p, base): p for p in files}
        for name in data_files(list(names), uri):
            stat = names[name].stat()
            versions[str(names[name])] = f"{stat.st_size}:{stat.st_mtime_ns}"
    if not versions:
        raise DataError(f"dataset {uri} has no parquet, JSONL or CSV files")
    return dict(sorted(versions.items()))


def _static_dir(pattern: str) -> Path:
    """The folder a glob's matches are below: its path up to the first wildcard."""
    head = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    return Path(head) if head.endswith(("/", "\\")) else Path(head).parent


def _relative(file: Path, base: Path) -> str:
    try:
        return file.relative_to(base).as_posix()
    except ValueError:
        return file.name


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


def _window_filter(frame: pl.LazyFrame, column: str, window: Window) -> tuple[pl.LazyFrame, pl.Expr | None]:
    """Rows of ``frame`` in ``window`` by ``column``, and (for text timestamps) an expression counting the
    values that are not null yet do not parse as a time."""
    schema = frame.collect_schema()
    if column not in schema:
        raise DataError(
            f"timestamp column `{column}` (data_column_names.timestamp) is not in the data; "
            f"columns are: {', '.join(schema.names()[:20])}"
        )
    dtype = schema[column]
    expr = pl.col(column)
    unparsed: pl.Expr | None = None
    if dtype == pl.String:
        expr = expr.str.to_datetime(time_zone="UTC", strict=False)
        unparsed = (pl.col(column).is_not_null() & expr.is_null()).sum()
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
    return frame.filter(condition), unparsed


@dataclass(frozen=True)
class WindowData:
    """A dataset's rows in one window, with where they came from.

    ``unparsed_timestamps``: rows whose timestamp text could not be read as a time; they are in no window,
    so the signal must say how many (notes and ``details``) rather than drop them in silence.
    """

    frame: pl.DataFrame
    files: int
    window: Window
    unparsed_timestamps: int = 0


def _windowed(files: list[str], window: Window, timestamp_column: str | None,
              columns: Sequence[str] | None) -> tuple[pl.LazyFrame, int]:
    """The lazy rows of ``files`` inside ``window`` (the columns of ``columns`` present) and how many rows
    had an unparsable timestamp (counted by a streaming pass: one number)."""
    frame = scan_files(files)
    unparsed = 0
    if timestamp_column is not None and window.bounded:
        frame, unparsed_expr = _window_filter(frame, timestamp_column, window)
        if unparsed_expr is not None:
            unparsed = int(scan_files(files).select(unparsed_expr).collect(engine="streaming").item())
    if columns is not None:
        present = frame.collect_schema().names()
        frame = frame.select([c for c in columns if c in present])
    return frame, unparsed


def read_window(uri: str, window: Window, *, timestamp_column: str | None = None,
                columns: Sequence[str] | None = None,
                list_fn: Callable[[str], list[str]] = list_files) -> WindowData:
    """Rows of the dataset at ``uri`` inside ``window`` (unbounded window: every row)."""
    files = window_files(uri, window, timestamp_column=timestamp_column, list_fn=list_fn)
    if not files:
        return WindowData(pl.DataFrame(), 0, window)
    try:
        frame, unparsed = _windowed(files, window, timestamp_column, columns)
        collected = frame.collect()
    except (ConnectionError, TimeoutError):
        raise  # transient: the caller's retries decide, it is not a property of the data
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(_read_error(uri, files, exc)) from exc
    return WindowData(collected, len(files), window, unparsed_timestamps=unparsed)


def scan_window(uri: str, window: Window, *, timestamp_column: str | None = None,
                columns: Sequence[str] | None = None,
                list_fn: Callable[[str], list[str]] = list_files) -> tuple[pl.LazyFrame, int]:
    """``read_window`` without the read: a lazy frame of the window's rows (the columns of ``columns``
    present) and the unparsable timestamp count, so that a caller streams it or reads parts of it."""
    files = window_files(uri, window, timestamp_column=timestamp_column, list_fn=list_fn)
    if not files:
        return pl.LazyFrame(), 0
    try:
        return _windowed(files, window, timestamp_column, columns)
    except (ConnectionError, TimeoutError):
        raise
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(_read_error(uri, files, exc)) from exc


def _read_error(uri: str, files: Sequence[str], exc: BaseException) -> str:
    """The read error with the file it came from: each file is read alone until one fails."""
    for file in files if len(files) > 1 else []:
        try:
            scan_one(file).collect()
        except (pl.exceptions.PolarsError, OSError) as single:
            return f"cannot read {file}: {one_line(str(single))}"
    where = files[0] if len(files) == 1 else uri
    return f"cannot read {where}: {one_line(str(exc))}"


def window_files(uri: str, window: Window, *, timestamp_column: str | None = None,
                 list_fn: Callable[[str], list[str]] = list_files) -> list[str]:
    """The files of ``uri`` that may hold rows of ``window``: those of its date folders, or every file when
    rows are selected by ``timestamp_column`` (or the window is unbounded)."""
    files = list_fn(uri)
    if timestamp_column is not None or not window.bounded:
        return files
    dated = [(f, partition_interval(f)) for f in files]
    if any(p is None for _, p in dated):
        undated = next(f for f, p in dated if p is None)
        raise DataError(
            f"cannot select the window {window} from {uri}: `{undated}` is not in a date folder "
            "(yyyy/MM/dd[/HH] or date=YYYY-MM-DD); set data_column_names.timestamp to the column "
            "holding each row's time"
        )
    return [f for f, interval in dated if interval is not None and _in_window(interval[1], window)]


def _in_window(partition_end: datetime, window: Window) -> bool:
    after_start = window.start is None or partition_end > window.start
    before_end = window.end is None or partition_end <= window.end
    return after_start and before_end
