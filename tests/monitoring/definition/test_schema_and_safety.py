"""The emitted JSON Schema accepts what the loader accepts; hostile files are one error, quickly."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from monitoring.definition import json_schema, load_bytes, load_file, load_text
from monitoring.definition.safety import MAX_DEPTH, MAX_NODES
from monitoring.errors import DefinitionError
from monitoring.interfaces.cli import main

ROOT = Path(__file__).resolve().parents[3]
YAMLS = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("tests/fixtures/**/*.yaml")])


def _plain(node: Any) -> Any:
    """The YAML document as JSON values (dates as ISO strings), as an editor's YAML language server sees it."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.datetime | dt.date):
        return node.isoformat()
    return node


def _loads(file: Path) -> bool:
    try:
        load_file(file)
    except DefinitionError:
        return False
    return True


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("file", [f for f in YAMLS if _loads(f)], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_loadable_example_and_fixture_validates_against_the_schema(
        file: Path, validator: jsonschema.Draft202012Validator) -> None:
    document = _plain(YAML(typ="safe").load(file.read_text()))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(document)]
    assert errors == []


def test_the_fixture_set_covers_examples_and_published_forms() -> None:
    names = {f.name for f in YAMLS if _loads(f)}
    assert {"fraud-monitor.yaml", "out-of-box-monitoring.yaml", "ga-feature-attribution-list.yaml",
            "honest-verdicts.yaml"} <= names


@pytest.mark.parametrize("body", [
    "create_monitor: {monitoring_signals: {s: {type: data_drift, featuers: all_features}}}",
    "create_monitor: {monitoring_signals: {s: {type: data_drfit}}}",
    "create_monitor: {monitoring_target: {ml_task: clasification}}",
])
def test_the_schema_rejects_what_the_loader_rejects(body: str, validator: jsonschema.Draft202012Validator) -> None:
    text = "name: m\ntrigger: {type: recurrence, frequency: day}\n" + body + "\n"
    with pytest.raises(DefinitionError):
        load_text(text)
    assert not validator.is_valid(YAML(typ="safe").load(text))


def _laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return ("name: m\ntrigger: {type: recurrence, frequency: day}\ncreate_monitor: {}\nunknown_key: 1\n"
            "x:\n" + "".join(f"  {line}\n" for line in lines))


def test_billion_laughs_is_one_error_naming_the_alias_line() -> None:
    with pytest.raises(DefinitionError) as info:
        load_text(_laughs(), "laughs.yaml")
    assert len(info.value.problems) == 1
    # l0 is 10 nodes, l_i is 1 + 9 * size(l_{i-1}): l4 (line 10) is the first to pass MAX_NODES in total
    sizes = [10]
    for _ in range(8):
        sizes.append(1 + 9 * sizes[-1])
    first = next(i for i in range(9) if 6 + sum(sizes[: i + 1]) + i + 1 > MAX_NODES)
    assert info.value.problems[0].startswith(f"line {6 + first}: the document stands for more than")
    assert f"*l{first - 1}" in info.value.problems[0]


def test_a_few_aliases_are_ordinary_yaml() -> None:
    text = """name: m
trigger: {type: recurrence, frequency: day}
create_monitor:
  monitoring_signals:
    a: {type: data_drift, reference_data: &ref {input_data: {path: r}, data_context: training}}
    b: {type: data_quality, reference_data: *ref}
"""
    signals = load_text(text).schedule.signals()
    assert signals["a"].reference_data == signals["b"].reference_data


@pytest.mark.parametrize("text", ["a: " + "[" * 20_000 + "]" * 20_000 + "\n", "a:\n" + "- " * 20_000 + "x\n",
                                  "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  v\n"])
def test_deep_nesting_is_one_error_with_its_line(text: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_text(text, "deep.yaml")
    assert len(info.value.problems) == 1
    assert info.value.problems[0].endswith(f"the document nests deeper than {MAX_DEPTH} levels")
    assert info.value.problems[0].startswith("line ")


@pytest.mark.parametrize(("content", "where"), [
    ("name: m\ndescription: café\n".encode("latin-1"), "byte 0xe9 at line 2, column 17"),
    (b"name: m\n\xff\xfe\x00garbage", "byte 0xff at line 2, column 1"),
])
def test_not_utf8_is_one_error_with_its_line(content: bytes, where: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_bytes(content, "bad.yaml")
    assert info.value.problems == [f"the file is not UTF-8 text: {where} cannot be decoded; save it as UTF-8"]


def test_random_bytes_through_validate_exit_2_without_traceback(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for i, content in enumerate([os.urandom(2000), "é".encode("latin-1") * 3, _laughs().encode(),
                                 ("a: " + "{b: " * 20_000 + "}" * 20_000).encode(), b"name: a\x00b\n"]):
        file = tmp_path / f"bad{i}.yaml"
        file.write_bytes(content)
        files.append(str(file))
    assert main(["validate", *files]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert out.out.count("invalid") == len(files)
