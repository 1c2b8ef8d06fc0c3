"""The package's layers import one way only, as sgd_utils/__init__.py lists them.

A module may import from its own layer, from the layers listed above it, and from the shared
utilities, never from a layer below it; the utilities import only each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sgd_utils"
LAYERS = ["problems", "theory", "optim", "descent", "nn", "experiments", "distributed", "viz"]
UTILITIES = {"report", "threads", "checks", "bisection"}   # usable by every layer


def layer_of(module):
    """The layer of a dotted module name under sgd_utils (``nn.train`` -> ``nn``)."""
    return module.split(".")[0]


def imported_modules(path):
    """The sgd_utils modules a source file imports, as names relative to the package."""
    relative = path.relative_to(PACKAGE).with_suffix("")
    package = list(relative.parts[:-1])          # the file's own package, relative
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:                        # relative: resolve against the file's package
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                found.add(target or (node.names[0].name if node.names else ""))
            elif node.module and node.module.startswith("sgd_utils"):
                target = node.module[len("sgd_utils"):].lstrip(".")
                found.add(target or node.names[0].name)
        elif isinstance(node, ast.Import):
            found.update(alias.name[len("sgd_utils."):] for alias in node.names
                         if alias.name.startswith("sgd_utils."))
    return {module for module in found if module}


SOURCES = sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"
                 or path.parent != PACKAGE)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path):
    own = layer_of(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    for module in imported_modules(path):
        layer = layer_of(module)
        if own in UTILITIES:
            assert layer in UTILITIES, (f"{path.name} is a utility and must not import "
                                        f"sgd_utils.{module}")
        if layer in UTILITIES:
            continue
        assert layer in LAYERS, f"{path.name} imports sgd_utils.{module}, in no layer"
        assert LAYERS.index(layer) <= LAYERS.index(own), (
            f"{path.relative_to(PACKAGE)} ({own}) imports sgd_utils.{module} ({layer}), a layer "
            "below it")


def test_every_module_is_in_a_layer_or_a_utility():
    top = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert (top | packages) - UTILITIES - set(LAYERS) == set()
