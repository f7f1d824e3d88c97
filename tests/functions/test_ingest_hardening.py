"""Ingest under hostile uploads: nothing in quarantine is overwritten, no upload stays in incoming, the
schema comes from the latest ingest, and decompression bombs are refused before they are decoded."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from monitoring.dispatch import ingest as ingest_module
from monitoring.dispatch import upload
from monitoring.dispatch.ingest import ingest_blob
from monitoring.dispatch.upload import IngestProblem, UploadLimits, check_limits, count_lines
from tests.conftest import parquet_bytes
from tests.functions.test_ingest import _containers, _frame, _names, _read, _upload


def _constant_parquet(rows: int) -> bytes:
    return parquet_bytes(pl.DataFrame({"id": np.zeros(rows, dtype=np.int64)}))


# --------------------------------------------------------------------------------------------------
# Limits, without storage


def test_parquet_rows_and_uncompressed_size_come_from_the_footer() -> None:
    content = _constant_parquet(300_000)
    meta = pq.read_metadata(io.BytesIO(content))
    assert meta.num_rows == 300_000
    decoded = pl.read_parquet(io.BytesIO(content)).estimated_size()  # what polars really holds
    assert decoded == 300_000 * 8
    assert len(content) < 20_000  # small on disk, large decoded
    check_limits(content, "parquet", UploadLimits(max_rows=300_000, max_decoded_bytes=decoded))
    with pytest.raises(IngestProblem, match="300,000 rows, more than INGEST_MAX_ROWS"):
        check_limits(content, "parquet", UploadLimits(max_rows=299_999, max_decoded_bytes=decoded))
    with pytest.raises(IngestProblem, match=r"decoded size \(from the parquet footer\) is .* INGEST_MAX_DECODED_MB"):
        check_limits(content, "parquet", UploadLimits(max_rows=10**9, max_decoded_bytes=decoded - 1))


def test_the_limits_are_checked_before_any_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("decoded despite the limits")

    monkeypatch.setattr(upload, "read_bytes", never)
    with pytest.raises(IngestProblem, match="INGEST_MAX_ROWS"):
        upload.read_upload("sales/bomb.parquet", _constant_parquet(5_000),
                           UploadLimits(max_rows=1_000, max_decoded_bytes=2**40))
    with pytest.raises(IngestProblem, match="INGEST_MAX_ROWS"):
        upload.read_upload("sales/bomb.csv", b"id\n" + b"0\n" * 5_000,
                           UploadLimits(max_rows=1_000, max_decoded_bytes=2**40))


@pytest.mark.parametrize(("text", "cap", "expected"), [
    (b"a\nb\nc\n", 10, 3), (b"a\nb\nc", 10, 3), (b"", 10, 1), (b"\n" * 5_000_000, 10, 5_000_000)])
def test_lines_are_counted_by_streaming_and_stop_past_the_cap(text: bytes, cap: int, expected: int) -> None:
    counted = count_lines(text, cap)
    if expected <= cap:
        assert counted == expected == len(text.splitlines()) + (1 if not text else 0)
    else:
        assert cap < counted <= expected  # stopped early: one chunk past the cap at most


def test_the_limit_settings_have_documented_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INGEST_MAX_ROWS", raising=False)
    monkeypatch.delenv("INGEST_MAX_DECODED_MB", raising=False)
    assert UploadLimits.from_settings() == UploadLimits(max_rows=10_000_000, max_decoded_bytes=1024 * 2**20)
    assert "10,000,000" in (upload.__doc__ or "")
    assert "1,024 MB" in (upload.__doc__ or "")


# --------------------------------------------------------------------------------------------------
# On Azurite


@pytest.mark.azurite
def test_an_error_record_never_overwrites_another_uploads_bytes(storage: Any) -> None:
    trap = b"{not json"
    first = ingest_blob("sales/x.csv.error.json", **_containers(), etag=_upload("sales/x.csv.error.json", trap))
    assert first.status == "quarantined"
    second = ingest_blob("sales/x.csv", **_containers(), etag=_upload("sales/x.csv", b""))
    assert second.status == "quarantined"
    assert _read("quarantine", "sales/x.csv.error.json") == trap  # the first upload's bytes, intact
    records = {o.error_record for o in (first, second)}
    assert len(records) == 2
    reasons = [json.loads(_read(*r.split("/", 1)))["reason"] for r in records if r]
    assert sorted(reasons) == sorted([first.reason, second.reason])
    again = ingest_blob("sales/x.csv", **_containers(), etag=_upload("sales/x.csv", b"   "))
    assert len({again.destination, second.destination, first.destination}) == 3
    assert len(_names("quarantine")) == 6  # three uploads, three records, none replaced


@pytest.mark.azurite
def test_a_timestamp_in_year_146000_is_quarantined_with_the_reason(storage: Any) -> None:
    far = pl.Series("ts", [4_545_000_000_000_000_000], dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))
    frame = pl.DataFrame({"id": [1], "amount": [1.0], "state": ["CA"]}).with_columns(far)
    outcome = ingest_blob("sales/far.parquet", **_containers(), etag=_upload("sales/far.parquet",
                                                                            parquet_bytes(frame)))
    assert outcome.status == "quarantined"
    assert "`ts`" in (outcome.reason or "")
    assert _names("incoming") == []


@pytest.mark.azurite
def test_any_unexpected_error_ends_in_quarantine(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(ingest_module, "partition_day", explode)
    content = parquet_bytes(_frame(date(2026, 2, 3)))
    outcome = ingest_blob("sales/odd.parquet", **_containers(), etag=_upload("sales/odd.parquet", content))
    assert outcome.status == "quarantined"
    assert outcome.reason == "unexpected error while checking the file: OverflowError: date value out of range"
    assert _read("quarantine", "sales/odd.parquet") == content
    assert _names("incoming") == []


@pytest.mark.azurite
def test_the_schema_is_the_latest_ingested_files_not_the_last_path(storage: Any) -> None:
    future = parquet_bytes(_frame(date(2099, 1, 1)))
    assert ingest_blob("sales/future.parquet", **_containers(),
                       etag=_upload("sales/future.parquet", future)).status == "ingested"
    evolved = parquet_bytes(_frame(date(2026, 2, 4), channel="web"))
    assert ingest_blob("sales/evolved.parquet", **_containers(),
                       etag=_upload("sales/evolved.parquet", evolved)).status == "ingested"
    stale = ingest_blob("sales/stale.parquet", **_containers(),
                        etag=_upload("sales/stale.parquet", parquet_bytes(_frame(date(2026, 2, 5)))))
    assert stale.status == "quarantined"  # the dataset has `channel` since the latest ingest
    assert "missing column(s) the dataset has: channel" in (stale.reason or "")
    recorded = [b.metadata.get("ingested_at") for b in
                _containers()["data"].list_blobs(include=["metadata"])]
    assert all(recorded)
    assert all(datetime.fromisoformat(t.replace("Z", "+00:00")) <= datetime.now(UTC) for t in recorded)


@pytest.mark.azurite
def test_a_decompression_bomb_is_quarantined(storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_MAX_DECODED_MB", "1")
    bomb = _constant_parquet(1_000_000)
    assert len(bomb) < 100_000
    outcome = ingest_blob("sales/bomb.parquet", **_containers(), etag=_upload("sales/bomb.parquet", bomb))
    assert outcome.status == "quarantined"
    assert "INGEST_MAX_DECODED_MB" in (outcome.reason or "")
