"""A signal's data: ``production_data`` / ``reference_data`` (path, window, column roles), segments, features."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Union

from pydantic import (
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitoring.definition.strict import Origin, Strict, _rekeyed

DataContext = Literal["model_inputs", "model_outputs", "training", "test", "validation", "ground_truth"]

_AZUREML_ASSET = re.compile(r"^azureml:(?P<name>[^:/]+)(?::(?P<version>[^:/]+))?$")
_ISO_DURATION = re.compile(r"^P(?!$)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


# --------------------------------------------------------------------------------------------------
# Data


class InputData(Strict):
    """Where a dataset lives: a local path, ``az://``/``abfs[s]://`` URI, glob, or ``azureml:`` asset."""

    path: str
    type: Literal["uri_folder", "uri_file", "mltable"] = "uri_folder"

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise PydanticCustomError("path", "`path` is empty", {})
        if value.startswith("azureml:") and not value.startswith("azureml://") and not _AZUREML_ASSET.match(value):
            raise PydanticCustomError(
                "path", "`{value}` is not an asset reference of the form azureml:<name>:<version>",
                {"value": value},
            )
        return value

    @property
    def asset(self) -> str | None:
        """The ``azureml:<name>:<version>`` reference, if the path is one (resolved at run time)."""
        return self.path if _AZUREML_ASSET.match(self.path) else None


class DataWindow(Strict):
    """A lookback window (size and offset before the fire time) or fixed start and end."""

    lookback_window_size: timedelta | Literal["default"] | None = None
    lookback_window_offset: timedelta | Literal["default"] | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None

    @field_validator("lookback_window_size", "lookback_window_offset", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "default" and not _ISO_DURATION.match(value):
            raise PydanticCustomError(
                "duration", "`{value}` is not an ISO-8601 duration such as `P7D` or `PT6H`",
                {"value": value},
            )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> DataWindow:
        lookback = self.lookback_window_size is not None or self.lookback_window_offset is not None
        fixed = self.window_start is not None or self.window_end is not None
        if lookback and fixed:
            raise PydanticCustomError(
                "window", "a data_window has either lookback_window_size/offset or window_start/window_end, "
                "not both", {},
            )
        if fixed and (self.window_start is None or self.window_end is None):
            raise PydanticCustomError("window", "window_start and window_end must be given together", {})
        if self.window_start is not None and self.window_end is not None and self.window_start >= self.window_end:
            raise PydanticCustomError(
                "window", "window_start {start} is not before window_end {end}",
                {"start": str(self.window_start), "end": str(self.window_end)},
            )
        return self


class DataColumnNames(Strict):
    """Roles of columns: the label, predictions, join keys, and our ``timestamp`` window column."""

    target_column: str | None = None
    prediction: str | None = None
    prediction_probability: str | None = None
    correlation_id: str | None = None
    actual: str | None = None
    timestamp: str | None = Field(None, description="Our extension: the column windows filter on.")
    id_columns: list[str] | None = Field(None, description="Our extension: columns never monitored.")

    def role_columns(self) -> set[str]:
        """Columns that are not features of the model."""
        named = {self.target_column, self.prediction, self.prediction_probability, self.correlation_id,
                 self.actual, self.timestamp}
        return {c for c in named if c} | set(self.id_columns or [])


class MonitoringInput(Strict):
    """``production_data`` / ``reference_data`` of a signal (preview names are accepted too)."""

    input_data: InputData | None = None
    data_context: DataContext | None = None
    data_window: DataWindow | None = None
    pre_processing_component: str | None = None
    data_column_names: DataColumnNames = Field(default_factory=DataColumnNames)

    @model_validator(mode="before")
    @classmethod
    def _preview_names(cls, data: Any) -> Any:
        """``{dataset: {input_dataset, dataset_context}, data_window_size}`` and friends -> GA."""
        if not isinstance(data, dict):
            return data
        items: list[tuple[str, Any, Origin]] = [(k, v, (data, k)) for k, v in data.items() if k != "dataset"]
        if isinstance(data.get("dataset"), dict):
            items += [(k, v, (data["dataset"], k)) for k, v in data["dataset"].items()]
        renames = {"input_dataset": "input_data", "dataset_context": "data_context"}
        names = data.get("data_column_names")
        columns: list[tuple[str, Any, Origin]] = (
            [(k, v, (names, k)) for k, v in names.items()] if isinstance(names, dict) else [])
        out: list[tuple[str, Any, Origin]] = []
        for key, value, origin in items:
            if key in renames:
                if isinstance(value, dict) and "target_column_name" in value:
                    columns.append(("target_column", value["target_column_name"], (value, "target_column_name")))
                    value = _rekeyed((k, v, (value, k)) for k, v in value.items() if k != "target_column_name")
                out.append((renames[key], value, origin))
            elif key == "target_column_name":
                columns.append(("target_column", value, origin))
            elif key == "data_window_size":
                out.append(("data_window", {"lookback_window_size": _days(value)}, origin))
            elif key != "data_column_names":
                out.append((key, value, origin))
        if columns:
            out.append(("data_column_names", _rekeyed(columns), (data, "data_column_names")))
        return _rekeyed(out)


def _days(value: Any) -> Any:
    return f"P{value}D" if isinstance(value, int) else value


class DataSegment(Strict):
    """Monitor only the rows whose ``feature_name`` is one of ``feature_values``."""

    feature_name: str
    feature_values: list[str | int | float | bool] = Field(min_length=1)


class TopNFeatures(Strict):
    top_n_feature_importance: int = Field(10, ge=1)


def _features_tag(value: Any) -> str:
    if isinstance(value, list):
        return "<list>"
    return "<top_n>" if isinstance(value, dict | TopNFeatures) else "<all>"


Features = Annotated[
    Union[
        Annotated[list[str], Tag("<list>")],
        Annotated[TopNFeatures, Tag("<top_n>")],
        Annotated[Literal["all_features"], Tag("<all>")],
    ],
    Discriminator(_features_tag),
]
