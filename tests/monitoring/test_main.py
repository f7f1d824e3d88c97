"""The process entry (``python -m monitoring``, ``funcmon``): the command's code and output, every exit
handler run, and no interpreter teardown after them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from monitoring import __version__
from tests.monitoring.conftest import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_a_command_exits_with_its_code_after_every_exit_handler_and_without_teardown() -> None:
    out = _python("""
        import atexit, logging, sys
        sys.argv = ["funcmon", "validate", "no-such-monitor.yaml"]
        from monitoring.__main__ import run
        handler = logging.StreamHandler(sys.stdout)
        logging.getLogger("late").addHandler(handler)
        logging.getLogger("late").warning("logged before the exit")
        atexit.register(print, "a handler registered later ran")

        class Teardown:
            def __del__(self):
                print("torn down")

        kept = Teardown()  # a module global: only a teardown of the interpreter deletes it
        sys.exit(run())
    """)
    assert out.returncode == 2, out.stderr  # EXIT_INVALID: the file does not exist
    assert "no-such-monitor.yaml" in out.stdout
    assert "logged before the exit" in out.stdout
    assert out.stdout.rstrip().endswith("a handler registered later ran")
    assert "torn down" not in out.stdout


def test_python_dash_m_monitoring_prints_the_whole_result_and_exits_with_its_code(tmp_path: Path) -> None:
    version = subprocess.run([sys.executable, "-m", "monitoring", "--version"], capture_output=True, text=True,
                             cwd=ROOT, timeout=120)
    assert version.returncode == 0
    assert version.stdout.strip().endswith(f"monitoring {__version__}")
    valid = subprocess.run([sys.executable, "-m", "monitoring", "validate", str(EXAMPLE)], capture_output=True,
                           text=True, cwd=ROOT, timeout=120)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert valid.stdout.strip()


def test_an_uncaught_error_still_unwinds_with_its_traceback() -> None:
    out = _python("""
        import sys
        sys.argv = ["funcmon", "--version"]
        import monitoring.__main__ as entry
        def broken():
            raise RuntimeError("a bug")
        entry.main = broken
        sys.exit(entry.run())
    """)
    assert out.returncode == 1
    assert "RuntimeError: a bug" in out.stderr
