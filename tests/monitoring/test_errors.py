"""Every exception class of the domain lives in monitoring/errors.py and derives from MonitoringError."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from monitoring import errors
from monitoring.errors import MonitoringError

ROOT = Path(__file__).resolve().parents[2]
#: Exceptions that never leave their module (each is caught there and re-raised as a MonitoringError).
INTERNAL = {"monitoring/alerts/acs.py:WaitBudgetExceeded", "monitoring/definition/safety.py:BoundExceeded"}


def _exception_classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
            and any(isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")) or b.id in ("NotFound",))
                    for b in node.bases)]


def test_exception_classes_are_defined_only_in_errors_py() -> None:
    elsewhere = [f"{path.relative_to(ROOT)}:{name}" for package in ("monitoring", "functions")
                 for path in sorted((ROOT / package).rglob("*.py")) if path.name != "errors.py"
                 for name in _exception_classes(path)]
    assert set(elsewhere) == INTERNAL


def test_every_error_derives_from_monitoring_error_and_says_what_it_is() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, MonitoringError), cls
        assert cls.__doc__, cls
        assert "\n" not in cls.__doc__.strip(), cls
    assert issubclass(MonitoringError, ValueError)


def test_the_guard_sees_a_planted_exception_class(tmp_path: Path) -> None:
    planted = tmp_path / "x.py"
    planted.write_text("class Oops(ValueError):\n    pass\nclass Fine:\n    pass\n")
    assert _exception_classes(planted) == ["Oops"]
