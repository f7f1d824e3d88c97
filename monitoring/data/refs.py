"""A dataset window by reference: what crosses function boundaries instead of data."""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, Field

from monitoring.data.formats import scan_files
from monitoring.data.mdc import read_mdc_window
from monitoring.data.memory import is_memory, memory_frame
from monitoring.data.read import list_files, read_window
from monitoring.schedule.windows import Window


class DataRef(BaseModel):
    """A dataset window by reference: what crosses function boundaries instead of data."""

    uri: str
    source: Literal["files", "mdc"] = "files"
    window: dict[str, str | None] = Field(default_factory=dict)
    timestamp_column: str | None = None

    def read(self, columns: list[str] | None = None) -> pl.DataFrame:
        if is_memory(self.uri):  # the Python API's frames: read whole, there is no window to select
            return memory_frame(self.uri, columns)
        window = Window.from_dict(self.window)
        if self.source == "mdc":
            frame = read_mdc_window(self.uri, window).frame
            return frame.select([c for c in columns if c in frame.columns]) if columns is not None else frame
        return read_window(self.uri, window, timestamp_column=self.timestamp_column, columns=columns).frame

    def columns(self) -> list[str]:
        if self.source == "mdc" or is_memory(self.uri):
            return self.read().columns
        return scan_files(list_files(self.uri)).collect_schema().names()
