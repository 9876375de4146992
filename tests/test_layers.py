"""The package's layers hold: the core imports without torch, transformers or OR-Tools, every module imports only
from its own layer or a lower one, and nothing imports in a circle: neither two packages of ``jssp_sft`` nor two
modules (imports read with ``ast``, those inside functions included; ``if TYPE_CHECKING:`` blocks never run and do
not count as cycles)."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest


PACKAGE = Path(__file__).resolve().parent.parent / "jssp_sft"

# Lowest first (README, "Architecture"). A module belongs to the longest prefix listed; one that matches none fails
# the test until it is given a layer here. `jssp_sft` itself (its __init__) is the core's public face: importing any
# submodule runs it, so it sits in the lowest layer.
LAYERS = [
    ("core", ["jssp_sft", "jssp_sft.core"]),
    (
        "solvers, benchmarks, data, metrics, rewards",
        ["jssp_sft.solvers", "jssp_sft.benchmarks", "jssp_sft.data", "jssp_sft.metrics", "jssp_sft.rewards"],
    ),
    ("modeling", ["jssp_sft.modeling"]),
    ("solve", ["jssp_sft.solve"]),
    ("evaluation, training", ["jssp_sft.evaluation", "jssp_sft.training"]),
    ("entry points", ["jssp_sft.sft", "jssp_sft.grpo", "jssp_sft.quickstart", "jssp_sft.improve", "jssp_sft.serve"]),
    ("cli", ["jssp_sft.cli"]),
]
LAYER_OF_PREFIX = {prefix: rank for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes}
HEAVY = ("torch", "transformers", "ortools")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int | None:
    """The layer of ``module`` (a ``jssp_sft`` module), by the longest listed prefix; ``None`` if unlisted."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        rank = LAYER_OF_PREFIX.get(".".join(parts[:end]))
        if rank is not None and (end > 1 or module == "jssp_sft"):
            return rank
    return None


def imported_modules(module: str, path: Path, runtime_only: bool = False) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``jssp_sft`` module ``path`` imports, at any depth of the file (not those under
    ``if TYPE_CHECKING:`` when ``runtime_only``)."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    typing_only = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                typing_only.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "jssp_sft"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "jssp_sft":
                continue
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                candidate = f"{source}.{alias.name}"
                found.append((node.lineno, candidate if candidate in MODULES else source))
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """``{module: the jssp_sft modules it imports at run time}`` (a module importing itself left out)."""
    return {
        name: {target for _, target in imported_modules(name, path, runtime_only=True) if target != name}
        for name, path in modules.items()
    }


def package_of(module: str) -> str:
    """The top-level package a module belongs to (``jssp_sft.core.formats.csv_format`` -> ``jssp_sft.core``); a
    top-level module (``jssp_sft.sft``) and ``jssp_sft`` itself stand alone."""
    return ".".join(module.split(".")[:2])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` with more than one node (each holds a cycle), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph folded onto top-level packages (an import inside one package is no edge)."""
    folded: dict[str, set[str]] = {}
    for module, targets in graph.items():
        folded.setdefault(package_of(module), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(module)
        )
    return folded


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    """One cycle through ``component``, as ``a -> b -> a`` (the shortest back to its first node)."""
    inside, start = set(component), component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph.get(node, ())):
            if target == start:
                return " -> ".join(paths[node] + [start])
            if target in inside and target not in paths:
                paths[target] = paths[node] + [target]
                queue.append(target)
    raise ValueError(f"no cycle through {start}")


def test_every_module_has_a_layer():
    unlisted = [name for name in MODULES if layer_of(name) is None]
    assert not unlisted, f"give these modules a layer in tests/test_layers.py (and README's picture): {unlisted}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_to_the_same_or_a_lower_layer(module):
    rank = layer_of(module)
    if rank is None:
        pytest.fail(f"{module} has no layer")
    upward = [
        f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} imports {target} ({LAYERS[layer_of(target)][0]})"
        for line, target in imported_modules(module, MODULES[module])
        if layer_of(target) is not None and layer_of(target) > rank
    ]
    assert not upward, f"{module} is in layer {LAYERS[rank][0]!r} but " + "; ".join(upward)


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    """The reader above on a made-up core module: a relative import inside a function is found and resolved."""
    source = tmp_path / "codec.py"
    source.write_text("import json\n\ndef f():\n    from ..solve.solver import JSSPSolver\n    from . import x\n")
    found = imported_modules("jssp_sft.core.codec", source)
    assert found == [(4, "jssp_sft.solve.solver"), (5, "jssp_sft.core")]
    assert layer_of("jssp_sft.solve.solver") > layer_of("jssp_sft.core.codec") == 0


def test_the_core_imports_without_torch_transformers_or_ortools():
    """In a fresh interpreter: `jssp_sft` and every module of `jssp_sft.core` load without the heavy libraries."""
    core = sorted(name for name in MODULES if layer_of(name) == 0)
    code = (
        "import importlib, json, sys\n"
        f"for name in {core!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    assert "jssp_sft.core.codec" in core and "jssp_sft" in core


def readme_tree() -> dict[str, int]:
    """The package tree block of docs/development.md (``folder  layer  modules``, under "## Architecture"), which
    README links, as ``{module: layer}``."""
    readme = (PACKAGE.parent / "docs" / "development.md").read_text()
    section = readme[readme.index("## Architecture") :]
    block = section[section.index("\n```\njssp_sft/") + 5 :]
    block = block[: block.index("\n```")]
    tree = {}
    for line in block.splitlines():
        folder, layer, *names = line.split()
        package = folder.rstrip("/").replace("/", ".")
        for name in names:
            tree[package if name == "__init__" else f"{package}.{name}"] = int(layer) - 1
    return tree


