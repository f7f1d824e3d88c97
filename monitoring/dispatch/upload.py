"""The rules an upload to ``incoming/`` must pass, as pure functions (``monitoring.dispatch.ingest`` moves blobs).

Limits are checked before anything is decoded, because a file's size on disk says little about its size
in memory: a 305 KB parquet file of 60 million constant rows decodes to more than a gigabyte.

* parquet: the footer (``pyarrow.parquet.read_metadata``) gives the row count and, per column chunk, the
  physical type and uncompressed size; the decoded size is the larger of that size and rows times the
  type's width in memory (RLE and dictionary pages decode to far more than they store), all read
  without decoding a page;
* CSV and JSONL: the rows are counted by streaming over the bytes (line breaks, stopping at the cap), and
  the decoded size is estimated as 8 bytes per cell plus the text itself.

Settings (``monitoring/settings.py``): ``INGEST_MAX_ROWS`` (default 10,000,000 rows) and
``INGEST_MAX_DECODED_MB`` (default 1,024 MB, on a 2 GB Flex Consumption instance).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import polars as pl

from monitoring.data.formats import SUPPORTED_TEXT, format_of, read_bytes
from monitoring.data.uris import is_cloud, split_cloud
from monitoring.errors import IngestProblem
from monitoring.names import as_utc, is_safe_part
from monitoring.settings import get_settings
from monitoring.text import one_line

if TYPE_CHECKING:
    from monitoring.definition import LoadedMonitor

#: Bytes a decoded cell takes at least (a float64 or int64; strings count their text besides).
CELL_BYTES = 8
_CHUNK = 1 << 20
#: Bytes per value in memory by parquet physical type; variable-width values (strings, binary) count a
#: 16-byte view each, besides their bytes. Pages are RLE or dictionary encoded, so a column chunk's
#: uncompressed size can be far below its size in memory: a million equal integers take 76 bytes.
_WIDTH = {"BOOLEAN": 1, "INT32": 4, "FLOAT": 4, "INT64": 8, "DOUBLE": 8, "INT96": 12}
_VARIABLE_WIDTH = 16


@dataclass(frozen=True)
class UploadLimits:
    """How big an upload may be once decoded: rows, and bytes in memory."""

    max_rows: int
    max_decoded_bytes: int

    @classmethod
    def from_settings(cls) -> UploadLimits:
        settings = get_settings()
        return cls(max_rows=settings.ingest_max_rows, max_decoded_bytes=settings.ingest_max_decoded_mb * 1024 * 1024)


def _parquet_size(content: bytes) -> tuple[int, int]:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(io.BytesIO(content))
    except Exception as exc:  # noqa: BLE001 - any footer pyarrow cannot read is a file we cannot read
        raise IngestProblem(f"not a readable parquet file: {one_line(str(exc), default=type(exc).__name__)}"
                            ) from None
    decoded = 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        for j in range(group.num_columns):
            column = group.column(j)
            width = _WIDTH.get(column.physical_type, _VARIABLE_WIDTH)
            decoded += max(column.total_uncompressed_size, group.num_rows * width)
    return meta.num_rows, decoded


def count_lines(content: bytes, cap: int) -> int:
    """Line breaks in ``content`` (plus a last line without one), counted chunk by chunk; stops past ``cap``."""
    lines = 0
    for start in range(0, len(content), _CHUNK):
        lines += content.count(b"\n", start, start + _CHUNK)
        if lines > cap:
            return lines
    return lines + (0 if content.endswith(b"\n") else 1)


def _text_size(content: bytes, kind: str, cap: int) -> tuple[int, int]:
    lines = count_lines(content, cap + 1)
    rows = max(lines - 1, 0) if kind == "CSV" else lines
    first = content[:content.find(b"\n")] if b"\n" in content else content
    columns = first.count(b",") + 1 if kind == "CSV" else max(first.count(b":"), 1)
    return rows, rows * columns * CELL_BYTES + len(content)


def check_limits(content: bytes, kind: str, limits: UploadLimits) -> None:
    """Refuse an upload whose row count or decoded size is over ``limits``, without decoding it."""
    if kind == "parquet":
        rows, decoded = _parquet_size(content)
        what = "decoded size (from the parquet footer)"
    else:
        rows, decoded = _text_size(content, kind, limits.max_rows)
        what = "estimated decoded size"
    if rows > limits.max_rows:
        raise IngestProblem(f"the file has {'more than ' if kind != 'parquet' else ''}{rows:,} rows, more than "
                            f"INGEST_MAX_ROWS ({limits.max_rows:,}); split it into smaller uploads")
    if decoded > limits.max_decoded_bytes:
        raise IngestProblem(f"the file's {what} is {decoded / 2**20:,.0f} MB, more than INGEST_MAX_DECODED_MB "
                            f"({limits.max_decoded_bytes / 2**20:,.0f} MB); split it into smaller uploads")


def split_name(name: str) -> tuple[str, str]:
    """(dataset, file) of a path under ``incoming``; subfolders below the dataset become part of the file."""
    parts = name.split("/")
    if len(parts) < 2:
        raise IngestProblem(f"`{name}` is not in a dataset folder: upload to incoming/<dataset>/<file>")
    bad = [p for p in parts if not is_safe_part(p)]
    if bad:
        raise IngestProblem(f"`{bad[0]}` in `{name}` is not a plain name: use letters, digits, `_`, `-`, `.` or `=`")
    return parts[0], "_".join(parts[1:])


def read_upload(name: str, content: bytes, limits: UploadLimits | None = None) -> pl.DataFrame:
    """The upload as a frame, read the way ``monitoring.data`` reads the dataset later; its row count and
    decoded size are checked against ``limits`` first (``check_limits``), so a small file that would
    decode into gigabytes is refused before any of it is decoded."""
    kind = format_of(name)
    if kind is None:
        suffix = PurePosixPath(name).suffix.lower()
        raise IngestProblem(f"`{suffix or name}` files are not supported: upload {SUPPORTED_TEXT}")
    if not content.strip():
        raise IngestProblem(f"the {kind} file is empty")
    check_limits(content, kind, limits or UploadLimits.from_settings())
    try:
        frame = read_bytes(content, kind)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise IngestProblem(f"not a readable {kind} file: {one_line(str(exc), default=type(exc).__name__)}") from None
    if frame.width == 0 or frame.height == 0:
        raise IngestProblem(f"the {kind} file has no rows")
    return frame


def _family(dtype: pl.DataType) -> str:
    if dtype == pl.Null:
        return "null"
    if dtype.is_numeric():
        return "number"
    if dtype == pl.Boolean:
        return "boolean"
    if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
        return "timestamp"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "text"
    return str(dtype.base_type())


def _compatible(new: pl.DataType, old: pl.DataType) -> bool:
    a, b = _family(new), _family(old)
    return a == b or "null" in (a, b) or {a, b} == {"timestamp", "text"}


def schema_problems(new: pl.Schema | dict[str, pl.DataType], existing: pl.Schema | dict[str, pl.DataType] | None
                    ) -> list[str]:
    """Why a file with schema ``new`` cannot join a dataset whose latest file has ``existing`` (none: ok)."""
    if existing is None:
        return []
    problems = []
    missing = [c for c in existing if c not in new]
    if missing:
        problems.append(f"missing column(s) the dataset has: {', '.join(missing)}")
    for column, dtype in new.items():
        if column in existing and not _compatible(dtype, existing[column]):
            problems.append(f"column `{column}` is {_family(dtype)} ({dtype}) but the dataset has "
                            f"{_family(existing[column])} ({existing[column]})")
    return problems


def _utc_times(series: pl.Series) -> pl.Series | None:
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        return series.dt.convert_time_zone("UTC") if dtype.time_zone else series.dt.replace_time_zone("UTC")
    if dtype == pl.Date:
        return series.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if dtype == pl.String:
        try:
            parsed = series.str.to_datetime(strict=False, time_zone="UTC")
        except pl.exceptions.PolarsError:
            return None
        return parsed
    return None


def partition_day(frame: pl.DataFrame, timestamp_columns: Sequence[str], uploaded_at: datetime
                  ) -> tuple[date, str]:
    """The day folder of an upload and what it came from: the latest timestamp, else the upload time."""
    temporal = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) or t == pl.Date]
    for column in dict.fromkeys([*timestamp_columns, *temporal]):
        if column not in frame.columns:
            continue
        times = _utc_times(frame[column])
        try:
            latest = times.max() if times is not None else None
        except (OverflowError, ValueError) as exc:
            raise IngestProblem(f"column `{column}` holds a timestamp outside the years 1-9999 ({exc})") from None
        if isinstance(latest, datetime):
            return as_utc(latest).date(), f"latest `{column}` value"
    return as_utc(uploaded_at).date(), "upload time"


def etag_token(etag: str) -> str:
    """An ETag as a file-name-safe token (``"0x8DC..."`` -> ``8dc...``)."""
    token = re.sub(r"[^0-9A-Za-z]", "", etag.strip('"').removeprefix("0x").removeprefix("0X")).lower()
    return token or hashlib.sha256(etag.encode()).hexdigest()[:16]


def destination_name(dataset: str, day: date, file: str, etag: str) -> str:
    stem, suffix = PurePosixPath(file).stem, PurePosixPath(file).suffix
    return f"{dataset}/{day:%Y/%m/%d}/{stem}.{etag_token(etag)}{suffix}"


def quarantine_name(name: str) -> str:
    """``name`` with anything that is not a plain name character replaced, so it is safe anywhere."""
    parts = [re.sub(r"[^A-Za-z0-9_.=-]", "_", p).lstrip(".") or "_" for p in name.split("/") if p]
    return "/".join(parts) or "unnamed"


def dataset_of_uri(uri: str, container: str = "data") -> str | None:
    """The dataset folder an ``az://``/``abfs[s]://`` URI points into, if it is in ``container``."""
    if not uri or not is_cloud(uri):
        return None
    found, prefix = split_cloud(uri)
    if found != container:
        return None
    return prefix.split("/", 1)[0] or None


def timestamp_columns(monitors: Iterable[LoadedMonitor], dataset: str, container: str = "data") -> list[str]:
    """The timestamp columns monitors declare for a dataset, most used first: the ingest's partition key."""
    counts: dict[str, int] = {}
    for loaded in monitors:
        for signal in loaded.schedule.signals().values():
            for spec in (signal.production_data, signal.reference_data):
                if spec is None or spec.input_data is None or not spec.data_column_names.timestamp:
                    continue
                if dataset_of_uri(spec.input_data.path, container) == dataset:
                    column = spec.data_column_names.timestamp
                    counts[column] = counts.get(column, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])


__all__ = [
    "CELL_BYTES", "IngestProblem", "UploadLimits", "check_limits", "count_lines", "dataset_of_uri",
    "destination_name", "etag_token", "partition_day", "quarantine_name", "read_upload", "schema_problems",
    "split_name", "timestamp_columns",
]
