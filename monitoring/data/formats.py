"""The data file formats read, by suffix, and the one scan of a list of files."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from monitoring.data.uris import is_cloud, storage_options

#: Rows read to infer the schema of JSONL and CSV files.
INFER_ROWS = 10_000
#: File suffix -> format. JSON files are read as JSON Lines (one object per line).
FORMATS: dict[str, str] = {".parquet": "parquet", ".jsonl": "JSONL", ".ndjson": "JSONL", ".json": "JSONL",
                           ".csv": "CSV"}
SUPPORTED_SUFFIXES = tuple(FORMATS)
SUPPORTED_TEXT = "parquet, JSONL (.jsonl, .ndjson, .json) or CSV"


def format_of(name: str) -> str | None:
    """The format of a file by its suffix (``?query`` ignored), or None if it is not a data file."""
    return FORMATS.get(Path(name.split("?", 1)[0]).suffix.lower())


def read_bytes(content: bytes, kind: str) -> pl.DataFrame:
    """A whole file's bytes as a frame, read exactly as ``scan_files`` reads the same format."""
    source = io.BytesIO(content)
    if kind == "parquet":
        return pl.read_parquet(source)
    if kind == "JSONL":
        return pl.read_ndjson(source, infer_schema_length=INFER_ROWS)
    return pl.read_csv(source, try_parse_dates=True, infer_schema_length=INFER_ROWS)


# --------------------------------------------------------------------------------------------------
# Scanning


def _scan_file(file: str, options: dict[str, str] | None) -> pl.LazyFrame:
    kind = format_of(file)
    if kind == "parquet":
        return pl.scan_parquet(file, storage_options=options)
    if kind == "JSONL":
        return pl.scan_ndjson(file, storage_options=options, infer_schema_length=INFER_ROWS)
    return pl.scan_csv(file, storage_options=options, try_parse_dates=True, infer_schema_length=INFER_ROWS)


def scan_files(files: Sequence[str]) -> pl.LazyFrame:
    """One lazy frame over files whose columns may differ: missing columns are null, types widened."""
    options = storage_options() if files and is_cloud(files[0]) else None
    scans = [_scan_file(f, options) for f in files]
    if len(scans) == 1:
        return scans[0]
    return pl.concat(scans, how="diagonal_relaxed")
