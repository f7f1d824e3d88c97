"""Dataset folders as Spark, Azure ML, pandas and Delta write them; read errors that name the file."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from monitoring.data.read import list_files, read_window
from monitoring.errors import DataError
from monitoring.schedule.windows import Window


def _frame(n: int, offset: int = 0) -> pl.DataFrame:
    times = [f"2026-05-01T00:{i % 60:02d}:00Z" for i in range(n)]
    return pl.DataFrame({"x": list(range(offset, offset + n)), "t": times})


def test_spark_folder_reads_only_its_parts(tmp_path: Path) -> None:
    run = uuid.uuid4()
    for i in range(3):
        _frame(5, 5 * i).write_parquet(tmp_path / f"part-0000{i}-{run}.c000.snappy.parquet")
        (tmp_path / f".part-0000{i}-{run}.c000.snappy.parquet.crc").write_bytes(b"\x00crc")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / f"_committed_{run}").write_text("{}")
    (tmp_path / f"_started_{run}").write_text("")
    assert [Path(f).name for f in list_files(str(tmp_path))] == [
        f"part-0000{i}-{run}.c000.snappy.parquet" for i in range(3)]
    assert sorted(read_window(str(tmp_path), Window()).frame["x"].to_list()) == list(range(15))


def test_azureml_mltable_and_meta_json_beside_parquet_are_sidecars(tmp_path: Path) -> None:
    _frame(4).write_parquet(tmp_path / "data.parquet")
    (tmp_path / "MLTable").write_text("paths:\n  - pattern: ./*.parquet\n")
    (tmp_path / "meta.json").write_text(json.dumps({"schema": {"x": "int"}}))
    assert read_window(str(tmp_path), Window()).frame.height == 4


def test_delta_table_ignores_its_log(tmp_path: Path) -> None:
    _frame(3).write_parquet(tmp_path / "part-00000-aaaa.snappy.parquet")
    log = tmp_path / "_delta_log"
    log.mkdir()
    (log / "00000000000000000000.json").write_text(json.dumps({"commitInfo": {}}) + "\n")
    (log / "00000000000000000000.crc").write_text("{}")
    assert [Path(f).name for f in list_files(str(tmp_path))] == ["part-00000-aaaa.snappy.parquet"]


def test_pandas_hive_partitions_and_hidden_checkpoints(tmp_path: Path) -> None:
    for day in ("2026-05-01", "2026-05-02"):
        folder = tmp_path / f"date={day}"
        folder.mkdir()
        _frame(2).write_csv(folder / "data.csv")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "data-checkpoint.csv").write_text("garbage\n")
    assert len(list_files(str(tmp_path))) == 2


def test_two_data_formats_are_an_error_naming_them(tmp_path: Path) -> None:
    _frame(2).write_parquet(tmp_path / "a.parquet")
    _frame(2).write_ndjson(tmp_path / "b.jsonl")
    with pytest.raises(DataError, match=r"2 formats \(JSONL: b.jsonl; parquet: a.parquet\)"):
        list_files(str(tmp_path))


@pytest.mark.parametrize("content", [b"PAR1garbage", b"", None])
def test_broken_parquet_names_the_file(tmp_path: Path, content: bytes | None) -> None:
    _frame(3).write_parquet(tmp_path / "a.parquet")
    good = (tmp_path / "a.parquet").read_bytes()
    (tmp_path / "b.parquet").write_bytes(good[: len(good) // 2] if content is None else content)
    with pytest.raises(DataError) as info:
        read_window(str(tmp_path), Window())
    assert str(info.value).startswith(f"cannot read {tmp_path / 'b.parquet'}: ")


def test_json_array_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "rows.json").write_text(json.dumps([{"x": 1}, {"x": 2}]))
    with pytest.raises(DataError, match=r"cannot read .*rows.json: NDJSON line expected to contain JSON object"):
        read_window(str(tmp_path / "rows.json"), Window())


def test_unparsable_timestamps_are_counted(tmp_path: Path) -> None:
    times = ["2026-05-01T01:00:00Z", "not a time", "2026-05-01T02:00:00Z", "yesterday", None, "2026-05-03T00:00:00Z"]
    pl.DataFrame({"x": range(6), "t": times}).write_parquet(tmp_path / "a.parquet")
    window = Window(datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC))
    data = read_window(str(tmp_path), window, timestamp_column="t")
    assert sorted(data.frame["x"].to_list()) == [0, 2]
    assert data.unparsed_timestamps == 2  # "not a time", "yesterday"; a null is missing, not unparsable
