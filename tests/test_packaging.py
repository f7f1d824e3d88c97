"""The package: pyproject.toml's dependencies agree with requirements.txt, and the wheel holds what an
installed ``funcmon`` needs (both packages, the templates, the demo's YAML, the console command).

The wheel is built from a copy of only the files a clone holds for it (pyproject.toml, README.md,
``monitoring/``, ``signals/``), so a module or template that only works from the checkout shows up here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def _requirements(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        out[canonicalize_name(req.name)] = str(req.specifier)
    return out


def _extra(name: str) -> list[str]:
    """The requirement lines of an extra, with ``funcmon[other]`` expanded into the other extras' lines."""
    out: list[str] = []
    for line in PROJECT["optional-dependencies"][name]:
        req = Requirement(line)
        if canonicalize_name(req.name) == canonicalize_name(PROJECT["name"]):
            out += [x for other in sorted(req.extras) for x in _extra(other)]
        else:
            out.append(line)
    return out


def _deployed_by_pyproject() -> dict[str, str]:
    """Core dependencies plus the ``functions`` extra (which pulls in ``azure``)."""
    return _requirements([*PROJECT["dependencies"], *_extra("functions")])


def test_requirements_txt_is_what_pyproject_declares_for_the_function_app() -> None:
    deployed = _requirements((ROOT / "requirements.txt").read_text().splitlines())
    assert deployed == _deployed_by_pyproject()


def test_requirements_dev_txt_covers_the_dev_extra() -> None:
    dev_lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    dev = _requirements(dev_lines)
    deployed = _deployed_by_pyproject()
    extra = {n: s for n, s in _requirements(_extra("dev")).items() if n not in deployed}
    assert extra == dev
    assert "-r requirements.txt" in dev_lines


def test_the_comparison_sees_a_drifted_bound() -> None:
    """Guards the check above: a changed lower bound is a difference."""
    assert _requirements(["polars>=1.20"]) != _requirements(["polars>=1.21"])
    assert "polars" in _deployed_by_pyproject()


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in ("monitoring", "signals"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp / "dist"), str(src)], check=True, capture_output=True)
    (wheel,) = (tmp / "dist").glob("funcmon-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_wheel(tmp_path_factory.mktemp("wheel"))


def test_wheel_holds_both_packages_templates_and_the_command(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for pkg in ("monitoring", "signals") for p in (ROOT / pkg).rglob("*.py")}
    assert sources <= names, sorted(sources - names)[:5]
    templates = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("monitoring/*/templates/*.j2")}
    assert templates
    assert templates <= names
    assert "monitoring/demo/fraud-monitor.yaml" in names
    assert not any(n.startswith(("tests/", "functions/", "examples/", "infra/", "bench/")) for n in names)
    dist_info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(dist_info).decode()
    assert "funcmon = monitoring.__main__:run" in entry_points


@pytest.mark.slow
def test_installed_wheel_gives_the_command_and_the_api(wheel: Path, tmp_path: Path) -> None:
    """Install the wheel (no dependencies: they come from this interpreter's site-packages) into a fresh
    venv, then run the console command and the Python API from a folder outside the checkout."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The shared .venv is itself a venv: its packages reach the new one through a .pth file.
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "shared-venv.pth").write_text(site + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "-q", str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    version = subprocess.run([str(env_dir / "bin" / "funcmon"), "--version"], cwd=work, env=clean_env,
                             capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"funcmon {_package_version()}"
    script = (
        "import monitoring, polars as pl, numpy as np\n"
        "from monitoring.interfaces.api import run_signal\n"
        "rng = np.random.default_rng(0)\n"
        "ref = pl.DataFrame({'x': rng.normal(0, 1, 2000)})\n"
        "prod = pl.DataFrame({'x': rng.normal(1, 1, 2000)})\n"
        "r = run_signal('data_drift', reference=ref, production=prod, "
        "metric_thresholds={'numerical': {'normalized_wasserstein_distance': 0.1}})\n"
        "print(monitoring.__file__)\n"
        "print(r.breached, len(r.report()) > 1000)\n"
    )
    out = subprocess.run([str(python), "-c", script], cwd=work, env=clean_env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0].startswith(purelib), out[0]
    assert out[1] == "True True"


def _package_version() -> str:
    import monitoring

    return monitoring.__version__
