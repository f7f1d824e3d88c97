"""The README's "Running locally with Core Tools and Azurite" steps, followed up to `apply` against a real
Azurite started from the README's own command line (on free ports instead of 10000-10002, so parallel
test workers do not collide), and the hint when Azurite refuses the SDK's API version."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.azurite import ACCOUNT, ACCOUNT_KEY, find_executable

ROOT = Path(__file__).resolve().parents[1]


def _steps() -> list[str]:
    readme = (ROOT / "docs" / "serverless.md").read_text()
    section = readme[readme.index("## Running locally with Core Tools and Azurite"):]
    block = section[section.index("```sh") + 5:section.index("```", section.index("```sh") + 5)]
    return [line.split("  #")[0].strip() for line in block.strip().splitlines()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _azurite(args: list[str], tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    executable = find_executable()
    if executable is None:
        pytest.skip("Azurite is not installed (`make test` installs it)")
    port = _free_port()
    command = [str(ROOT / "node_modules" / ".bin" / "azurite"), *args, "--blobPort", str(port), "--queuePort",
               str(_free_port()), "--tablePort", str(_free_port())]
    proc = subprocess.Popen(command, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    connection = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                  f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};")
    return proc, connection


def _documented_azurite_args(tmp: Path) -> list[str]:
    line = next(s for s in _steps() if s.startswith("npx azurite"))
    args = shlex.split(line.removeprefix("npx azurite").rstrip("&").replace('"$(mktemp -d)"', str(tmp / "az")))
    return args


@pytest.mark.azurite
@pytest.mark.slow
def test_documented_steps_reach_apply(tmp_path: Path) -> None:
    steps = _steps()
    assert any("--skipApiVersionCheck" in s for s in steps)
    (tmp_path / "az").mkdir()
    proc, connection = _azurite(_documented_azurite_args(tmp_path), tmp_path)
    try:
        env = {**os.environ, "STORAGE_CONNECTION_STRING": connection, "PYTHONPATH": str(ROOT)}
        demo = next(s for s in steps if " demo " in s)
        out = re.search(r"--out (\S+)", demo)
        assert out
        subprocess.run([sys.executable, "-m", "monitoring", "demo", "--out", out.group(1)], cwd=tmp_path, env=env,
                       capture_output=True, check=False, timeout=300)
        for step in (s for s in steps if s.startswith("sed ")):  # the documented rewrite to az:// paths
            subprocess.run(step, shell=True, cwd=tmp_path, check=True, timeout=60)
        apply = next(s for s in steps if " apply " in s)
        target = apply.split(" apply ", 1)[1].split()[0]
        result = subprocess.run([sys.executable, "-m", "monitoring", "apply", target], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "applied" in result.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)
