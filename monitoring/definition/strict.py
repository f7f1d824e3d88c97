"""Strict models: unknown keys are errors that name the closest valid key and its YAML line.

Under the loader, unknown keys are collected (``collecting_unknown_keys``) instead of failing their
mapping, so that every problem of a file is reported at once. Preview renames keep ruamel's key positions
(``_rekeyed``), so errors inside renamed mappings still have lines.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    model_validator,
)
from pydantic_core import PydanticCustomError
from ruamel.yaml.comments import CommentedMap


class Strict(BaseModel):
    """A model that rejects unknown keys and suggests the closest valid one, with its YAML line."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        valid: list[str] = []
        for name, field in cls.model_fields.items():
            valid.append(field.alias or name)
            if field.alias and name != field.alias:
                valid.append(name)
        unknown = [k for k in data if isinstance(k, str) and k not in valid]
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
