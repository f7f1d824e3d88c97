"""A store over a local folder, and the one atomic file write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from monitoring.names import safe_path


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

    def delete(self, path: str) -> bool:
        file = self._file(path)
        try:
            file.unlink()
        except FileNotFoundError:
            return False
        return True
