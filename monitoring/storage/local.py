"""A store over a local folder, and the one atomic file write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from filelock import FileLock

from monitoring.names import safe_path

#: How long a writer waits for another process's lock on the same document before giving up.
LOCK_TIMEOUT_S = 120.0


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
    """A store in a local folder, for the embedded default and for tests.

    Read-modify-writes (``history.parquet``, ``latest.json``) run under ``lock(path)``: an OS file lock
    (``filelock``) on a hidden ``.<name>.lock`` beside the document, so several local runs finishing into
    one results folder, in threads or processes, apply their changes one after another and lose nothing.
    """

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

    def lock(self, path: str) -> FileLock:
        """An exclusive lock on ``path`` across threads and processes (a context manager)."""
        file = self._file(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(file.with_name(f".{file.name}.lock"), timeout=LOCK_TIMEOUT_S)

    def delete(self, path: str) -> bool:
        """Delete a document; False if there was none."""
        file = self._file(path)
        if not file.is_file():
            return False
        file.unlink(missing_ok=True)
        return True

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

