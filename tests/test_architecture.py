"""The import graph of the app: no cycles, and every import points down the flow.

Built statically with ``ast`` from every import statement, module-level, function-level and
``TYPE_CHECKING`` alike, so that a cycle cannot hide behind a lazy or type-only import. The layers, from
the bottom: ``signals`` (the science), the foundation of ``monitoring`` (errors, names, text, settings),
``definition``, then ``schedule`` and ``storage``, ``data``, ``results``, ``alerts`` and ``dispatch``,
``run``, ``interfaces``, and last the Azure bindings in ``functions``. A module may import its own
package or any package in a lower layer; two packages in the same layer never import each other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("signals", "monitoring", "functions")

#: (package prefix, layer); the longest matching prefix gives a module's layer.
LAYERS: tuple[tuple[str, int], ...] = (
    ("signals", 0),
    ("monitoring", 1), ("monitoring.errors", 1),
    ("monitoring.names", 2), ("monitoring.text", 2), ("monitoring.settings", 2),
    ("monitoring.definition", 3),
    ("monitoring.schedule", 4), ("monitoring.storage", 4),
    ("monitoring.data", 5),
    ("monitoring.results", 6),
    ("monitoring.alerts", 7), ("monitoring.dispatch", 7),
    ("monitoring.run", 8),
    ("monitoring.interfaces", 9),
    ("monitoring.__main__", 10),
    ("functions", 11),
    ("function_app", 12),
)
#: SDKs of the Functions host that only ``functions/`` and ``function_app.py`` may import.
HOST_SDKS = ("azure.functions", "azure.durable_functions")


def _modules() -> dict[str, Path]:
    out = {"function_app": ROOT / "function_app.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path, name: str) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at function level) of every import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    function_nodes = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                      for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        lazy = id(node) in function_nodes
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, lazy
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in MODULES else base), node.lineno, lazy


def _layer(module: str) -> tuple[str, int]:
    best = max((p for p, _ in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return best, dict(LAYERS)[best]


def _internal(module: str) -> str | None:
    while module and module not in MODULES:
        module = module.rpartition(".")[0]
    return module or None


GRAPH: dict[str, set[str]] = {
    name: {t for m, _, _ in _imports(path, name) if (t := _internal(m)) is not None and t != name}
    for name, path in MODULES.items()
}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_every_package_and_their_imports() -> None:
    """Guards the test itself: an empty or unresolved graph would pass every rule below."""
    assert {"signals.registry", "monitoring.run.plan", "monitoring.definition.loader", "functions.runs"} <= set(GRAPH)
    assert "monitoring.definition.loader" in GRAPH["monitoring.run.plan"] or any(
        "monitoring.definition" in t for t in GRAPH["monitoring.run.plan"])
    assert "signals.results" in GRAPH["signals.drift"]


def test_cycle_finder_finds_a_planted_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for source, targets in sorted(GRAPH.items()):
        (own, layer) = _layer(source)
        for target in sorted(targets):
            (other, target_layer) = _layer(target)
            if not (target_layer < layer or own == other):
                wrong.append(f"{source} (layer {layer}) imports {target} ({other}, layer {target_layer})")
    assert wrong == []


def test_layer_rule_rejects_an_upward_import() -> None:
    """Guards the rule: ``signals`` importing the runner, or storage importing data, is caught."""
    assert _layer("monitoring.run.plan")[1] > _layer("signals.drift")[1]
    assert _layer("monitoring.storage.blob")[1] < _layer("monitoring.data.read")[1]
    assert _layer("monitoring.storage.blob")[0] != _layer("monitoring.schedule.windows")[0]


def test_no_function_level_import_of_our_own_modules() -> None:
    """A lazy import of our own code exists to dodge a cycle; lazy imports of third-party SDKs are fine."""
    lazy = [f"{name}:{line} imports {m}" for name, path in MODULES.items() for m, line, at_fn in _imports(path, name)
            if at_fn and _internal(m) is not None]
    assert lazy == []


def test_domain_never_imports_the_functions_host_sdks() -> None:
    """``functions -> monitoring -> signals``: the domain halves run (and test) without Azure Functions."""
    bad = [f"{name}:{line} imports {m}" for name, path in MODULES.items()
           if name.startswith(("signals", "monitoring")) for m, line, _ in _imports(path, name)
           if m.startswith(HOST_SDKS)]
    assert bad == []


def test_signals_import_nothing_but_the_science() -> None:
    bad = [f"{name}:{line} imports {m}" for name, path in MODULES.items() if name.startswith("signals")
           for m, line, _ in _imports(path, name) if m.split(".")[0] in ("monitoring", "functions", "examples")]
    assert bad == []
