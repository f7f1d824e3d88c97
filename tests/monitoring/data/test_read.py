"""Reading windows from local files: schemas that differ, timestamps, date folders, MDC lines, assets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from monitoring.data.mdc import mdc_uri, read_mdc_lines, read_mdc_window
from monitoring.data.read import list_files, partition_interval, read_window
from monitoring.data.uris import load_asset_map, resolve_path, storage_options
from monitoring.errors import ConfigurationError, DataError
from monitoring.schedule.windows import Window


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_files_with_differing_columns_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    pl.DataFrame({"x": [1, 2], "y": ["p", "q"]}).write_parquet(tmp_path / "a" / "1.parquet")
    pl.DataFrame({"x": [3.5], "z": [True]}).write_parquet(tmp_path / "a" / "2.parquet")
    frame = read_window(str(tmp_path / "a"), Window()).frame
    assert sorted(frame.columns) == ["x", "y", "z"]
    assert frame["x"].dtype == pl.Float64
    assert frame.sort("x")["x"].to_list() == [1.0, 2.0, 3.5]
    assert frame["y"].null_count() == 1


def test_single_file_glob_and_columns(tmp_path: Path) -> None:
    pl.DataFrame({"a": [1], "b": [2]}).write_parquet(tmp_path / "one.parquet")
    pl.DataFrame({"a": [3], "b": [4]}).write_parquet(tmp_path / "two.parquet")
    pl.DataFrame({"a": [5], "b": [6]}).write_csv(tmp_path / "three.csv")
    assert read_window(str(tmp_path / "one.parquet"), Window()).frame.height == 1
    assert read_window(str(tmp_path / "*.parquet"), Window()).frame.height == 2
    assert read_window(str(tmp_path / "*.parquet"), Window(), columns=["a"]).frame.columns == ["a"]
    with pytest.raises(DataError, match=r"2 formats \(CSV: three.csv; parquet: one.parquet and 1 more\)"):
        read_window(str(tmp_path), Window())


@pytest.mark.parametrize("kind", ["aware", "naive", "string"])
def test_timestamp_window_is_half_open(tmp_path: Path, kind: str) -> None:
    times = [utc(2026, 1, 1) + timedelta(hours=h) for h in range(48)]
    column: object = times
    if kind == "naive":
        column = [t.replace(tzinfo=None) for t in times]
    elif kind == "string":
        column = [t.isoformat() for t in times]
    pl.DataFrame({"ts": column, "v": list(range(48))}).write_parquet(tmp_path / "d.parquet")
    window = Window(utc(2026, 1, 1, 12), utc(2026, 1, 2))
    frame = read_window(str(tmp_path), window, timestamp_column="ts").frame
    assert frame["v"].to_list() == list(range(12, 24))


def test_missing_timestamp_column_names_the_columns(tmp_path: Path) -> None:
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "d.parquet")
    with pytest.raises(DataError, match=r"timestamp column `ts`.*columns are: a"):
        read_window(str(tmp_path), Window(utc(2026, 1, 1), utc(2026, 1, 2)), timestamp_column="ts")


def test_date_partitions_belong_to_the_window_they_end_in(tmp_path: Path) -> None:
    for day in range(1, 6):
        folder = tmp_path / f"2026/01/{day:02d}"
        folder.mkdir(parents=True)
        pl.DataFrame({"day": [day]}).write_parquet(folder / "part.parquet")
    window = Window(utc(2026, 1, 2, 3, 15), utc(2026, 1, 4, 3, 15))
    assert sorted(read_window(str(tmp_path), window).frame["day"].to_list()) == [2, 3]
    next_window = Window(utc(2026, 1, 4, 3, 15), utc(2026, 1, 6, 3, 15))
    assert sorted(read_window(str(tmp_path), next_window).frame["day"].to_list()) == [4, 5]
    assert read_window(str(tmp_path), Window(utc(2027, 1, 1), utc(2027, 1, 2))).frame.height == 0


def test_hive_and_hourly_partitions() -> None:
    assert partition_interval("x/date=2026-02-03/f.parquet") == (utc(2026, 2, 3), utc(2026, 2, 4))
    assert partition_interval("x/date=2026-02-03/hour=05/f.jsonl") == (utc(2026, 2, 3, 5), utc(2026, 2, 3, 6))
    assert partition_interval("m/2026/02/03/07/f.jsonl") == (utc(2026, 2, 3, 7), utc(2026, 2, 3, 8))
    assert partition_interval("plain/file.parquet") is None


def test_bounded_window_without_timestamp_or_dates_is_a_clear_error(tmp_path: Path) -> None:
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "d.parquet")
    with pytest.raises(DataError, match=r"set data_column_names\.timestamp"):
        read_window(str(tmp_path), Window(utc(2026, 1, 1), utc(2026, 1, 2)))


def test_missing_dataset_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        list_files(str(tmp_path / "nope"))
    with pytest.raises(DataError, match="no parquet, JSONL or CSV files"):
        list_files(str(tmp_path))


def test_mdc_lines_expand_batches_with_indexed_correlation_ids(tmp_path: Path) -> None:
    lines = [
        json.dumps({"correlationid": "abc", "data": [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]}),
        json.dumps({"correlationid": "def", "data": json.dumps([{"x": 3, "y": "c"}])}),
        json.dumps({"correlationid": "ghi", "data": {"x": [4, 5], "y": ["d", "e"]}}),
    ]
    frame = read_mdc_lines(lines)
    assert frame["x"].to_list() == [1, 2, 3, 4, 5]
    assert frame["correlationid"].to_list() == ["abc_0", "abc_1", "def_0", "ghi_0", "ghi_1"]
    root = tmp_path / "mdc"
    for hour in (9, 10, 11):
        folder = root / "ep" / "dep" / "model_inputs" / "2026" / "03" / "01" / f"{hour:02d}"
        folder.mkdir(parents=True)
        (folder / "batch.jsonl").write_text(json.dumps({"correlationid": f"h{hour}", "data": [{"x": hour}]}) + "\n")
    uri = mdc_uri("ep", "dep", "model_inputs", root=str(root))
    window = Window(utc(2026, 3, 1, 10), utc(2026, 3, 1, 11))  # [10:00, 11:00): only the 10 o'clock folder
    assert read_mdc_window(uri, window).frame["x"].to_list() == [10]


def test_mdc_without_root_says_which_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MDC_ROOT", raising=False)
    with pytest.raises(ConfigurationError, match="MDC_ROOT"):
        mdc_uri("ep", "dep", "model_inputs")


def test_assets_resolve_through_the_map_or_explain_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "assets.yaml").write_text("azureml:training:1: data/training/\nother:2: az://data/other/\n")
    mapping = load_asset_map(str(tmp_path / "assets.yaml"))
    assert resolve_path("azureml:training:1", asset_map=mapping) == str(tmp_path / "data" / "training")
    assert resolve_path("azureml:other:2", asset_map=mapping) == "az://data/other/"
    with pytest.raises(ConfigurationError, match=r"add `azureml:missing:3: <data URI>` to an assets.yaml"):
        resolve_path("azureml:missing:3", asset_map=mapping)
    with pytest.raises(ConfigurationError, match="point `path` at the blob folder"):
        resolve_path("azureml://datastores/workspaceblobstore/paths/x/")
    monkeypatch.setenv("ASSET_MAP", str(tmp_path / "assets.yaml"))
    assert resolve_path("azureml:other:2") == "az://data/other/"
    assert resolve_path("rel/x", base_dir=tmp_path) == str(tmp_path / "rel" / "x")


def test_storage_options_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
    assert storage_options() == {"use_emulator": "true"}
    monkeypatch.setenv("STORAGE_CONNECTION_STRING",
                       "DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=a2V5;"
                       "BlobEndpoint=http://127.0.0.1:10500/dev;")
    assert storage_options() == {"account_name": "dev", "account_key": "a2V5",
                                      "endpoint": "http://127.0.0.1:10500/dev", "allow_http": "true"}
    monkeypatch.delenv("STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("DATA_STORAGE_ACCOUNT", "prodaccount")
    assert storage_options() == {"account_name": "prodaccount"}
    monkeypatch.delenv("DATA_STORAGE_ACCOUNT")
    with pytest.raises(ConfigurationError, match="DATA_STORAGE_ACCOUNT"):
        storage_options()


def test_recursive_and_relative_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for day in ("01", "02"):
        (tmp_path / "d" / day).mkdir(parents=True)
        pl.DataFrame({"a": [int(day)]}).write_parquet(tmp_path / "d" / day / "x.parquet")
    assert read_window(str(tmp_path / "d" / "**" / "*.parquet"), Window()).frame.height == 2
    monkeypatch.chdir(tmp_path)
    assert list_files("d/0?/x.parquet") == ["d/01/x.parquet", "d/02/x.parquet"]
