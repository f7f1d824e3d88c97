"""Dataset listings on Blob Storage carry each blob's version, so caches keyed on them notice rewrites."""

from __future__ import annotations

import io
from typing import Any

import polars as pl

from monitoring.data.read import file_versions
from monitoring.data.refs import DataRef
from monitoring.run.importance_cache import importance_fingerprint
from monitoring.storage import blob
from signals.importance import ImportanceConfig


def _parquet(values: list[float]) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame({"x": values, "y": [1] * len(values)}).write_parquet(buffer)
    return buffer.getvalue()


def test_overwriting_a_blob_changes_its_version_and_the_importance_fingerprint(storage: Any) -> None:
    container = blob.container_client(blob.DATA)
    container.upload_blob("train/part.parquet", _parquet([1.0, 2.0]))
    container.upload_blob("train/notes.txt", b"not data")
    ref = DataRef(uri="az://data/train/")

    def fingerprint() -> str:
        return importance_fingerprint(ref, target="y", features=["x"], overrides={}, task=None, segment=None,
                                      config=ImportanceConfig())

    first_versions, first = file_versions(ref.uri), fingerprint()
    assert list(first_versions) == ["az://data/train/part.parquet"]
    assert fingerprint() == first  # the same data, the same key
    container.upload_blob("train/part.parquet", _parquet([3.0, 4.0]), overwrite=True)
    assert list(file_versions(ref.uri)) == list(first_versions)  # same name
    assert file_versions(ref.uri) != first_versions  # new ETag
    assert fingerprint() != first
