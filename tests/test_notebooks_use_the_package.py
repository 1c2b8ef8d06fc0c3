"""The notebooks import the package instead of copying it, and the book quotes its public code.

- No notebook defines a function or class under a name the package exports: a chapter that needs
  ``gd_rate`` imports it, and one that wants another meaning picks another name.
- No notebook writes its own optimizer step loop (a loop that computes gradients and steps an
  optimizer): runs go through the package's runner (``sgd_utils.descent.run``) or training loop
  (``sgd_utils.nn.train``). Loops that feed an optimizer prescribed numbers (a constant gradient,
  a sign) to show its update rule, and oracles written out from another library's documentation
  (no ``.step``), are not optimizer step loops.
- No notebook sets BLAS threads: ``fit`` does it.
- Every ``literalinclude`` names an existing file, a public object in it (no ``_private`` part:
  the book shows teaching code, not speed-tuned internals) and anchors found inside that object.
"""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sgd_utils"
NOTEBOOKS = sorted([*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("book/*.ipynb")])
PAGES = [*NOTEBOOKS, *sorted(ROOT.glob("book/*.md"))]
STEP_CALLS = {"step", "train_step"}
GRADIENT_CALLS = {"grad", "grads", "loss_and_grads", "loss_and_grads_unchecked",
                  "per_sample_grads"}


def package_exports():
    """Public top-level functions and classes of every sgd_utils module, by name."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, (ast.FunctionDef, ast.ClassDef))
                    and not node.name.startswith("_")):
                names.add(node.name)
    return names


def code_cells(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            # IPython magics are not Python
            yield index, "\n".join(line for line in source.splitlines()
                                   if not line.lstrip().startswith(("%", "!")))


def called_names(node):
    """The names of everything called inside ``node``: ``f`` for ``f(...)`` and ``x.f(...)``."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            function = call.func
            if isinstance(function, ast.Attribute):
                yield function.attr
            elif isinstance(function, ast.Name):
                yield function.id


def defined_names(tree):
    return {node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def step_loops(tree):
    """Loops that compute a gradient and step an optimizer (or call a pure ``*_update`` rule)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While)):
            calls = set(called_names(node))
            steps = calls & STEP_CALLS or {name for name in calls if name.endswith("_update")}
            if steps and calls & GRADIENT_CALLS:
                yield node.lineno, sorted(steps | (calls & GRADIENT_CALLS))


def check_notebook(path, exports):
    """Every breach of the rules above in one notebook, as messages."""
    problems = []
    for index, source in code_cells(path):
        tree = ast.parse(source)
        for name in sorted(defined_names(tree) & exports):
            problems.append(f"cell {index} defines {name}, which the package exports: import it "
                            "(or give a different meaning a different name)")
        for line, calls in step_loops(tree):
            problems.append(f"cell {index}, line {line}: a loop of its own calls {calls}; use "
                            "sgd_utils.descent.run or sgd_utils.nn.train")
        if "blas_threads" in source:
            problems.append(f"cell {index} sets BLAS threads; fit and the runner do")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_import_the_package_instead_of_copying_it(path):
    assert check_notebook(path, package_exports()) == []


def test_the_checks_catch_a_copy_a_loop_and_threads(tmp_path):
    """The copies the package's redesign removed, put back into a notebook, are all caught."""
    cells = ['def gd_rate(lr, eigenvalues):\n    return max(abs(1 - lr * e) for e in eigenvalues)',
             "for t in range(10):\n    optimizer.step([line.grad(points[t - 2])])",
             "for step in range(3):\n    x, state = sgd_update(x, problem.grad(x), state, lr=0.1)",
             "from sgd_utils.threads import blas_threads\nwith blas_threads(1):\n    pass",
             "for _ in range(5):\n    adam.step([np.zeros(1)])   # a prescribed gradient: allowed"]
    notebook = {"cells": [{"cell_type": "code", "source": source} for source in cells]}
    path = tmp_path / "copy.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    problems = check_notebook(path, package_exports())
    assert [problem.split(" ")[1].rstrip(",") for problem in problems] == ["0", "1", "2", "3"]


# --- the book's literalincludes ------------------------------------------------------------------

INCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\n((?::[\w-]+:.*\n)*)")


def includes(path):
    """(file, options) of every literalinclude of a page, paths relative to the page."""
    if path.suffix == ".ipynb":
        notebook = json.loads(path.read_text(encoding="utf-8"))
        text = "\n".join("".join(cell["source"]) + "\n" for cell in notebook["cells"]
                         if cell["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    for match in INCLUDE.finditer(text):
        options = {key: unquoted(value)
                   for key, value in re.findall(r":([\w-]+):\s*(.*)", match.group(2))}
        yield (path.parent / match.group(1)).resolve(), options


def unquoted(value):
    """An option value as MyST passes it on: a quoted string unquoted (YAML-style)."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return ast.literal_eval(value)
    return value


def object_source(path, dotted):
    """The source of the function or class ``dotted`` (``Class.method``) of a Python file."""
    source = path.read_text(encoding="utf-8")
    body = ast.parse(source).body
    node = None
    for part in dotted.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            return None
        body = node.body
    return ast.get_source_segment(source, node)


ALL_INCLUDES = [(page, target, options) for page in PAGES for target, options in includes(page)]


def test_the_book_has_includes_to_check():
    assert len(ALL_INCLUDES) >= 20


@pytest.mark.parametrize("page, target, options", ALL_INCLUDES,
                         ids=[f"{page.name}:{options.get('pyobject', target.name)}"
                              for page, target, options in ALL_INCLUDES])
def test_every_include_resolves_to_public_code(page, target, options):
    assert target.is_file(), f"{page.name} includes {target}, which does not exist"
    text = target.read_text(encoding="utf-8")
    if "pyobject" in options:
        name = options["pyobject"]
        assert not any(part.startswith("_") for part in name.split(".")), (
            f"{page.name} shows private code {name}: quote a public, readable reference")
        text = object_source(target, name)
        assert text is not None, f"{page.name}: no {name} in {target.name}"
    for anchor in ("start-at", "start-after", "end-before", "end-at"):
        if anchor in options:
            assert options[anchor] in text, (
                f"{page.name}: {anchor} {options[anchor]!r} is not in {target.name}")
