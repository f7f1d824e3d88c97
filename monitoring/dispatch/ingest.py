"""Bring-your-own data: an upload to ``incoming/<dataset>/...`` joins ``data/<dataset>/`` or goes to quarantine.

An upload joins its dataset only if it is readable (parquet, JSONL or CSV, at least one row) and its
columns are compatible with the dataset's latest file: every column the dataset has is present, and each
shared column keeps its kind (numbers stay numbers, text stays text; integers may become floats, and a
timestamp may arrive as ISO text). New columns are welcome. The file is copied byte for byte to
``data/<dataset>/yyyy/MM/dd/<file>.<etag><suffix>``: the day is the UTC date of the latest timestamp in
the file (the monitors' ``data_column_names.timestamp`` column, else the first datetime column), or the
upload time when it has none. The copy is verified (size and MD5) before the upload is deleted.

Anything else is copied to ``quarantine/<name>`` with ``<name>.error.json`` stating the reason, then the
upload is deleted: nothing is lost, and ``incoming`` only ever holds work not yet looked at.

Idempotent per blob version: the ETag is part of the destination name and recorded on the copy, so a
redelivered event (Event Grid delivers at least once) finds its copy and makes no second one; an event
for a blob already moved finds nothing to do; a newer upload under the same name is never deleted by the
older one's event (deletes are conditional on the ETag).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from monitoring.data.formats import SUPPORTED_SUFFIXES, SUPPORTED_TEXT, format_of, read_bytes, scan_files
from monitoring.data.uris import is_cloud, split_cloud
from monitoring.dispatch.due import arrival_runs
from monitoring.errors import IngestProblem, MonitoringError
from monitoring.names import as_utc, is_safe_part
from monitoring.text import one_line

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties, ContainerClient

    from monitoring.definition import LoadedMonitor
    from monitoring.dispatch.due import DueRun
    from monitoring.storage.definitions import DefinitionStore

log = logging.getLogger(__name__)

#: Uploads larger than this are quarantined (copied in chunks, never loaded): put big files straight into data/.
MAX_UPLOAD_BYTES = 256 * 1024 * 1024

Status = Literal["ingested", "quarantined", "duplicate", "missing", "superseded"]


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one upload, for logs and for starting ``on_arrival`` runs."""

    status: Status
    source: str
    etag: str | None = None
    destination: str | None = None
    dataset: str | None = None
    rows: int | None = None
    partition: str | None = None
    partition_from: str | None = None
    batch_end: datetime | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["batch_end"] = self.batch_end.isoformat() if self.batch_end else None
        return out


# --------------------------------------------------------------------------------------------------
# Pure rules


def split_name(name: str) -> tuple[str, str]:
    """(dataset, file) of a path under ``incoming``; subfolders below the dataset become part of the file."""
    parts = name.split("/")
    if len(parts) < 2:
        raise IngestProblem(f"`{name}` is not in a dataset folder: upload to incoming/<dataset>/<file>")
    bad = [p for p in parts if not is_safe_part(p)]
    if bad:
        raise IngestProblem(f"`{bad[0]}` in `{name}` is not a plain name: use letters, digits, `_`, `-`, `.` or `=`")
    return parts[0], "_".join(parts[1:])


def read_upload(name: str, content: bytes) -> pl.DataFrame:
    """The upload as a frame, read the way ``monitoring.data`` reads the dataset later."""
    kind = format_of(name)
    if kind is None:
        suffix = PurePosixPath(name).suffix.lower()
        raise IngestProblem(f"`{suffix or name}` files are not supported: upload {SUPPORTED_TEXT}")
    if not content.strip():
        raise IngestProblem(f"the {kind} file is empty")
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
        latest = times.max() if times is not None else None
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


# --------------------------------------------------------------------------------------------------
# Blob operations


def _md5(content: bytes) -> bytes:
    return hashlib.md5(content, usedforsecurity=False).digest()


def _if(etag: str) -> dict[str, Any]:
    from azure.core import MatchConditions

    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def latest_schema(data: ContainerClient, dataset: str) -> pl.Schema | None:
    """The schema of the dataset's latest file (by name, so by day folder), or None for a new dataset."""

    names = [b.name for b in data.list_blobs(name_starts_with=f"{dataset}/")
             if b.name.lower().endswith(SUPPORTED_SUFFIXES)]
    if not names:
        return None
    latest = max(names)
    try:
        return scan_files([f"az://{data.container_name}/{latest}"]).collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        log.warning("cannot read the schema of %s/%s (%s); the upload is not compared with it",
                    data.container_name, latest, one_line(str(exc), default=type(exc).__name__))
        return None


