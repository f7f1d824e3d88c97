"""Strict models: unknown keys are errors that name the closest valid key and its YAML line.

Under the loader, unknown keys are collected (``collecting_unknown_keys``) instead of failing their
mapping, so that every problem of a file is reported at once. Preview renames keep ruamel's key positions
(``_rekeyed``), so errors inside renamed mappings still have lines.
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic_core import PydanticCustomError
from ruamel.yaml.comments import CommentedMap


class Strict(BaseModel):
    """A model that rejects unknown keys and suggests the closest valid one, with its YAML line."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False)

    #: Other names a key is accepted under (earlier SDK releases, the preview), shown in the JSON Schema:
    #: {accepted name: JSON Schema of its value, or the field whose schema it shares}. The model's ``before``
    #: validators rename them.
    accepted_names: ClassVar[dict[str, dict[str, Any] | str]] = {}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> Any:
        schema = handler(core_schema)
        if cls.accepted_names:
            properties = handler.resolve_ref_schema(schema).setdefault("properties", {})
            for name, value in cls.accepted_names.items():
                properties[name] = dict(properties.get(value, {})) if isinstance(value, str) else value
        return schema

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _canonical_enums(cls, data)
        valid: list[str] = []
        for name, field in cls.model_fields.items():
            valid.append(field.alias or name)
            if field.alias and name != field.alias:
                valid.append(name)
        unknown = [k for k in data if isinstance(k, str) and k not in valid and k not in cls.accepted_names]
        if not unknown:
            return data
        found = [UnknownKey(key=k, hint=_hint(k, valid), line=_key_line(data, k)) for k in unknown]
        collector = _UNKNOWN_KEYS.get()
        if collector is not None:  # the loader reports them with every other problem of the file
            collector.extend(found)
            return {k: v for k, v in data.items() if k not in unknown}
        first = found[0]
        raise PydanticCustomError(
            "unknown_field",
            "unknown field `{key}`{hint}",
            {"key": first.key, "hint": first.hint, "line": first.line, "others": unknown[1:]},
        )


@functools.cache
def _enum_fields(cls: type[BaseModel]) -> dict[str, dict[str, str]]:
    """{key: {lower-case value: the value as the model spells it}} for each field taking literal strings."""
    out: dict[str, dict[str, str]] = {}
    for name, field in cls.model_fields.items():
        values = _literal_strings(field.annotation)
        if values:
            out[field.alias or name] = {v.lower(): v for v in values}
    return out


def _literal_strings(annotation: Any) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [a for a in typing.get_args(annotation) if isinstance(a, str)]
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [v for a in typing.get_args(annotation) for v in _literal_strings(a)]
    return []


def _canonical_enums(cls: type[BaseModel], data: dict[Any, Any]) -> dict[Any, Any]:
    """Enum values are case-insensitive, as in Azure ML's SDK (``Classification``, ``MLTable``): store the
    model's spelling. Only values that match a literal ignoring case are changed; others fail as before."""
    fields = _enum_fields(cls)
    changes = {k: fields[k][v.lower()] for k, v in data.items()
               if k in fields and isinstance(v, str) and v.lower() in fields[k] and fields[k][v.lower()] != v}
    if not changes:
        return data
    return _rekeyed((k, changes.get(k, v), (data, k)) for k, v in data.items())


_NOTES: ContextVar[list[str] | None] = ContextVar("definition_notes", default=None)


def note(text: str) -> None:
    """Record that something was accepted but is read differently or ignored; ``validate`` shows it."""
    notes = _NOTES.get()
    if notes is not None and text not in notes:
        notes.append(text)


@contextmanager
def collecting_notes() -> Iterator[list[str]]:
    """Within this block, ``note`` calls are collected into the yielded list."""
    found: list[str] = []
    token = _NOTES.set(found)
    try:
        yield found
    finally:
        _NOTES.reset(token)


def renamed(data: Any, renames: dict[str, str], *, where: str) -> Any:
    """``data`` with each key of ``renames`` present (and its new name absent) renamed, with a note."""
    if not isinstance(data, dict) or not any(k in data and renames[k] not in data for k in renames):
        return data
    for old, new in renames.items():
        if old in data and new not in data:
            note(f"`{where}.{old}` is the earlier name of `{new}`; read as `{new}`.")
    return _rekeyed((str(renames[k]) if k in renames and renames[k] not in data else k, v, (data, k))
                    for k, v in data.items())


@dataclass(frozen=True)
class UnknownKey:
    """A key no model accepts: the key, the closest valid one (as a hint), and its YAML line."""

    key: str
    hint: str
    line: int | None


_UNKNOWN_KEYS: ContextVar[list[UnknownKey] | None] = ContextVar("unknown_keys", default=None)


@contextmanager
def collecting_unknown_keys() -> Iterator[list[UnknownKey]]:
    """Within this block, unknown keys are collected (and dropped) instead of failing their model, so one
    validation reports every problem of a file, not only the first of each mapping."""
    found: list[UnknownKey] = []
    token = _UNKNOWN_KEYS.set(found)
    try:
        yield found
    finally:
        _UNKNOWN_KEYS.reset(token)


def _hint(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else f"; valid fields: {', '.join(sorted(valid))}"


def _key_line(data: Any, key: str) -> int | None:
    """1-based line of ``key`` in a ruamel mapping, when the mapping came from a YAML file."""
    lc = getattr(data, "lc", None)
    if lc is None:
        return None
    try:
        return int(lc.key(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return None


Origin = tuple[Any, Any]  # (mapping the key came from, its key there)


def _rekeyed(pairs: Iterable[tuple[str, Any, Origin]]) -> dict[str, Any]:
    """A mapping rebuilt by a normaliser, each key keeping the YAML position of the key it came from.

    Preview names and aliases are renamed before validation; without this, an error in a renamed mapping
    (an unknown key, a bad value) could no longer say which line it is on.
    """
    out = CommentedMap()
    for key, value, (node, original) in pairs:
        out[key] = value
        lc = getattr(node, "lc", None)
        if lc is not None and lc.data and original in lc.data:
            out.lc.add_kv_line_col(key, lc.data[original])
    return out
