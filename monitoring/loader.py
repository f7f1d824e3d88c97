"""Loading monitor YAML with positions, so every error names its line.

ruamel.yaml's round-trip loader constructs only mappings, sequences and scalars (never Python objects),
and remembers where each key stood. All schema problems of a file are reported at once: a user fixing a
monitor should not discover its typos one run at a time.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from monitoring.definition import MonitorSchedule
from monitoring.errors import DefinitionError
from signals.registry import BY_TYPE

#: Preview names a path may have had in the YAML before normalisation, used to find its line.
_ORIGINAL_NAMES = {
    "production_data": ("target_dataset",),
    "reference_data": ("baseline_dataset",),
    "input_data": ("input_dataset", "dataset"),
    "data_context": ("dataset_context",),
    "time_zone": ("timezone",),
    "schedule": ("pattern",),
}


@dataclass(frozen=True)
class LoadedMonitor:
    """A valid definition, where it came from, and a hash of its text (its version)."""

    schedule: MonitorSchedule
    source: str
    version: str
    base_dir: Path | None


def parse_yaml(text: str, source: str) -> Any:
    """The YAML document with positions; a syntax error names its line and column."""
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise DefinitionError(source, [f"YAML syntax error at {where}: {problem}"]) from None
    except YAMLError as exc:
        raise DefinitionError(source, [f"YAML error: {exc}"]) from None


def _locate(root: Any, loc: tuple[Any, ...], *, trailing: bool = True) -> tuple[str, int | None]:
    """The YAML path of a pydantic error location and the line of the deepest node found there.

    Union tags and model names in ``loc`` that are not keys of the data are skipped.
    """
    node: Any = root
    path: list[str] = []
    line: int | None = None
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and 0 <= item < len(node):
            line = _item_line(node, item) or line
            node = node[item]
            path.append(f"[{item}]")
            continue
        if isinstance(node, dict):
            key = item if item in node else next((k for k in _ORIGINAL_NAMES.get(str(item), ()) if k in node), None)
            if key is not None:
                line = _key_line(node, key) or line
                node = node[key]
                path.append(("." if path else "") + str(key))
                continue
            if trailing and item == loc[-1] and isinstance(item, str) and not _is_tag(item):
                path.append(("." if path else "") + item)
    return "".join(path) or "(top level)", line


#: Discriminator values pydantic puts in error locations: they are not keys of the YAML.
_UNION_TAGS = frozenset(BY_TYPE) | {"recurrence", "cron", "on_arrival"}


def _is_tag(item: str) -> bool:
    return (item.startswith(("<", "literal", "function")) or item[:1].isupper() or item in _UNION_TAGS
            or "[" in item)


def _key_line(node: Any, key: Any) -> int | None:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _item_line(node: Any, index: int) -> int | None:
    try:
        return int(node.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def _problems(root: Any, error: ValidationError) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for err in error.errors(include_url=False):
        ctx = err.get("ctx") or {}
        if err["type"] == "unknown_field":
            path, _ = _locate(root, tuple(err["loc"]), trailing=False)
            for key in [ctx["key"], *ctx.get("others", [])]:
                full = f"{path}.{key}" if path != "(top level)" else key
                line = ctx.get("line") if key == ctx["key"] else None
                hint = ctx["hint"] if key == ctx["key"] else ""
                at = f" at line {line}" if line else ""
                problems.append(f"`{full}`{at}: unknown field{hint}")
            continue
        loc = tuple(err["loc"])
        message = err["msg"]
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "union_tag_invalid" and ctx.get("discriminator") == "'type'":
            loc = (*loc, "type")
            valid = re.findall(r"'([^']+)'", str(ctx.get("expected_tags", "")))
            close = difflib.get_close_matches(str(ctx.get("tag")), valid, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`? " if close else ""
            message = f"unknown type `{ctx.get('tag')}`; {hint}valid types: {', '.join(valid)}"
        path, line = _locate(root, loc)
        key = (path, message)
        if key in seen:
            continue
        seen.add(key)
        at = f" at line {line}" if line else ""
        problems.append(f"`{path}`{at}: {message}")
    return problems


def load_text(text: str, source: str = "<definition>", *, base_dir: Path | None = None) -> LoadedMonitor:
    """Validate a definition's text; every problem is reported in one ``DefinitionError``."""
    root = parse_yaml(text, source)
    if not isinstance(root, dict):
        raise DefinitionError(source, ["the file must be a YAML mapping with `name`, `trigger` and `create_monitor`"])
    try:
        schedule = MonitorSchedule.model_validate(root)
    except ValidationError as exc:
        raise DefinitionError(source, _problems(root, exc)) from None
    version = hashlib.sha256(text.encode()).hexdigest()[:16]
    return LoadedMonitor(schedule=schedule, source=source, version=version, base_dir=base_dir)


def load_file(path: str | Path) -> LoadedMonitor:
    """Validate a definition file; relative data paths in it are relative to its folder."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(str(file), [f"cannot read the file: {exc.strerror}"]) from None
    return load_text(text, str(file), base_dir=file.resolve().parent)


def json_schema() -> dict[str, Any]:
    """JSON Schema of the definition, for editor completion (e.g. the YAML language server)."""
    schema = MonitorSchedule.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Serverless model monitor definition (Azure ML monitor schedule YAML)"
    return schema


__all__ = ["LoadedMonitor", "json_schema", "load_file", "load_text", "parse_yaml"]
