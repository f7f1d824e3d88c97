"""In CI (``CI`` set) a missing emulator, browser or scanner fails the run instead of skipping tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = '''
import pytest
from tests.azurite import azurite  # noqa: F401

def test_needs_azurite(azurite):
    pass
'''


@pytest.mark.parametrize(("ci", "outcome"), [("1", "error"), ("", "skipped")])
def test_the_azurite_fixture_fails_in_ci_and_skips_elsewhere(tmp_path: Path, ci: str, outcome: str) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {"PATH": "/nonexistent", "CI": ci, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    # no node_modules/.bin/azurite-blob and no azurite on PATH: patch the lookup to find nothing
    (tmp_path / "conftest.py").write_text("import tests.azurite as a\na.find_executable = lambda: None\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           str(tmp_path / "test_probe.py")], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120, check=False)
    assert f"1 {outcome}" in done.stdout + done.stderr, done.stdout + done.stderr
    if ci:
        assert "CI must run the Azurite tests" in done.stdout


def test_the_chromium_and_checkov_checks_fail_in_ci() -> None:
    report = (ROOT / "tests/monitoring/results/test_report.py").read_text()
    checkov = (ROOT / "tests/infra/test_checkov.py").read_text()
    for source in (report, checkov):
        assert 'os.environ.get("CI")' in source
        assert "pytest.fail(" in source
