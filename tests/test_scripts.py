"""The benchmark and study scripts import only what lawfind and moe still have: a rename in the package
must not leave a script that fails on its first line (bench_discover.py imported a private name that
the refactor of issue 18 had made public under another name)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("docs/study/*.py"), *ROOT.glob("runs/*.py")])


def _imported(path: Path) -> list[tuple[str, str]]:
    """``(module, name)`` of every ``from lawfind... import name`` / ``from moe... import name``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("lawfind", "moe"):
            out += [(node.module, a.name) for a in node.names]
    return out


def test_there_are_scripts_to_check():
    assert len(SCRIPTS) >= 10 and any(p.name == "bench_discover.py" for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_script_imports_names_that_exist(path):
    for module, name in _imported(path):
        mod = importlib.import_module(module)
        if not hasattr(mod, name):
            importlib.import_module(f"{module}.{name}")  # a submodule: raises where it does not exist
