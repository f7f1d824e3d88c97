"""The data file formats read, by suffix, and the one scan of a list of files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from monitoring.data.uris import is_cloud, storage_options

SUPPORTED_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".json", ".csv")


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
