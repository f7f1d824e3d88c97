"""The data file formats read, by suffix, and the one scan of a list of files."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from monitoring.data.uris import is_cloud, storage_options
from monitoring.errors import DataError

#: Rows read to infer the schema of JSONL and CSV files.
INFER_ROWS = 10_000
#: File suffix -> format. JSON files are read as JSON Lines (one object per line).
FORMATS: dict[str, str] = {".parquet": "parquet", ".jsonl": "JSONL", ".ndjson": "JSONL", ".json": "JSONL",
                           ".csv": "CSV"}
SUPPORTED_SUFFIXES = tuple(FORMATS)
SUPPORTED_TEXT = "parquet, JSONL (.jsonl, .ndjson, .json) or CSV"


#: Names pipelines write beside data files (Spark's ``_SUCCESS``/``_committed_*``/``.crc``, Delta's
#: ``_delta_log/``, Azure ML's ``MLTable``): any path part starting with ``_`` or ``.``, or these names.
SIDECAR_NAMES = frozenset({"mltable"})


def is_sidecar(relative: str) -> bool:
    """True for a file a pipeline writes beside its data (never read as data), by its path below the dataset."""
    parts = [p for p in relative.replace("\\", "/").split("/") if p]
    return any(p.startswith(("_", ".")) for p in parts) or (bool(parts) and (
        parts[-1].lower() in SIDECAR_NAMES or parts[-1].lower().endswith(".crc")))


def data_files(names: list[str], where: str) -> list[str]:
    """The data files among a folder's files (paths below the folder), without sidecars.

    A ``.json`` beside parquet or CSV files is metadata (``meta.json``, a schema), not JSON Lines data; any
    other mix of formats is an error naming them, since one dataset has one format.
    """
    kept = [n for n in names if format_of(n) is not None and not is_sidecar(n)]
    by_format: dict[str, list[str]] = {}
    for name in kept:
        by_format.setdefault(_format_name(name), []).append(name)
    if len(by_format) > 1 and ".json" in by_format:
        del by_format[".json"]
    if len(by_format) > 1:
        listing = "; ".join(f"{kind}: {files[0]}" + (f" and {len(files) - 1} more" if len(files) > 1 else "")
                            for kind, files in sorted(by_format.items()))
        raise DataError(f"dataset {where} holds files of {len(by_format)} formats ({listing}); a dataset has one "
                        "format: point input_data.path at one folder or a glob such as <folder>/*.parquet")
    return [n for files in by_format.values() for n in files]


def _format_name(name: str) -> str:
    suffix = Path(name.split("?", 1)[0]).suffix.lower()
    return ".json" if suffix == ".json" else FORMATS[suffix]


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


def scan_one(file: str) -> pl.LazyFrame:
    """One file's lazy frame, read as ``scan_files`` reads it."""
    return _scan_file(file, storage_options() if is_cloud(file) else None)


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
