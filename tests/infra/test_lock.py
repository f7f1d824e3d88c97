"""requirements.lock pins what the Functions deployment installs, within requirements.txt's ranges.

The remote build of a Flex Consumption deployment runs `pip install -r requirements.txt` (Python
developer reference, "Remote build"); requirements.txt ends with `-c requirements.lock`, a constraints
file (pip's requirements file format allows `-c` lines), so the build installs exactly the locked
versions. infra/scripts/lock-requirements.sh compiles the lock with uv.
"""

from __future__ import annotations

import fnmatch
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements.lock"
CONSTRAINT_LINE = "-c requirements.lock"
# The deployed platform: functionAppConfig.runtime python 3.11 on Flex Consumption (Linux, x86_64).
DEPLOYED: dict[str, str] = {
    **{key: str(value) for key, value in default_environment().items()},
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def _requirements(path: Path) -> list[Requirement]:
    """The requirement lines of a requirements file (comments, options and hash lines skipped)."""
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip().rstrip("\\").strip()
        if line and not line.startswith(("#", "-")):
            found.append(Requirement(line))
    return found


def _locked() -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in _requirements(LOCK)}


def _pinned_version(requirement: Requirement) -> Version:
    (spec,) = requirement.specifier
    return Version(spec.version)


def test_every_locked_package_is_pinned_exactly() -> None:
    locked = _locked()
    assert len(locked) >= 20, "requirements.lock lists too few packages"
    loose = sorted(str(r) for r in locked.values() if len(r.specifier) != 1 or next(iter(r.specifier)).operator != "==")
    assert not loose, f"requirements.lock: pin these with ==: {loose}"


def test_lock_satisfies_every_range_in_requirements_txt() -> None:
    locked = _locked()
    problems = []
    for requirement in _requirements(REPO / "requirements.txt"):
        pin = locked.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not requirement.specifier.contains(_pinned_version(pin), prereleases=True):
            problems.append(f"{pin} does not satisfy {requirement}")
    assert not problems, "re-run infra/scripts/lock-requirements.sh:\n" + "\n".join(problems)


def test_lock_is_closed_under_dependencies() -> None:
    """Every dependency (for Python 3.11 on Linux x86_64) of a locked package is locked too.

    Checked from the installed distributions' metadata where the installed version is the locked one.
    """
    locked = _locked()
    checked, missing = 0, []
    for name, pin in locked.items():
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if Version(distribution.version) != _pinned_version(pin):
            continue
        checked += 1
        for text in distribution.requires or []:
            dependency = Requirement(text)
            if dependency.marker is not None and not dependency.marker.evaluate({**DEPLOYED, "extra": ""}):
                continue
            if canonicalize_name(dependency.name) not in locked:
                missing.append(f"{dependency.name} (needed by {name})")
    assert checked >= len(locked) // 2, f"only {checked} locked packages are installed here at the locked version"
    assert not missing, f"requirements.lock lacks: {sorted(set(missing))}"


def test_the_deployed_requirements_apply_the_lock() -> None:
    """requirements.txt (what the remote build installs) constrains every install with the lock."""
    lines = [line.strip() for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    assert CONSTRAINT_LINE in lines, f"requirements.txt must contain `{CONSTRAINT_LINE}`"


def test_the_lock_is_deployed() -> None:
    """.funcignore does not exclude requirements.lock or requirements.txt from the deployment package."""
    patterns = [
        line.strip()
        for line in (REPO / ".funcignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name in ("requirements.lock", "requirements.txt"):
        excluded = False
        for pattern in patterns:
            if fnmatch.fnmatch(name, pattern.lstrip("!")):
                excluded = not pattern.startswith("!")
        assert not excluded, f".funcignore excludes {name}, which the remote build needs"