def _copy_verified(target: ContainerClient, name: str, content: bytes, *, etag: str, source: str,
                   content_type: str | None) -> bool:
    """Upload ``content`` as ``name`` unless that exact copy exists; verify it. True if written now."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContentSettings

    digest = _md5(content)
    blob = target.get_blob_client(name)
    written = True
    try:
        blob.upload_blob(content, overwrite=False, validate_content=True,
                         metadata={"source": source, "source_etag": etag},
                         content_settings=ContentSettings(content_type=content_type, content_md5=bytearray(digest)))
    except ResourceExistsError:
        written = False
    props = blob.get_blob_properties()
    stored_md5 = bytes(props.content_settings.content_md5 or b"")
    if props.size != len(content) or stored_md5 != digest or props.metadata.get("source_etag") != etag:
        raise MonitoringError(
            f"{target.container_name}/{name} does not match {source} (ETag {etag}): size {props.size} vs "
            f"{len(content)}, MD5 {base64.b64encode(stored_md5).decode()} vs {base64.b64encode(digest).decode()}; "
            "the upload is kept in incoming"
        )
    return written


def _delete_source(incoming: ContainerClient, name: str, etag: str) -> None:
    from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

    try:
        incoming.delete_blob(name, **_if(etag))
    except ResourceNotFoundError:
        log.info("incoming/%s was already deleted", name)
    except ResourceModifiedError:
        log.info("incoming/%s was replaced by a newer upload; that one is ingested by its own event", name)


def _quarantine(name: str, reason: str, *, props: BlobProperties, content: bytes | None,
                incoming: ContainerClient, quarantine: ContainerClient, dataset: str | None) -> IngestOutcome:
    """Copy the upload and its reason to quarantine (never overwriting another upload), then delete it."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.blob import ContentSettings

    etag = props.etag
    target = quarantine_name(name)
    try:
        existing = quarantine.get_blob_client(target).get_blob_properties()
        if existing.metadata.get("source_etag") != etag:
            path = PurePosixPath(target)
            target = str(path.with_name(f"{path.stem}.{etag_token(etag)}{path.suffix}"))
    except ResourceNotFoundError:
        pass
    if content is None and props.size <= MAX_UPLOAD_BYTES:  # rejected before it was read (e.g. by its name)
        content = incoming.download_blob(name, **_if(etag)).readall()
    source = f"{incoming.container_name}/{name}"
    if content is not None:
        written = _copy_verified(quarantine, target, content, etag=etag, source=source,
                                 content_type=props.content_settings.content_type)
    else:  # too large to hold in memory
        written = _stream_copy(incoming, name, quarantine, target, props)
    document = {"source": source, "etag": etag, "size": props.size,
                "uploaded_at": as_utc(props.last_modified).isoformat() if props.last_modified else None,
                "dataset": dataset, "reason": reason, "quarantined_as": f"{quarantine.container_name}/{target}"}
    quarantine.upload_blob(f"{target}.error.json", json.dumps(document, indent=2).encode(), overwrite=True,
                           content_settings=ContentSettings(content_type="application/json"))
    _delete_source(incoming, name, etag)
    log.warning("quarantined %s as %s/%s: %s", source, quarantine.container_name, target, reason)
    return IngestOutcome("quarantined" if written else "duplicate", source, etag=etag,
                         destination=f"{quarantine.container_name}/{target}", dataset=dataset, reason=reason)


def _stream_copy(incoming: ContainerClient, name: str, target: ContainerClient, target_name: str,
                 props: BlobProperties) -> bool:
    """Copy a large upload chunk by chunk (never whole in memory); verify the size. True if written now."""
    from azure.core.exceptions import ResourceExistsError

    blob = target.get_blob_client(target_name)
    written = True
    try:
        stream = incoming.download_blob(name, **_if(props.etag))
        blob.upload_blob(stream.chunks(), length=props.size, overwrite=False,
                         metadata={"source": f"{incoming.container_name}/{name}", "source_etag": props.etag})
    except ResourceExistsError:
        written = False
    copied = blob.get_blob_properties()
    if copied.size != props.size or copied.metadata.get("source_etag") != props.etag:
        raise MonitoringError(f"{target.container_name}/{target_name} does not match incoming/{name}; kept in incoming")
    return written


