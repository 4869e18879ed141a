"""The shape of the code: no import cycles in kb/ and indexer/, and no module too long without a reason.

Every import counts, at module level or inside a function alike: a function-level ("lazy") import
is the usual way a cycle is hidden, and the two modules still cannot be understood one without the
other. Imports under `if TYPE_CHECKING:` count too. An edge goes to the module named: `from . import
x` is an edge to the submodule x when there is one, else to the package itself (whose
`__init__.py` then holds what was imported). The package a module sits in is not an edge of its
own: Python imports parents first, but that says nothing about which module needs which.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kb", "indexer")
MAX_LINES = 450
SIZE_MARK = "# Size:"


def module_name(path: Path, root: Path = ROOT) -> str:
    """Return the dotted name of a source file under root."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    """Return every Python file of the packages checked."""
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def imported_modules(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """Return the modules of the project that a file imports, anywhere in it."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # "import indexer.engine.x": the nearest module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Return each module of the packages with the project modules it imports."""
    files = source_files()
    modules = {module_name(p) for p in files}
    return {module_name(p): imported_modules(p, modules) for p in files}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return one cycle per strongly connected group of modules (Tarjan), each as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_within(graph, set(group)) for group in groups]


def _path_within(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """Return a shortest cycle through the first module of a group, e.g. [a, b, a]."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")


def test_the_cycle_finder_names_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_relative_and_lazy_imports_are_edges(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("def make():\n    from . import views\n")
    (package / "views.py").write_text("from . import helper\nfrom .model import Thing\nfrom pkg import make\n")
    (package / "model.py").write_text("import pkg.views\n")
    (package / "helper.py").write_text("")
    modules = {"pkg", "pkg.views", "pkg.model", "pkg.helper"}
    assert imported_modules(package / "__init__.py", modules, tmp_path) == {"pkg.views"}
    assert imported_modules(package / "views.py", modules, tmp_path) == {"pkg.helper", "pkg.model", "pkg"}
    assert imported_modules(package / "model.py", modules, tmp_path) == {"pkg.views"}


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles (one per group of modules that import each other): " + "; ".join(
        " -> ".join(c) for c in cycles
    )


def _size_reason(lines: list[str]) -> str:
    """Return the reason a long module gives near its top for its length, or ""."""
    return next((line for line in lines[:15] if line.startswith(SIZE_MARK) and line[len(SIZE_MARK) :].strip()), "")


@pytest.mark.parametrize("path", source_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_long_module_says_why(path):
    rel = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_LINES or _size_reason(lines), (
        f"{rel} has {len(lines)} lines: split it along its concerns, or give a '{SIZE_MARK} …' line near its top"
    )
