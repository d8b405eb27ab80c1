"""The layers import only downwards: core < nodes < apps and testing. Read from the source, so that a
lazy import inside a function counts as much as one at the top of a module."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from longflow.core.pyast import parse

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {  # folder -> (its module prefix, the prefixes it must not import)
    "engine/core": ("longflow.core", ("longflow.nodes", "longflow.apps", "longflow.testing")),
    "nodes": ("longflow.nodes", ("longflow.apps", "longflow.testing")),
}


def imports_of(path: Path, package: str) -> set[str]:
    """Absolute names of every module `path` imports, relative imports resolved against `package`."""
    names = set()
    for node in ast.walk(parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module or "")
    return names


@pytest.mark.parametrize("folder", list(LAYERS))
def test_a_layer_imports_no_layer_above_it(folder):
    package, forbidden = LAYERS[folder]
    wrong = {f"{path.name}: {name}" for path in (ROOT / folder).glob("*.py")
             for name in imports_of(path, package) if name.startswith(forbidden)}
    assert not wrong, f"{folder} imports from a layer above it: {sorted(wrong)}"


def test_nothing_imports_the_old_top_level_names():
    """Installed, the packages are longflow.*: a stray `import engine` or `from nodes` would break."""
    stray = {f"{path.relative_to(ROOT)}: {name}" for folder in ("engine", "nodes", "tests", "scripts")
             for path in (ROOT / folder).rglob("*.py")
             for name in imports_of(path, "longflow.x") if name.split(".")[0] in ("engine", "nodes")}
    assert not stray, sorted(stray)


def test_the_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ..apps.cli import main\n")
    assert "longflow.apps.cli" in imports_of(module, "longflow.core")
