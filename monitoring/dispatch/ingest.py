"""Bring-your-own data: an upload to ``incoming/<dataset>/...`` joins ``data/<dataset>/`` or goes to quarantine.

An upload joins its dataset only if it is readable (parquet, JSONL or CSV, at least one row) and its
columns are compatible with the dataset's latest file: every column the dataset has is present, and each
shared column keeps its kind (numbers stay numbers, text stays text; integers may become floats, and a
timestamp may arrive as ISO text). New columns are welcome. The file is copied byte for byte to
``data/<dataset>/yyyy/MM/dd/<file>.<etag><suffix>``: the day is the UTC date of the latest timestamp in
the file (the monitors' ``data_column_names.timestamp`` column, else the first datetime column), or the
upload time when it has none. The copy is verified (size and MD5) before the upload is deleted.

Anything else is copied to ``quarantine/<name>`` with ``<name>.error.json`` stating the reason, then the
upload is deleted: nothing is lost, and ``incoming`` only ever holds work not yet looked at. Nothing in
quarantine is ever overwritten: a name already taken (an earlier upload of the same name, or another
upload's error record) gets the ETag, and if need be a random suffix, before its suffix. The rules and
limits are in ``monitoring.dispatch.upload``.

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
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from monitoring.data.formats import SUPPORTED_SUFFIXES, scan_files
from monitoring.dispatch.due import arrival_runs
from monitoring.dispatch.upload import (
    IngestProblem,
    UploadLimits,
    dataset_of_uri,
    destination_name,
    etag_token,
    partition_day,
    quarantine_name,
    read_upload,
    schema_problems,
    split_name,
    timestamp_columns,
)
from monitoring.errors import MonitoringError
from monitoring.names import as_utc, iso_utc
from monitoring.text import one_line

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties, ContainerClient

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
    error_record: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["batch_end"] = self.batch_end.isoformat() if self.batch_end else None
        return out


# --------------------------------------------------------------------------------------------------
# Blob operations


def _md5(content: bytes) -> bytes:
    return hashlib.md5(content, usedforsecurity=False).digest()


def _if(etag: str) -> dict[str, Any]:
    from azure.core import MatchConditions

    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def _ingested_at(item: Any) -> datetime:
    """When a data file arrived: its recorded ``ingested_at`` metadata, else its last-modified time."""
    recorded = (item.metadata or {}).get("ingested_at")
    if recorded:
        try:
            return as_utc(datetime.fromisoformat(recorded.replace("Z", "+00:00")))
        except ValueError:
            log.debug("unreadable ingested_at %r on %s", recorded, item.name)
    return as_utc(item.last_modified) if item.last_modified else datetime.min.replace(tzinfo=UTC)


def latest_schema(data: ContainerClient, dataset: str) -> pl.Schema | None:
    """The schema of the dataset's most recently ingested file (by ingest time, never by path: a file dated
    2099 must not decide the schema of every later upload), or None for a new dataset."""

    files = [b for b in data.list_blobs(name_starts_with=f"{dataset}/", include=["metadata"])
             if b.name.lower().endswith(SUPPORTED_SUFFIXES)]
    if not files:
        return None
    latest = max(files, key=lambda b: (_ingested_at(b), b.name)).name
    try:
        return scan_files([f"az://{data.container_name}/{latest}"]).collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        log.warning("cannot read the schema of %s/%s (%s); the upload is not compared with it",
                    data.container_name, latest, one_line(str(exc), default=type(exc).__name__))
        return None


def _copy_verified(target: ContainerClient, name: str, content: bytes, *, etag: str, source: str,
                   content_type: str | None, metadata: dict[str, str] | None = None) -> bool:
    """Upload ``content`` as ``name`` unless that exact copy exists; verify it. True if written now."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContentSettings

    digest = _md5(content)
    blob = target.get_blob_client(name)
    written = True
    try:
        blob.upload_blob(content, overwrite=False, validate_content=True,
                         metadata={"source": source, "source_etag": etag, **(metadata or {})},
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


def _free_name(container: ContainerClient, name: str, *, etag: str, role: str) -> str:
    """``name``, or a variant of it, that holds nothing but this upload's ``role`` ("upload" or "error"):
    a name taken by another upload, or by another upload's error record, is never overwritten."""
    from azure.core.exceptions import ResourceNotFoundError

    path = PurePosixPath(name)
    for candidate in (name, str(path.with_name(f"{path.stem}.{etag_token(etag)}{path.suffix}")),
                      str(path.with_name(f"{path.stem}.{etag_token(etag)}-{uuid.uuid4().hex[:8]}{path.suffix}"))):
        try:
            meta = container.get_blob_client(candidate).get_blob_properties().metadata
        except ResourceNotFoundError:
            return candidate
        if meta.get("source_etag") == etag and meta.get("role", "upload") == role:
            return candidate  # this upload's own copy from an earlier delivery of the event
    raise MonitoringError(f"no free name for {name} in {container.container_name}")


def _quarantine(name: str, reason: str, *, props: BlobProperties, content: bytes | None,
                incoming: ContainerClient, quarantine: ContainerClient, dataset: str | None) -> IngestOutcome:
    """Copy the upload and its reason to quarantine (never overwriting anything there), then delete it."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContentSettings

    etag = props.etag
    target = _free_name(quarantine, quarantine_name(name), etag=etag, role="upload")
    record = _free_name(quarantine, f"{target}.error.json", etag=etag, role="error")
    if content is None and props.size <= MAX_UPLOAD_BYTES:  # rejected before it was read (e.g. by its name)
        content = incoming.download_blob(name, **_if(etag)).readall()
    source = f"{incoming.container_name}/{name}"
    links = {"role": "upload", "error_record": record}
    if content is not None:
        written = _copy_verified(quarantine, target, content, etag=etag, source=source,
                                 content_type=props.content_settings.content_type, metadata=links)
    else:  # too large to hold in memory
        written = _stream_copy(incoming, name, quarantine, target, props, metadata=links)
    document = {"source": source, "etag": etag, "size": props.size,
                "uploaded_at": as_utc(props.last_modified).isoformat() if props.last_modified else None,
                "dataset": dataset, "reason": reason, "quarantined_as": f"{quarantine.container_name}/{target}"}
    try:
        quarantine.upload_blob(record, json.dumps(document, indent=2).encode(), overwrite=False,
                               metadata={"source_etag": etag, "role": "error"},
                               content_settings=ContentSettings(content_type="application/json"))
    except ResourceExistsError:
        log.info("the error record %s exists from an earlier delivery", record)
    _delete_source(incoming, name, etag)
    log.warning("quarantined %s as %s/%s: %s", source, quarantine.container_name, target, reason)
    return IngestOutcome("quarantined" if written else "duplicate", source, etag=etag,
                         destination=f"{quarantine.container_name}/{target}", dataset=dataset, reason=reason,
                         error_record=f"{quarantine.container_name}/{record}")


def _stream_copy(incoming: ContainerClient, name: str, target: ContainerClient, target_name: str,
                 props: BlobProperties, *, metadata: dict[str, str] | None = None) -> bool:
    """Copy a large upload chunk by chunk (never whole in memory); verify the size. True if written now."""
    from azure.core.exceptions import ResourceExistsError

    blob = target.get_blob_client(target_name)
    written = True
    try:
        stream = incoming.download_blob(name, **_if(props.etag))
        blob.upload_blob(stream.chunks(), length=props.size, overwrite=False,
                         metadata={"source": f"{incoming.container_name}/{name}", "source_etag": props.etag,
                                   **(metadata or {})})
    except ResourceExistsError:
        written = False
    copied = blob.get_blob_properties()
    if copied.size != props.size or copied.metadata.get("source_etag") != props.etag:
        raise MonitoringError(f"{target.container_name}/{target_name} does not match incoming/{name}; kept in incoming")
    return written


def _check(name: str, content: bytes, *, data: ContainerClient, dataset: str, props: BlobProperties,
           timestamp_columns: Sequence[str], limits: UploadLimits | None) -> tuple[pl.DataFrame, Any, str]:
    """The upload's frame and day folder; ``IngestProblem`` when it cannot join the dataset."""
    frame = read_upload(name, content, limits)
    problems = schema_problems(frame.schema, latest_schema(data, dataset))
    if problems:
        raise IngestProblem("columns are not compatible with the dataset: " + "; ".join(problems))
    day, how = partition_day(frame, timestamp_columns, props.last_modified or datetime.now(UTC))
    return frame, day, how


def ingest_blob(name: str, *, incoming: ContainerClient, data: ContainerClient, quarantine: ContainerClient,
                timestamp_columns: Sequence[str] = (), etag: str | None = None,
                limits: UploadLimits | None = None) -> IngestOutcome:
    """Validate ``incoming/<name>`` and move it into ``data`` or ``quarantine`` (see the module docstring).

    ``etag``: the version the event announced; a newer version under the same name is left for its own
    event. Raises only when storage fails (the trigger retries); every other error while checking the
    file, expected (``IngestProblem``) or not (say an ``OverflowError`` from a year-146,000 timestamp), is
    a quarantine with the reason, so nothing stays in ``incoming`` to be retried forever.
    """
    from azure.core.exceptions import AzureError, ResourceModifiedError, ResourceNotFoundError

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
        frame, day, how = _check(name, content, data=data, dataset=dataset, props=props,
                                 timestamp_columns=timestamp_columns, limits=limits)
    except IngestProblem as exc:
        return _quarantine(name, str(exc), props=props, content=content, incoming=incoming, quarantine=quarantine,
                           dataset=dataset)
    except AzureError:
        raise  # storage, not the file: the trigger retries
    except Exception as exc:
        log.exception("unexpected error while checking %s", source)
        reason = f"unexpected error while checking the file: {type(exc).__name__}: {one_line(str(exc))}"
        return _quarantine(name, reason, props=props, content=content, incoming=incoming, quarantine=quarantine,
                           dataset=dataset)
    return _ingest(name, content, file=file, dataset=dataset, day=day, how=how, rows=frame.height, props=props,
                   incoming=incoming, data=data)


def _ingest(name: str, content: bytes, *, file: str, dataset: str, day: Any, how: str, rows: int,
            props: BlobProperties, incoming: ContainerClient, data: ContainerClient) -> IngestOutcome:
    """Copy a checked upload into its day folder, with its ingest time recorded, and delete it."""
    source = f"{incoming.container_name}/{name}"
    target = destination_name(dataset, day, file, props.etag)
    written = _copy_verified(data, target, content, etag=props.etag, source=source,
                             content_type=props.content_settings.content_type,
                             metadata={"ingested_at": iso_utc(datetime.now(UTC))})
    _delete_source(incoming, name, props.etag)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    outcome = IngestOutcome("ingested" if written else "duplicate", source, etag=props.etag,
                            destination=f"{data.container_name}/{target}", dataset=dataset, rows=rows,
                            partition=f"{day:%Y/%m/%d}", partition_from=how, batch_end=start + timedelta(days=1))
    log.info("%s %s -> %s (%d rows, day from %s)", outcome.status, source, outcome.destination, rows, how)
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
    "MAX_UPLOAD_BYTES", "Arrival", "IngestOutcome", "IngestProblem", "UploadLimits", "dataset_of_uri",
    "destination_name", "etag_token", "ingest_blob", "latest_schema", "partition_day", "quarantine_name",
    "read_upload", "receive", "schema_problems", "split_name", "timestamp_columns",
]
