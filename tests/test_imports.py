"""The package's structure: no import cycle between lawfind's modules, imports in functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import lawfind

ROOT = Path(lawfind.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ["lawfind", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The lawfind modules ``name`` imports anywhere in its body (``if TYPE_CHECKING:`` blocks included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # lawfind.laws.Law -> lawfind.laws
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    # the walk sees what it must: relative, absolute and in-function imports
    assert "lawfind.cli.common" in graph["lawfind.cli.discover"]
    assert "lawfind.catalog" in graph["lawfind.discovery"]  # imported inside a function only
    assert "lawfind.optimize.results" in graph["lawfind.optimize.optima"]
    assert "lawfind.catalog" in graph["lawfind.search.catalog"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_discovery_path_does_not_import_comparing():
    # discovery, its forms, search and report score with lawfind.metrics and split with lawfind.splits
    modules = _modules()
    path = ["lawfind.discovery", "lawfind.forms", "lawfind.search.grammar", "lawfind.report.tables",
            "lawfind.cli.common", "lawfind.selection", "lawfind.admissible"]
    importers = [m for m in path if "lawfind.compare" in _imports(m, modules[m], modules)]
    assert importers == []
    assert "lawfind.metrics" in _imports("lawfind.discovery", modules["lawfind.discovery"], modules)
    low = _imports("lawfind.metrics", modules["lawfind.metrics"], modules)
    assert low == set()  # metrics is the bottom layer: it imports nothing of lawfind


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
