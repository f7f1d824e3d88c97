"""checkov over infra/: zero failed checks for the Bicep and the Terraform.

checkov lives in its own virtual environment (``.venv-infra``, from requirements-infra.txt) because it
pins many packages and bundles its own ``hcl2`` fork, which would clash with the app's and with the
python-hcl2 the parity tests use. It runs offline (``--skip-download``).

A check may be skipped only by a comment written in the template inside the resource it concerns,
``checkov:skip=<ID>:<reason>``, one per line. The tests hold every skip to that: it has a reason, and
it is still needed (checkov fails exactly the skipped checks once the skip comments are removed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
FRAMEWORKS = ("bicep", "terraform")
CHECKOV = Path(os.environ.get("CHECKOV", REPO / ".venv-infra" / "bin" / "checkov"))
INSTALL_HINT = "python3 -m venv .venv-infra && .venv-infra/bin/pip install -r requirements-infra.txt"
SKIP_COMMENT = re.compile(r"checkov:skip=(?P<id>[^:\s]*)(?P<rest>.*)")
SKIP_WITH_REASON = re.compile(r"checkov:skip=CKV2?_[A-Z]+_\d+:\S.{19,}")
TEMPLATE_SUFFIXES = (".bicep", ".tf")
MIN_RESOURCES = {"bicep": 20, "terraform": 20}


def run_checkov(directory: Path) -> dict[str, dict[str, Any]]:
    """checkov's JSON report per framework for `directory`."""
    if not CHECKOV.exists():
        message = f"checkov not found at {CHECKOV}; install it with: {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    command = [
        str(CHECKOV),
        "--directory",
        str(directory),
        "--framework",
        *FRAMEWORKS,
        "--skip-download",
        "--compact",
        "--output",
        "json",
    ]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    # Exit code 1 means "some check failed", which the tests report in detail; anything else is an error.
    assert done.returncode in (0, 1), f"checkov exited {done.returncode}:\n{done.stderr[-3000:]}"
    reports = json.loads(done.stdout)
    reports = [reports] if isinstance(reports, dict) else reports
    by_type = {report["check_type"]: report for report in reports}
    assert set(by_type) == set(FRAMEWORKS), f"checkov reported {sorted(by_type)}, expected {FRAMEWORKS}"
    return by_type


def _checks(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return report.get("results", {}).get(kind, [])


def _key(check: dict[str, Any]) -> tuple[str, str, str]:
    """One check on one resource; file paths are relative to the scanned folder."""
    return check["check_id"], check["file_path"], check["resource"]


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    return run_checkov(INFRA)


@pytest.fixture(scope="module")
def reports_without_skips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    copy = tmp_path_factory.mktemp("infra-without-skips") / "infra"
    shutil.copytree(INFRA, copy)
    for path in copy.rglob("*"):
        if path.suffix in TEMPLATE_SUFFIXES:
            kept = [
                line
                for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
                if "checkov:skip=" not in line
            ]
            path.write_text("".join(kept), encoding="utf-8")
    return run_checkov(copy)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_checkov_parses_and_scans_the_templates(reports: dict[str, dict[str, Any]], framework: str) -> None:
    summary = reports[framework]["summary"]
    assert summary["parsing_errors"] == 0, f"{framework}: checkov could not parse some files: {summary}"
    assert summary["resource_count"] >= MIN_RESOURCES[framework], f"{framework}: too few resources scanned: {summary}"
    assert summary["passed"] > 0, f"{framework}: no check passed, so none ran: {summary}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_no_failed_checks(reports: dict[str, dict[str, Any]], framework: str) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in _checks(reports[framework], "failed_checks")
    ]
    assert not failed, f"{framework}: checkov failed {len(failed)} checks:\n" + "\n".join(failed)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_skip_gives_a_reason(reports: dict[str, dict[str, Any]], framework: str) -> None:
    unexplained = [
        f"{c['check_id']} {c['resource']}"
        for c in _checks(reports[framework], "skipped_checks")
        if len(str(c.get("check_result", {}).get("suppress_comment", "")).strip()) < 20
        or c.get("check_result", {}).get("suppress_comment") == "No comment provided"
    ]
    assert not unexplained, f"{framework}: skips without a one-line reason: {unexplained}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_skip_comes_from_a_template_comment_and_is_still_needed(
    reports: dict[str, dict[str, Any]], reports_without_skips: dict[str, dict[str, Any]], framework: str
) -> None:
    """Each skipped check fails once the template's skip comments are removed.

    A skip that does not fail then is either stale (the template now passes the check; remove the
    comment) or comes from somewhere other than a template comment (configuration, command line).
    """
    skipped = {_key(c) for c in _checks(reports[framework], "skipped_checks")}
    failing = {_key(c) for c in _checks(reports_without_skips[framework], "failed_checks")}
    assert len(skipped) == reports[framework]["summary"]["skipped"], "checkov left skipped checks out of its report"
    assert skipped <= failing, (
        f"{framework}: skips that are stale or not written in a template: {sorted(skipped - failing)}"
    )


def test_skip_comments_name_one_check_and_a_reason() -> None:
    bad = []
    for path in sorted(INFRA.rglob("*")):
        if path.suffix not in TEMPLATE_SUFFIXES:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if "checkov:skip=" in line and not SKIP_WITH_REASON.search(line):
                bad.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not bad, "write skips as `checkov:skip=CKV_..._N:<one-line reason>`, one per line:\n" + "\n".join(bad)
