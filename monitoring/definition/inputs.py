"""A signal's data: ``production_data`` / ``reference_data`` (path, window, column roles), segments, features."""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal, Union

import isodate  # type: ignore[import-untyped]
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitoring.definition.strict import Origin, Strict, _rekeyed, note, renamed
from monitoring.definition.triggers import BoundedDatetime

DataContext = Literal["model_inputs", "model_outputs", "training", "test", "validation", "ground_truth"]

_AZUREML_ASSET = re.compile(r"^azureml:(?P<name>[^:/]+)(?::(?P<version>[^:/]+))?$")
#: Calendar units in durations, as fixed lengths (the SDK's own rule for `frequency: month` is 30 days).
DAYS_PER_MONTH = 30
DAYS_PER_YEAR = 365
#: The longest lookback size or offset: a century, so that no window arithmetic overflows.
MAX_DURATION = timedelta(days=36_500)
_DURATION_SCHEMA = {"anyOf": [{"type": "string", "pattern": "^(P.+|default)$"}, {"type": "null"}]}


def parse_duration(value: str) -> timedelta:
    """An ISO-8601 duration (``P7D``, ``PT6H``, ``P1M``, ``P1Y2M``) as a fixed length of time.

    Months count 30 days and years 365 days (no calendar arithmetic): a lookback of ``P1M`` is always 30 days
    back from the fire time, the length Azure ML gives a monthly recurrence's default window.
    """
    parsed = isodate.parse_duration(value)
    if isinstance(parsed, isodate.Duration):
        years, months = int(parsed.years), int(parsed.months)
        if parsed.years != years or parsed.months != months:
            raise ValueError("fractional years or months")
        return parsed.tdelta + timedelta(days=DAYS_PER_YEAR * years + DAYS_PER_MONTH * months)
    return parsed


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

    accepted_names: ClassVar[dict[str, dict[str, Any] | str]] = {
        "trailing_window_size": _DURATION_SCHEMA, "trailing_window_offset": _DURATION_SCHEMA}

    lookback_window_size: Annotated[timedelta | Literal["default"] | None, WithJsonSchema(_DURATION_SCHEMA)] = None
    lookback_window_offset: Annotated[timedelta | Literal["default"] | None, WithJsonSchema(_DURATION_SCHEMA)] = None
    window_start: BoundedDatetime | None = None
    window_end: BoundedDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _earlier_names(cls, data: Any) -> Any:
        """SDK 1.11-1.12 named the lookback ``trailing_window_size`` / ``trailing_window_offset``."""
        return renamed(data, {"trailing_window_size": "lookback_window_size",
                              "trailing_window_offset": "lookback_window_offset"}, where="data_window")

    @field_validator("lookback_window_size", "lookback_window_offset", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or value == "default" or isinstance(value, timedelta):
            return value
        try:
            length = parse_duration(value.strip()) if isinstance(value, str) else None
        except (ValueError, OverflowError, isodate.ISO8601Error):
            length = None
        if length is None:
            raise PydanticCustomError(
                "duration", "`{value}` is not an ISO-8601 duration such as `P7D`, `PT6H` or `P1M`",
                {"value": str(value)},
            )
        low = timedelta(0) if info.field_name == "lookback_window_offset" else timedelta(seconds=1)
        if not low <= length <= MAX_DURATION:
            raise PydanticCustomError(
                "duration_range", "{value} is out of range: {field} must be from {low} to P36500D (100 years)",
                {"value": value, "field": info.field_name, "low": "P0D" if low == timedelta(0) else "PT1S"},
            )
        return length

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


class DataColumnNames(BaseModel):
    """Roles of columns: the label, predictions, join keys, and our ``timestamp`` window column.

    A free mapping in Azure ML's SDK (``join_column``, ``prompt_column``...): roles this project does not use
    are kept (``extra_roles``) with a note, not rejected.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)
    __pydantic_extra__: dict[str, str] = Field(init=False)

    target_column: str | None = None
    prediction: str | None = None
    prediction_probability: str | None = None
    correlation_id: str | None = None
    actual: str | None = None
    timestamp: str | None = Field(None, description="Our extension: the column windows filter on.")
    id_columns: list[str] | None = Field(None, description="Our extension: columns never monitored.")

    @model_validator(mode="before")
    @classmethod
    def _note_unknown_roles(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if isinstance(key, str) and key not in known:
                    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
                    hint = f" (did you mean `{close[0]}`?)" if close else ""
                    note(f"`data_column_names.{key}` is not a column role this project uses{hint}; it is kept "
                         "and its column is not monitored as a feature.")
        return data

    @property
    def extra_roles(self) -> dict[str, str]:
        """Roles Azure ML knows and this project does not use, e.g. ``join_column``: name -> column."""
        return dict(self.__pydantic_extra__ or {})

    def role_columns(self) -> set[str]:
        """Columns that are not features of the model."""
        named = {self.target_column, self.prediction, self.prediction_probability, self.correlation_id,
                 self.actual, self.timestamp}
        return {c for c in named if c} | set(self.id_columns or []) | set(self.extra_roles.values())


_STR = {"type": "string"}
_WINDOW_SIZE = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]}


class MonitoringInput(Strict):
    """``production_data`` / ``reference_data`` of a signal (preview names are accepted too)."""

    accepted_names: ClassVar[dict[str, dict[str, Any] | str]] = {
        "dataset": {"type": "object"}, "input_dataset": "input_data", "dataset_context": _STR,
        "target_column_name": _STR, "data_window_size": _WINDOW_SIZE, "data_window_offset": _WINDOW_SIZE,
    }

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
        window: list[tuple[str, Any, Origin]] = []
        for key, value, origin in items:
            if key in renames:
                value = _target_out_of(value, columns)
                out.append((renames[key], value, origin))
            elif key == "target_column_name":
                columns.append(("target_column", value, origin))
            elif key in ("data_window_size", "data_window_offset"):
                window.append((key.replace("data_window", "lookback_window"), _days(value), origin))
            elif key != "data_column_names":
                out.append((key, value, origin))
        if columns:
            out.append(("data_column_names", _rekeyed(columns), (data, "data_column_names")))
        if window and "data_window" not in data:
            out.append(("data_window", _rekeyed(window), window[0][2]))
        return _rekeyed(out)


def _target_out_of(dataset: Any, columns: list[tuple[str, Any, Origin]]) -> Any:
    """A preview dataset mapping without its ``target_column_name``, which joins the column roles."""
    if isinstance(dataset, dict) and "target_column_name" in dataset:
        columns.append(("target_column", dataset["target_column_name"], (dataset, "target_column_name")))
        return _rekeyed((k, v, (dataset, k)) for k, v in dataset.items() if k != "target_column_name")
    return dataset


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


#: JSON Schema of a GA feature attribution drift ``production_data``: one input, or the list of model inputs
#: and model outputs.
PRODUCTION_LIST_SCHEMA = {"anyOf": [{"$ref": "#/$defs/MonitoringInput"},
                                    {"type": "array", "items": {"$ref": "#/$defs/MonitoringInput"},
                                     "minItems": 1, "maxItems": 2}, {"type": "null"}]}


def _is_outputs(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    context = str(entry.get("data_context", entry.get("dataset_context", ""))).lower()
    names = entry.get("data_column_names")
    roles = set(names) if isinstance(names, dict) else set()
    return context == "model_outputs" or (context != "model_inputs" and bool(roles & {"prediction",
                                                                                     "prediction_probability"}))


def split_production_list(data: Any) -> Any:
    """GA feature attribution drift: ``production_data`` is a list of model inputs and model outputs.

    Normalised to ``production_data`` (the inputs) and ``production_outputs`` (the outputs: the entry whose
    ``data_context`` is ``model_outputs`` or, failing that, which names the prediction columns); the runner
    joins the two on ``data_column_names.correlation_id``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("production_data"), list):
        return data
    entries = list(data["production_data"])
    if not 1 <= len(entries) <= 2:
        raise PydanticCustomError(
            "production_list", "`production_data` as a list holds the model inputs and the model outputs: "
            "1 or 2 entries, not {count}", {"count": len(entries)},
        )
    outputs = [e for e in entries if _is_outputs(e)]
    if len(entries) == 2 and len(outputs) != 1:
        outputs = [entries[1]]  # the order Azure ML's examples write them: inputs, then outputs
    inputs = [e for e in entries if e is not (outputs[0] if outputs else None)]
    pairs: list[tuple[str, Any, Origin]] = []
    for key, value in data.items():
        if key != "production_data":
            pairs.append((key, value, (data, key)))
            continue
        if inputs:
            pairs.append(("production_data", inputs[0], (data, key)))
        if outputs:
            pairs.append(("production_outputs", outputs[0], (data, key)))
    return _rekeyed(pairs)
