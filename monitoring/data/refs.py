"""A dataset window by reference: what crosses function boundaries instead of data."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field

from monitoring.data.formats import scan_files
from monitoring.data.mdc import read_mdc_window
from monitoring.data.memory import is_memory, memory_frame
from monitoring.data.read import WindowData, list_files, read_window, scan_window
from monitoring.errors import DataError
from monitoring.schedule.windows import Window

_KEY = "__correlation_key__"


class DataRef(BaseModel):
    """A dataset window by reference: what crosses function boundaries instead of data."""

    uri: str
    source: Literal["files", "mdc"] = "files"
    window: dict[str, str | None] = Field(default_factory=dict)
    timestamp_column: str | None = None
    outputs: DataRef | None = Field(None, description="Model outputs read separately and joined to these rows.")
    join_on: tuple[str, str] | None = Field(None, description="Correlation id columns: (these rows, outputs).")

    def read(self, columns: list[str] | None = None) -> pl.DataFrame:
        return self.read_window(columns).frame

    def read_window(self, columns: list[str] | None = None) -> WindowData:
        """The window's rows with how many files held them and how many rows had unparsable timestamps.

        With ``outputs``, the rows are those of this dataset (the model inputs) joined to the outputs on
        ``join_on`` (compared as text); a row without its match on the other side is left out. A column in
        both keeps the inputs' values.
        """
        if self.outputs is None:
            return self._read_own(columns)
        assert self.join_on is not None
        key, out_key = self.join_on
        outputs = self.outputs
        own_names, out_names = self._own_columns(), outputs.columns()
        wanted = own_names if columns is None else [c for c in columns if c in own_names]
        out_wanted = [c for c in (out_names if columns is None else columns) if c in out_names and c not in wanted]
        for side, name, names in (("model inputs", key, own_names), ("model outputs", out_key, out_names)):
            if name not in names:
                raise DataError(f"the {side} of {self.uri if side == 'model inputs' else outputs.uri} have no "
                                f"correlation id column `{name}` to join on (data_column_names.correlation_id)")
        own = self._read_own(list(dict.fromkeys([*wanted, key])))
        out = outputs.read_window(list(dict.fromkeys([*out_wanted, out_key])))
        left = own.frame.with_columns(pl.col(key).cast(pl.String).alias(_KEY))
        right = out.frame.select([*out_wanted, pl.col(out_key).cast(pl.String).alias(_KEY)])
        joined = left.join(right, on=_KEY, how="inner").drop(_KEY)
        if key not in wanted:
            joined = joined.drop(key)
        return WindowData(joined, own.files + out.files, own.window,
                          unparsed_timestamps=own.unparsed_timestamps + out.unparsed_timestamps)

    def _read_own(self, columns: list[str] | None) -> WindowData:
        window = Window.from_dict(self.window)
        if is_memory(self.uri):  # the Python API's frames: read whole, there is no window to select
            return WindowData(memory_frame(self.uri, columns), 0, window)
        if self.source == "mdc":
            data = read_mdc_window(self.uri, window)
            if columns is None:
                return data
            return replace(data, frame=data.frame.select([c for c in columns if c in data.frame.columns]))
        return read_window(self.uri, window, timestamp_column=self.timestamp_column, columns=columns)

    def scan(self, columns: list[str] | None = None) -> tuple[pl.LazyFrame, int] | None:
        """The window as a lazy frame and its unparsable timestamp count, for reading parts of it (value
        ranges); None when it can only be read whole (model data collector windows, joined outputs)."""
        if self.outputs is not None or self.source == "mdc":
            return None
        if is_memory(self.uri):
            return memory_frame(self.uri, columns).lazy(), 0
        return scan_window(self.uri, Window.from_dict(self.window), timestamp_column=self.timestamp_column,
                           columns=columns)

    def columns(self) -> list[str]:
        own = self._own_columns()
        if self.outputs is None:
            return own
        return [*own, *(c for c in self.outputs.columns() if c not in own)]

    def _own_columns(self) -> list[str]:
        if self.source == "mdc" or is_memory(self.uri):
            return self._read_own(None).frame.columns
        return scan_files(list_files(self.uri)).collect_schema().names()
