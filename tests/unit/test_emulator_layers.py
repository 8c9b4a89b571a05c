"""The emulator's layers, as its tree draws them: lower packages never import higher ones.

core ← network, identity ← compute ← ecs_v1, autoscaling, eip, network_api, eventgrid ←
control ← gateway ← app ← the front doors (server, client, cli). The import-linter contract
"Emulator layers" in pyproject.toml (``make lint``) is the rule; this test reads each module's
own import statements, so a crossing also fails here, with the file named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "emulator"
#: package → the emulator packages it may import (besides itself).
ALLOWED = {
    "core": set(),
    "network": {"core"},
    "identity": {"core"},
    "compute": {"core", "network", "identity"},
    "ecs_v1": {"core", "network", "identity", "compute"},
    "autoscaling": {"core", "network", "identity", "compute"},
    "eip": {"core", "network", "identity", "compute"},
    "network_api": {"core", "network", "identity", "compute"},
    "eventgrid": {"core", "network", "identity", "compute"},
    "control": {
        "core",
        "network",
        "identity",
        "compute",
        "ecs_v1",
        "autoscaling",
        "eip",
        "network_api",
        "eventgrid",
    },
}


def _imports(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _emulator_packages(path: Path) -> set[str]:
    """The emulator packages (``core``, ``compute``, ...) ``path`` imports from."""
    return {name.split(".")[1] for name in _imports(path) if name.startswith("emulator.")}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    modules = sorted((PACKAGE / layer).glob("*.py"))
    assert modules, f"emulator/{layer} is empty"
    crossing = {path.name: _emulator_packages(path) - ALLOWED[layer] - {layer} for path in modules}
    assert {name: bad for name, bad in crossing.items() if bad} == {}


def test_the_emulator_never_imports_the_function() -> None:
    importers = [
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if any(name == "function" or name.startswith("function.") for name in _imports(path))
    ]
    assert importers == []
