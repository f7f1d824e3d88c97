"""A dataset window by reference: what crosses function boundaries instead of data."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field

from monitoring.data.formats import scan_files
from monitoring.data.mdc import read_mdc_window
from monitoring.data.read import WindowData, list_files, read_window
from monitoring.schedule.windows import Window


class DataRef(BaseModel):
    """A dataset window by reference: what crosses function boundaries instead of data."""

    uri: str
    source: Literal["files", "mdc"] = "files"
    window: dict[str, str | None] = Field(default_factory=dict)
    timestamp_column: str | None = None

    def read(self, columns: list[str] | None = None) -> pl.DataFrame:
        return self.read_window(columns).frame

    def read_window(self, columns: list[str] | None = None) -> WindowData:
        """The window's rows with how many files held them and how many rows had unparsable timestamps."""
        window = Window.from_dict(self.window)
        if self.source == "mdc":
            data = read_mdc_window(self.uri, window)
            if columns is None:
                return data
            return replace(data, frame=data.frame.select([c for c in columns if c in data.frame.columns]))
        return read_window(self.uri, window, timestamp_column=self.timestamp_column, columns=columns)

    def columns(self) -> list[str]:
        if self.source == "mdc":
            return self.read().columns
        return scan_files(list_files(self.uri)).collect_schema().names()
