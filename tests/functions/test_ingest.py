"""Bring-your-own data against Azurite: good files join their dataset, bad ones are quarantined with a
reason, nothing is ever lost, and a redelivered event makes no second copy."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from functions import ingest as ingest_function
from monitoring.definition import load_text
from monitoring.dispatch import ingest as ingest_module
from monitoring.dispatch.ingest import (
    dataset_of_uri,
    etag_token,
    ingest_blob,
    partition_day,
    read_upload,
    schema_problems,
    split_name,
    timestamp_columns,
)
from monitoring.errors import IngestProblem
from monitoring.storage import blob
from monitoring.storage.definitions import definition_store
from tests.conftest import parquet_bytes, user_function
from tests.durable_client import FakeDurableExtension

SCHEMA = {"id": pl.Int64, "amount": pl.Float64, "state": pl.String, "ts": pl.Datetime("us", "UTC")}


def _frame(day: date, n: int = 20, **extra: Any) -> pl.DataFrame:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    frame = pl.DataFrame({"id": list(range(n)), "amount": [float(i) * 1.5 for i in range(n)],
                          "state": ["CA", "WA"] * (n // 2),
                          "ts": [start + timedelta(hours=i % 24) for i in range(n)]}, schema=SCHEMA)
    return frame.with_columns(**{k: pl.lit(v) for k, v in extra.items()})


def _containers() -> dict[str, Any]:
    return {"incoming": blob.container_client(blob.INCOMING), "data": blob.container_client(blob.DATA),
            "quarantine": blob.container_client(blob.QUARANTINE)}


def _upload(name: str, content: bytes) -> str:
    client = blob.container_client(blob.INCOMING).upload_blob(name, content)
    return client.get_blob_properties().etag


def _names(container: str) -> list[str]:
    return sorted(b.name for b in blob.container_client(container).list_blobs())


def _read(container: str, name: str) -> bytes:
    return blob.container_client(container).download_blob(name).readall()


# --------------------------------------------------------------------------------------------------
# The rules, without storage


@pytest.mark.parametrize(("name", "problem"), [
    ("loose.parquet", "not in a dataset folder"),
    ("sales/bad name.csv", "not a plain name"),
    ("sales/../etc.csv", "not a plain name"),
])
def test_upload_names_must_be_plain_and_in_a_dataset_folder(name: str, problem: str) -> None:
    with pytest.raises(IngestProblem, match=problem):
        split_name(name)


def test_subfolders_below_the_dataset_fold_into_the_file_name() -> None:
    assert split_name("sales/2026/batch.csv") == ("sales", "2026_batch.csv")


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("x.parquet", b"PAR1 this is not parquet", "not a readable parquet file"),
    ("x.csv", b"", "the CSV file is empty"),
    ("x.csv", b"a,b\n", "no rows"),
    ("x.jsonl", b'{"a": 1}\n{"a": ', "not a readable JSONL file"),
    ("x.xlsx", b"PK\x03\x04", "`.xlsx` files are not supported"),
])
def test_unreadable_uploads_say_why(name: str, content: bytes, problem: str) -> None:
    with pytest.raises(IngestProblem, match=problem):
        read_upload(name, content)


def test_schema_compatibility_allows_widening_and_new_columns_but_not_kind_changes() -> None:
    existing = dict(SCHEMA)
    assert schema_problems(existing, None) == []
    widened = {**existing, "id": pl.Float64, "ts": pl.String, "extra": pl.Boolean}
    assert schema_problems(widened, existing) == []
    problems = schema_problems({"id": pl.String, "amount": pl.Float64, "ts": pl.Datetime("us")}, existing)
    assert problems == ["missing column(s) the dataset has: state",
                        "column `id` is text (String) but the dataset has number (Int64)"]


def test_the_partition_is_the_day_of_the_latest_timestamp_else_the_upload_time() -> None:
    frame = _frame(date(2026, 2, 3)).with_columns(when=pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    uploaded = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
    assert partition_day(frame, ["when"], uploaded) == (date(2026, 2, 3), "latest `when` value")
    assert partition_day(frame, [], uploaded) == (date(2026, 2, 3), "latest `ts` value")
    assert partition_day(frame.drop("ts"), [], uploaded) == (date(2026, 2, 10), "upload time")
    local = datetime(2026, 2, 3, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    in_los_angeles = pl.DataFrame({"ts": [local]})
    assert partition_day(in_los_angeles, [], uploaded)[0] == local.astimezone(UTC).date()


def test_the_monitors_of_a_dataset_name_its_timestamp_column() -> None:
    definition = ("name: m\ntrigger: {type: on_arrival}\ncreate_monitor:\n  monitoring_signals:\n"
                  "    drift:\n      type: data_drift\n      production_data:\n"
                  "        input_data: {path: 'abfss://data@acct.dfs.core.windows.net/sales/'}\n"
                  "        data_column_names: {timestamp: event_time}\n"
                  "      reference_data: {input_data: {path: 'az://data/training/'}}\n")
    monitors = [load_text(definition, "m")]
    assert timestamp_columns(monitors, "sales") == ["event_time"]
    assert timestamp_columns(monitors, "training") == []
    assert dataset_of_uri("az://data/sales/2026/01/") == "sales"
    assert dataset_of_uri("az://other/sales/") is None
    assert dataset_of_uri("abfss://data@acct.dfs.core.windows.net/sales/x.parquet") == "sales"
    assert dataset_of_uri("abfss://other@acct.dfs.core.windows.net/sales/") is None
    assert dataset_of_uri("az://data/") is None
    assert dataset_of_uri("/local/data/sales/") is None


# --------------------------------------------------------------------------------------------------
# Against Azurite


@pytest.mark.azurite
def test_a_good_file_is_copied_into_its_day_folder_and_removed_from_incoming(storage: Any) -> None:
    content = parquet_bytes(_frame(date(2026, 2, 3)))
    etag = _upload("sales/batch.parquet", content)
    outcome = ingest_blob("sales/batch.parquet", **_containers(), etag=etag)
    target = f"sales/2026/02/03/batch.{etag_token(etag)}.parquet"
    assert outcome.status == "ingested"
    assert outcome.destination == f"data/{target}"
    assert (outcome.rows, outcome.partition, outcome.batch_end) == (20, "2026/02/03", datetime(2026, 2, 4, tzinfo=UTC))
    assert _names("data") == [target]
    assert hashlib.sha256(_read("data", target)).digest() == hashlib.sha256(content).digest()
    assert _names("incoming") == []


@pytest.mark.azurite
def test_a_compatible_csv_joins_a_parquet_dataset(storage: Any) -> None:
    first = _upload("sales/a.parquet", parquet_bytes(_frame(date(2026, 2, 3))))
    ingest_blob("sales/a.parquet", **_containers(), etag=first)
    csv = _frame(date(2026, 2, 4), extra_column=1).write_csv().encode()
    outcome = ingest_blob("sales/b.csv", **_containers(), etag=_upload("sales/b.csv", csv))
    assert (outcome.status, outcome.partition) == ("ingested", "2026/02/04")
    assert len(_names("data")) == 2


@pytest.mark.azurite
@pytest.mark.parametrize(("name", "content", "reason"), [
    ("sales/corrupt.parquet", b"PAR1\x00\x01garbage-not-a-footer", "not a readable parquet file"),
    ("sales/renamed.parquet", None, "missing column(s) the dataset has: state"),
    ("sales/retyped.parquet", None, "column `amount` is text"),
    ("stray.csv", b"a\n1\n", "not in a dataset folder"),
])
def test_an_invalid_file_is_quarantined_with_its_reason_and_nothing_is_lost(
        storage: Any, name: str, content: bytes | None, reason: str) -> None:
    ingest_blob("sales/a.parquet", **_containers(), etag=_upload("sales/a.parquet",
                                                                 parquet_bytes(_frame(date(2026, 2, 3)))))
    data_before = _names("data")
    if content is None:
        frame = _frame(date(2026, 2, 4))
        frame = frame.drop("state") if "renamed" in name else frame.with_columns(pl.col("amount").cast(pl.String))
        content = parquet_bytes(frame)
    outcome = ingest_blob(name, **_containers(), etag=_upload(name, content))
    assert outcome.status == "quarantined"
    assert outcome.destination == f"quarantine/{name}"
    assert _read("quarantine", name) == content
    error = json.loads(_read("quarantine", f"{name}.error.json"))
    assert reason in error["reason"]
    assert error["source"] == f"incoming/{name}"
    assert _names("incoming") == []
    assert _names("data") == data_before


@pytest.mark.azurite
def test_a_second_bad_upload_under_the_same_name_does_not_overwrite_the_first(storage: Any) -> None:
    first, second = b"PAR1 first", b"PAR1 second"
    ingest_blob("sales/x.parquet", **_containers(), etag=_upload("sales/x.parquet", first))
    etag = _upload("sales/x.parquet", second)
    outcome = ingest_blob("sales/x.parquet", **_containers(), etag=etag)
    assert _read("quarantine", "sales/x.parquet") == first
    assert outcome.destination == f"quarantine/sales/x.{etag_token(etag)}.parquet"
    assert _read("quarantine", f"sales/x.{etag_token(etag)}.parquet") == second


@pytest.mark.azurite
def test_a_redelivered_event_makes_no_second_copy(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    content = parquet_bytes(_frame(date(2026, 2, 3)))
    etag = _upload("sales/batch.parquet", content)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("host recycled before the delete")

    with monkeypatch.context() as patch:
        patch.setattr(ingest_module, "_delete_source", crash)
        with pytest.raises(ConnectionError):
            ingest_blob("sales/batch.parquet", **_containers(), etag=etag)
    assert _names("incoming") == ["sales/batch.parquet"]  # copied, not yet deleted: the event comes again
    again = ingest_blob("sales/batch.parquet", **_containers(), etag=etag)
    assert again.status == "duplicate"
    assert len(_names("data")) == 1
    assert _names("incoming") == []
    late = ingest_blob("sales/batch.parquet", **_containers(), etag=etag)
    assert late.status == "missing"
    assert len(_names("data")) == 1


@pytest.mark.azurite
def test_an_event_for_an_older_version_leaves_the_newer_upload_alone(storage: Any) -> None:
    old = _upload("sales/batch.parquet", parquet_bytes(_frame(date(2026, 2, 3))))
    blob.container_client(blob.INCOMING).upload_blob("sales/batch.parquet", parquet_bytes(_frame(date(2026, 2, 4))),
                                                     overwrite=True)
    outcome = ingest_blob("sales/batch.parquet", **_containers(), etag=old)
    assert outcome.status == "superseded"
    assert _names("incoming") == ["sales/batch.parquet"]
    assert _names("data") == []


def _sdk_blob_client(storage: Any, name: str) -> Any:
    """The trigger's argument as the worker builds it: the extension's converter over the model binding data
    the host sends (a reference to the blob, never its bytes)."""
    from azurefunctions.extensions.base import Datum as SdkDatum
    from azurefunctions.extensions.bindings.blob import BlobClient, BlobClientConverter

    content = json.dumps({"Connection": "DataStorage", "ContainerName": "incoming", "BlobName": name})
    reference = SimpleNamespace(version="1.0", source="AzureStorageBlobs", content_type="application/json",
                                content=content)
    return BlobClientConverter.decode(SdkDatum(type="model_binding_data", value=reference), trigger_metadata=None,
                                      pytype=BlobClient)


@pytest.mark.azurite
def test_the_blob_trigger_ingests_and_starts_the_on_arrival_runs(storage: Any, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    monkeypatch.setenv("DataStorage", storage.connection_string)
    definition = ("name: sales-arrivals\ntrigger: {type: on_arrival, dataset: sales, window: P1D}\n"
                  "create_monitor:\n  monitoring_signals:\n    drift:\n      type: data_drift\n"
                  "      production_data:\n        input_data: {path: 'az://data/sales/'}\n"
                  "        data_column_names: {timestamp: ts}\n"
                  "      reference_data: {input_data: {path: 'az://data/sales/'}}\n")
    definition_store().put(load_text(definition, "test"), definition)
    content = parquet_bytes(_frame(date(2026, 2, 3)))
    etag = _upload("sales/batch.parquet", content)
    assert etag
    extension = FakeDurableExtension()
    asyncio.run(user_function(ingest_function.bp, "ingest_blob")(_sdk_blob_client(storage, "sales/batch.parquet"),
                                                               client=extension.client()))
    assert _names("incoming") == []
    assert len(_names("data")) == 1
    assert [(name, iid) for name, iid, _ in extension.starts] == [("monitor_run", "sales-arrivals-20260204T0000Z")]
    assert extension.starts[0][2]["reason"] == "arrival"
