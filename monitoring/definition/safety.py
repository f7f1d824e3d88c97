"""Bounds on the work a definition file can cause, checked before its YAML is built into a tree.

A monitor definition arrives from a user's disk, an HTTP request or a blob, so its size is bounded, it must
be UTF-8, and one pass over its parser events (no tree is built) bounds its nesting depth and the number of
nodes it stands for once aliases are expanded. Aliases are allowed (``<<: *defaults`` is ordinary YAML) but
their expansion is counted, so a "billion laughs" file is one error in milliseconds, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, Event, ScalarEvent

#: A definition is a few kilobytes; the largest published one is under 4 KB.
MAX_BYTES = 1_000_000
#: Monitor definitions nest about 8 levels deep.
MAX_DEPTH = 50
#: Nodes (mappings, sequences, scalars) the document stands for, each alias counted as what it repeats.
MAX_NODES = 50_000


class BoundExceeded(ValueError):
    """The file is too big, too deep or expands to too many nodes; the message names the line."""


def decode(content: bytes) -> str:
    """A file's bytes as text; anything but UTF-8 (a BOM is allowed) is an error naming the byte's line."""
    if len(content) > MAX_BYTES:
        raise BoundExceeded(f"the file is {len(content):,} bytes; a monitor definition may have at most "
                            f"{MAX_BYTES:,}")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        column = exc.start - (content.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BoundExceeded(
            f"the file is not UTF-8 text: byte 0x{content[exc.start]:02x} at line {line}, column {column} "
            "cannot be decoded; save it as UTF-8"
        ) from None


@dataclass
class _Count:
    nodes: int = 0
    depth: int = 0
    #: Expanded size of each anchor seen so far.
    sizes: dict[str, int] = field(default_factory=dict)
    #: (anchor, nodes when its collection opened) of each open collection.
    open: list[tuple[str | None, int]] = field(default_factory=list)


def check(text: str) -> None:
    """Raise ``BoundExceeded`` if ``text`` is too long, nests deeper than ``MAX_DEPTH`` or stands for more
    than ``MAX_NODES`` nodes with its aliases expanded. YAML syntax errors propagate as ruamel raises them."""
    if len(text) > MAX_BYTES:
        raise BoundExceeded(f"the file is {len(text):,} characters; a monitor definition may have at most "
                            f"{MAX_BYTES:,}")
    count = _Count()
    for event in YAML(typ="rt").parse(text):
        _step(count, event)


def _step(count: _Count, event: Event) -> None:
    line = event.start_mark.line + 1 if event.start_mark is not None else None
    if isinstance(event, CollectionStartEvent):
        count.depth += 1
        if count.depth > MAX_DEPTH:
            raise BoundExceeded(f"line {line}: the document nests deeper than {MAX_DEPTH} levels")
        count.open.append((event.anchor, count.nodes))
        _add(count, 1, line)
    elif isinstance(event, CollectionEndEvent):
        count.depth -= 1
        anchor, before = count.open.pop()
        if anchor is not None:
            count.sizes[anchor] = count.nodes - before
    elif isinstance(event, ScalarEvent):
        if event.anchor is not None:
            count.sizes[event.anchor] = 1
        _add(count, 1, line)
    elif isinstance(event, AliasEvent):
        _add(count, count.sizes.get(str(event.anchor), 1), line, alias=str(event.anchor))


def _add(count: _Count, nodes: int, line: int | None, *, alias: str | None = None) -> None:
    count.nodes += nodes
    if count.nodes > MAX_NODES:
        through = f" through the alias `*{alias}`" if alias else ""
        raise BoundExceeded(f"line {line}: the document stands for more than {MAX_NODES:,} nodes{through}; "
                            "a monitor definition needs far fewer (are aliases repeating each other?)")


__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "BoundExceeded", "check", "decode"]