def test_readme_tree_matches_the_package_and_its_layers():
    listed = readme_tree()
    actual = {name for name, path in MODULES.items() if path.name != "__init__.py" or name == "jssp_sft"}
    assert sorted(actual - set(listed)) == [], "modules missing from the tree in docs/development.md (Architecture)"
    assert sorted(set(listed) - actual) == [], "the tree in docs/development.md lists modules that do not exist"
    wrong = {name: layer + 1 for name, layer in listed.items() if layer_of(name) != layer}
    assert not wrong, f"docs/development.md gives these modules another layer than tests/test_layers.py: {wrong}"


def test_no_cycle_between_packages():
    modules = import_graph(MODULES)
    graph = package_graph(modules)
    found = cycles(graph)
    behind = [
        f"{a} -> {b}"
        for component in found
        for a, targets in sorted(modules.items())
        for b in sorted(targets)
        if package_of(a) in component and package_of(b) in component and package_of(a) != package_of(b)
    ]
    assert not found, "packages import each other: " + "; ".join(describe(c, graph) for c in found) + f" ({behind})"


def test_no_module_cycle():
    graph = import_graph(MODULES)
    found = cycles(graph)
    assert not found, "modules import each other: " + "; ".join(describe(c, graph) for c in found)


def plant(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    """A made-up ``jssp_sft`` tree under ``tmp_path``: ``{module: path}`` as ``MODULES`` has it."""
    modules = {}
    for name, text in files.items():
        path = tmp_path.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        modules[name] = path
    return modules


def test_the_cycle_checks_fail_on_planted_cycles(tmp_path, monkeypatch):
    """A function-level import closing a module cycle, and two packages importing each other through different
    modules, are found; a ``TYPE_CHECKING`` import and a one-way import are not cycles."""
    modules = plant(
        tmp_path,
        {
            "jssp_sft.solve.config": "from .sampling import x\n",
            "jssp_sft.solve.sampling": "def f():\n    from .config import y\n",
            "jssp_sft.training.callbacks": "from ..evaluation.baselines import z\n",
            "jssp_sft.evaluation.report": "def g():\n    from jssp_sft.training import run\n",
            "jssp_sft.training.run": "",
            "jssp_sft.evaluation.baselines": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from ..training.callbacks import C\n",
        },
    )
    monkeypatch.setattr(sys.modules[__name__], "MODULES", modules)
    graph = import_graph(modules)
    assert cycles(graph) == [["jssp_sft.solve.config", "jssp_sft.solve.sampling"]]
    assert cycles(package_graph(graph)) == [["jssp_sft.evaluation", "jssp_sft.training"]]
    assert (
        describe(cycles(graph)[0], graph)
        == "jssp_sft.solve.config -> jssp_sft.solve.sampling -> jssp_sft.solve.config"
    )
    with pytest.raises(AssertionError, match="solve.config -> jssp_sft.solve.sampling -> jssp_sft.solve.config"):
        test_no_module_cycle()
    with pytest.raises(AssertionError, match="jssp_sft.evaluation -> jssp_sft.training -> jssp_sft.evaluation"):
        test_no_cycle_between_packages()
