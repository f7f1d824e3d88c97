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

from monitoring.definition import safety
from monitoring.definition.forms import SIGNAL_TYPES, TRIGGER_TYPES, accepted_forms
from monitoring.definition.monitor import MonitorSchedule
from monitoring.definition.strict import UnknownKey, collecting_notes, collecting_unknown_keys
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
    """The YAML document with positions; a syntax error names its line and column.

    The file's size, depth and alias expansion are bounded (``safety``) before any tree is built.
    """
    yaml = YAML(typ="rt")
    try:
        safety.check(text)
        return yaml.load(text)
    except safety.BoundExceeded as exc:
        raise DefinitionError(source, [str(exc)]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise DefinitionError(source, [f"YAML syntax error at {where}: {problem}"]) from None
    except YAMLError as exc:
        raise DefinitionError(source, [f"YAML error: {' '.join(str(exc).split())}"]) from None
    except RecursionError:  # unreachable under safety.MAX_DEPTH; kept so no input can print a traceback
        raise DefinitionError(source, [f"the document nests deeper than {safety.MAX_DEPTH} levels"]) from None


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
_UNION_TAGS = frozenset(BY_TYPE) | set(SIGNAL_TYPES) | set(TRIGGER_TYPES)


#: Pydantic error types of a value outside its range: the message gains the value.
_RANGE_ERRORS = frozenset({"less_than", "less_than_equal", "greater_than", "greater_than_equal", "finite_number"})


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


def _problems(root: Any, error: ValidationError) -> list[tuple[int, str]]:
    """(line, message) of each schema error, with its YAML path; the same path and message once."""
    problems: list[tuple[int, str]] = []
    seen: set[tuple[str, str]] = set()
    for err in error.errors(include_url=False):
        ctx = err.get("ctx") or {}
        loc = tuple(err["loc"])
        message = err["msg"]
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] in _RANGE_ERRORS:
            message = f"{err['input']} is out of range: {message[0].lower()}{message[1:]}"
        elif err["type"] == "union_tag_invalid" and ctx.get("discriminator") == "'type'":
            loc = (*loc, "type")
            valid = re.findall(r"'([^']+)'", str(ctx.get("expected_tags", "")))
            close = difflib.get_close_matches(str(ctx.get("tag")), valid, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`? " if close else ""
            message = f"unknown type `{ctx.get('tag')}`; {hint}valid types: {', '.join(valid)}"
        path, line = _locate(root, loc)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append((line or 0, f"`{path}`{_at(line)}: {message}"))
    return problems


def _at(line: int | None) -> str:
    return f" at line {line}" if line else ""


def _path_of_key(node: Any, key: str, line: int | None, path: str = "") -> str | None:
    """The YAML path of ``key`` in the mapping of ``node``'s tree that holds it at ``line``."""
    if isinstance(node, dict):
        if key in node and (line is None or _key_line(node, key) == line):
            return f"{path}.{key}" if path else key
        children = ((f"{path}.{k}" if path else str(k), v) for k, v in node.items())
    elif isinstance(node, list):
        children = ((f"{path}[{i}]", v) for i, v in enumerate(node))
    else:
        return None
    for child_path, child in children:
        found = _path_of_key(child, key, line, child_path)
        if found:
            return found
    return None


def _typo_and_hint(text: str) -> tuple[str, str | None]:
    """The path of an unknown key's problem and the key it suggests, if any."""
    match = re.match(r"`([^`]+)`.*did you mean `([^`]+)`\?", text)
    return (match[1], match[2]) if match else ("", None)


def _unknown_key_problem(root: Any, found: UnknownKey) -> tuple[int, str]:
    path = _path_of_key(root, found.key, found.line) or found.key
    return found.line or 0, f"`{path}`{_at(found.line)}: unknown field{found.hint}"


def load_text(text: str, source: str = "<definition>", *, base_dir: Path | None = None) -> LoadedMonitor:
    """Validate a definition's text; every problem is reported in one ``DefinitionError``."""
    root = parse_yaml(text, source)
    if not isinstance(root, dict):
        raise DefinitionError(source, ["the file must be a YAML mapping with `name`, `trigger` and `create_monitor`"])
    problems: list[tuple[int, str]] = []
    with collecting_unknown_keys() as unknown, collecting_notes() as notes:
        try:
            schedule = MonitorSchedule.model_validate(root)
        except ValidationError as exc:
            problems += _problems(root, exc)
    typos = [_unknown_key_problem(root, found) for found in unknown]
    # `frequncy` (did you mean `frequency`?) explains why `frequency` is missing: say it once.
    explained = {f"`{path.rsplit('.', 1)[0] + '.' if '.' in path else ''}{hint}`: required field is missing"
                 for path, hint in (_typo_and_hint(text) for _, text in typos) if hint}
    problems = [p for p in problems if re.sub(r" at line \d+", "", p[1]) not in explained] + typos
    if problems:
        raise DefinitionError(source, [text for _, text in sorted(problems, key=lambda p: p[0])])
    schedule._load_notes = notes
    version = hashlib.sha256(text.encode()).hexdigest()[:16]
    return LoadedMonitor(schedule=schedule, source=source, version=version, base_dir=base_dir)


def load_file(path: str | Path) -> LoadedMonitor:
    """Validate a definition file; relative data paths in it are relative to its folder."""
    file = Path(path)
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise DefinitionError(str(file), [f"cannot read the file: {exc.strerror}"]) from None
    return load_bytes(content, str(file), base_dir=file.resolve().parent)


def load_bytes(content: bytes, source: str = "<definition>", *, base_dir: Path | None = None) -> LoadedMonitor:
    """Validate a definition's bytes (a file, a request body, a blob): UTF-8 or one error naming the line."""
    try:
        text = safety.decode(content)
    except safety.BoundExceeded as exc:
        raise DefinitionError(source, [str(exc)]) from None
    return load_text(text, source, base_dir=base_dir)


def json_schema() -> dict[str, Any]:
    """JSON Schema of the definition, for editor completion (e.g. the YAML language server)."""
    schema = MonitorSchedule.model_json_schema(by_alias=True)
    accepted_forms(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Serverless model monitor definition (Azure ML monitor schedule YAML)"
    return schema


__all__ = ["LoadedMonitor", "json_schema", "load_bytes", "load_file", "load_text", "parse_yaml"]
