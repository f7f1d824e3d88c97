"""A pytest plugin that runs the Azurite blob emulator for the tests that need real Blob Storage.

Why a real emulator and not mocks: the blob store's atomic and conditional writes, the ingest's
copy-verify-delete and polars' ``az://`` reads only mean something against the service's semantics.

One emulator per pytest process, so under ``pytest-xdist -n auto`` every worker has its own instance on
its own free port and its own temporary folder; nothing is shared between workers. The process is
started from ``./node_modules/.bin/azurite-blob`` (``npm install`` puts it there) or an ``azurite-blob``
/ ``azurite`` on PATH, waited on until it accepts connections, and stopped by its PID at teardown.

Use it with ``from tests.azurite import azurite`` in a conftest, or ``-p tests.azurite``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The well-known development account every Azurite instance serves.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_ROOT = Path(__file__).resolve().parent.parent
_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Azurite:
    """A running emulator: where it listens and the connection string that reaches it."""

    host: str
    port: int
    pid: int
    location: Path

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint={self.blob_endpoint};")


def find_executable() -> list[str] | None:
    """The command that starts the blob emulator, preferring the project's pinned npm install."""
    local = _ROOT / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return [str(local)]
    for name in ("azurite-blob", "azurite"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_until_listening(proc: subprocess.Popen[bytes], host: str, port: int, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"azurite exited with code {proc.returncode}:\n{output}")
        if _accepts_connections(host, port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"azurite did not listen on {host}:{port} within {_START_TIMEOUT_S:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def start(location: Path, *, host: str = "127.0.0.1", attempts: int = 3) -> tuple[Azurite, subprocess.Popen[bytes]]:
    """Start an emulator on a free port; retry on another port if one was taken in the meantime."""
    command = find_executable()
    if command is None:
        raise FileNotFoundError("azurite is not installed: run `npm install --no-audit --no-fund` in the checkout")
    location.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(attempts):
        port = _free_port(host)
        log = location / f"azurite-{attempt}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*command, "--blobHost", host, "--blobPort", str(port), "--location", str(location),
                 "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=location,
            )
        try:
            _wait_until_listening(proc, host, port, log)
        except RuntimeError as exc:
            _stop(proc)
            last_error = exc
            continue
        return Azurite(host=host, port=port, pid=proc.pid, location=location), proc
    raise RuntimeError(f"azurite did not start after {attempts} attempts") from last_error


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """A blob emulator for this pytest process (each xdist worker gets its own).

    Without Node and Azurite the tests that need it are skipped on a laptop, but fail in CI (``CI`` set):
    a green CI run must not silently drop every Durable, Blob, ingest and HTTP test.
    """
    if find_executable() is None:
        message = "azurite is not installed: run `npm install --no-audit --no-fund` (needs Node.js)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Azurite tests; {message}")
        pytest.skip(message)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server, proc = start(tmp_path_factory.mktemp(f"azurite-{worker}"))
    try:
        yield server
    finally:
        _stop(proc)


__all__ = ["ACCOUNT", "ACCOUNT_KEY", "Azurite", "azurite", "find_executable", "start"]
