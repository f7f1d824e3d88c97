"""Where results live: an interface with a local-folder implementation (Blob Storage lives in ``blob``).

Paths are relative, ``/``-separated and validated: a monitor or signal name from a YAML never escapes
the store's root. Writes are atomic from a reader's point of view (write a temp file, then rename).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from monitoring.errors import MonitoringError

_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]{0,254}$")


def safe_path(path: str) -> str:
    """``path`` if each part is a plain name (no ``..``, no absolute paths, no odd characters)."""
    parts = path.split("/")
    if not path or any(not _SAFE_PART.match(p) or p in (".", "..") for p in parts):
        raise MonitoringError(f"unsafe store path {path!r}: parts must be letters, digits, `_`, `-`, `.` or `=`")
    return path


def write_atomic(file: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old or the new content, never a part: temp file, then rename."""
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@runtime_checkable
class Store(Protocol):
    """A flat namespace of small documents: results, reports, caches and alert records."""

    def read_bytes(self, path: str) -> bytes | None:
        """The document at ``path``, or None if there is none."""
        ...

    def write_bytes(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        """Replace the document at ``path`` atomically."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Paths under ``prefix``, sorted."""
        ...

    def location(self, path: str) -> str:
        """Where a person finds the document: a file path or a URL."""
        ...


class LocalStore:
    """A store in a local folder, for the embedded default and for tests."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStore(root={str(self.root)!r})"

    def _file(self, path: str) -> Path:
        return self.root / safe_path(path)

    def read_bytes(self, path: str) -> bytes | None:
        file = self._file(path)
        return file.read_bytes() if file.is_file() else None

    def write_bytes(self, path: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        write_atomic(self._file(path), data)

    def list(self, prefix: str) -> list[str]:
        base = self.root
        if not base.exists():
            return []
        out = []
        for file in base.rglob("*"):
            if file.is_file() and not file.name.startswith("."):
                rel = file.relative_to(base).as_posix()
                if rel.startswith(prefix):
                    out.append(rel)
        return sorted(out)

    def location(self, path: str) -> str:
        return str(self._file(path).resolve())


__all__ = ["LocalStore", "Store", "safe_path", "write_atomic"]
