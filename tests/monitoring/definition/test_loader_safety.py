"""Loading a definition never constructs a Python object or runs code, whatever tags the YAML carries."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from monitoring.definition import load_text
from monitoring.errors import DefinitionError

TAGS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{marker}']]",
    "!!python/object/new:pathlib.Path ['{marker}']",
    "!!python/name:os.system",
    "!!python/module:os",
]


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("where", ["name", "trigger", "alert"])
def test_python_tags_construct_nothing_and_run_nothing(tmp_path: Path, tag: str, where: str) -> None:
    marker = tmp_path / "ran"
    value = tag.format(marker=marker)
    text = {"name": f"name: {value}\n",
            "trigger": f"name: m\ntrigger: {value}\n",
            "alert": f"name: m\ncreate_monitor:\n  alert_notification:\n    emails: [{value}]\n"}[where]
    modules = set(sys.modules)
    with pytest.raises(DefinitionError):  # a tagged value is never a valid field, whatever the loader does
        load_text(text, "hostile.yaml")
    assert not marker.exists()  # os.system / Path.touch never ran
    assert {m for m in set(sys.modules) - modules if not m.startswith("ruamel")} == set()  # nothing imported