def ingest_blob(name: str, *, incoming: ContainerClient, data: ContainerClient, quarantine: ContainerClient,
                timestamp_columns: Sequence[str] = (), etag: str | None = None) -> IngestOutcome:
    """Validate ``incoming/<name>`` and move it into ``data`` or ``quarantine`` (see the module docstring).

    ``etag``: the version the event announced; a newer version under the same name is left for its own
    event. Raises only when storage fails (the trigger retries); every problem with the file itself is a
    quarantine with a reason.
    """
    from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

    source = f"{incoming.container_name}/{name}"
    blob = incoming.get_blob_client(name)
    try:
        props = blob.get_blob_properties()
    except ResourceNotFoundError:
        return IngestOutcome("missing", source, etag=etag, reason="no such upload: already moved, or deleted")
    if etag and props.etag.strip('"') != etag.strip('"'):
        return IngestOutcome("superseded", source, etag=etag, reason="a newer upload replaced this version")
    dataset: str | None = None
    content: bytes | None = None
    try:
        dataset, file = split_name(name)
        if props.size > MAX_UPLOAD_BYTES:
            raise IngestProblem(f"the file is {props.size} bytes, more than the {MAX_UPLOAD_BYTES} an upload may "
                                f"have; put large files straight into {data.container_name}/{dataset}/yyyy/MM/dd/")
        try:
            content = incoming.download_blob(name, **_if(props.etag)).readall()
        except ResourceModifiedError:
            return IngestOutcome("superseded", source, etag=props.etag, reason="replaced while being read")
        frame = read_upload(name, content)
        problems = schema_problems(frame.schema, latest_schema(data, dataset))
        if problems:
            raise IngestProblem("columns are not compatible with the dataset: " + "; ".join(problems))
        day, how = partition_day(frame, timestamp_columns, props.last_modified or datetime.now(UTC))
    except IngestProblem as exc:
        return _quarantine(name, str(exc), props=props, content=content, incoming=incoming, quarantine=quarantine,
                           dataset=dataset)
    target = destination_name(dataset, day, file, props.etag)
    written = _copy_verified(data, target, content, etag=props.etag, source=source,
                             content_type=props.content_settings.content_type)
    _delete_source(incoming, name, props.etag)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    outcome = IngestOutcome("ingested" if written else "duplicate", source, etag=props.etag,
                            destination=f"{data.container_name}/{target}", dataset=dataset, rows=frame.height,
                            partition=f"{day:%Y/%m/%d}", partition_from=how, batch_end=start + timedelta(days=1))
    log.info("%s %s -> %s (%d rows, day from %s)", outcome.status, source, outcome.destination, frame.height, how)
    return outcome


@dataclass(frozen=True)
class Arrival:
    """An ingest's outcome and the ``on_arrival`` runs it starts."""

    outcome: IngestOutcome
    runs: list[DueRun]


def receive(name: str, *, etag: str | None, definitions: DefinitionStore, incoming: ContainerClient,
            data: ContainerClient, quarantine: ContainerClient) -> Arrival:
    """The blob trigger's domain half: ingest one upload and find the monitors that run on its arrival."""

    monitors = [d.monitor for d in definitions.load_all() if d.monitor is not None]
    dataset = name.split("/", 1)[0]
    outcome = ingest_blob(name, incoming=incoming, data=data, quarantine=quarantine, etag=etag,
                          timestamp_columns=timestamp_columns(monitors, dataset, data.container_name))
    runs: list[DueRun] = []
    if outcome.status == "ingested" and outcome.dataset and outcome.batch_end is not None:
        runs = arrival_runs(monitors, dataset=outcome.dataset, batch_end=outcome.batch_end,
                            container=data.container_name)
    return Arrival(outcome, runs)


__all__ = [
    "MAX_UPLOAD_BYTES", "Arrival", "IngestOutcome", "dataset_of_uri", "destination_name",
    "etag_token", "ingest_blob", "latest_schema", "partition_day", "quarantine_name", "read_upload", "receive",
    "schema_problems", "split_name", "timestamp_columns",
]
